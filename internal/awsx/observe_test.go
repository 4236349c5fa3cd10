package awsx

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The API log shows the console's parameters, and those declared through
// Options.LoggedParams; a declared field that carries a token, secret or
// payload stays hidden.
func TestObservedParams(t *testing.T) {
	srv := newCounter(t)
	ctx := t.Context()
	observe := func(declared ...string) map[string]string {
		t.Helper()
		var seen []Call
		c, err := New(Options{Target: TargetSandbox, SandboxEndpoint: srv.URL, ReadOnly: true, MaxAttempts: 1,
			LoggedParams: declared, Observer: ObserverFunc(func(cl Call) { seen = append(seen, cl) })})
		if err != nil {
			t.Fatal(err)
		}
		asc, err := c.AutoScaling(ctx, "us-west-2")
		if err != nil {
			t.Fatal(err)
		}
		_, err = asc.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String("ai-inference-dr"), DesiredCapacity: aws.Int32(4)})
		if !errors.Is(err, ErrReadOnly) || len(seen) != 1 {
			t.Fatalf("update: err %v, observed %v", err, seen)
		}
		return seen[0].Params
	}
	if got := observe(); len(got) != 0 {
		t.Errorf("undeclared parameters shown: %v", got)
	}
	got := observe("AutoScalingGroupName", "DesiredCapacity")
	if want := map[string]string{"AutoScalingGroupName": "ai-inference-dr", "DesiredCapacity": "4"}; !maps.Equal(got, want) {
		t.Errorf("declared parameters shown as %v, want %v", got, want)
	}

	logged := loggedParams([]string{"SessionToken", "SecretAccessKey", "Body", "Policy", "SSECustomerKey", "Metadata", "RestoreJobId"})
	for _, hidden := range []string{"SessionToken", "SecretAccessKey", "Body", "Policy", "SSECustomerKey", "Metadata"} {
		if logged[hidden] {
			t.Errorf("%s is logged", hidden)
		}
	}
	if !logged["RestoreJobId"] || !logged["Bucket"] {
		t.Errorf("logged: %v", slices.Sorted(maps.Keys(logged)))
	}
	if p := params(&sts.AssumeRoleInput{RoleArn: aws.String("arn"), TokenCode: aws.String("123456"), SerialNumber: aws.String("mfa")},
		loggedParams([]string{"TokenCode"})); len(p) != 0 {
		t.Errorf("assume role shown as %v", p)
	}
}

// A source that could not be configured says why.
func TestUnavailable(t *testing.T) {
	why := errors.New("no profile prod")
	u := Unavailable(why)
	if _, err := u.S3(context.Background(), "us-east-1"); !errors.Is(err, why) {
		t.Errorf("s3: %v", err)
	}
	if _, err := u.STS(context.Background(), "us-east-1"); !errors.Is(err, why) {
		t.Errorf("sts: %v", err)
	}
}
