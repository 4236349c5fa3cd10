package awsx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// counter is an HTTP server that answers every request with an empty 200
// and counts what it received.
type counter struct {
	*httptest.Server
	n    atomic.Int64
	mu   sync.Mutex
	seen []*http.Request
}

func newCounter(t *testing.T) *counter {
	c := &counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		c.mu.Lock()
		c.seen = append(c.seen, r.Clone(context.Background()))
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *counter) requests() []*http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Request(nil), c.seen...)
}

// eachOperation passes every API operation of an SDK client to fn, with
// a function that calls it with an empty input. It returns how many there
// are.
func eachOperation(ctx context.Context, client any, fn func(op string, call func() error)) int {
	v := reflect.ValueOf(client)
	t := v.Type()
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	n := 0
	for i := range t.NumMethod() {
		m := t.Method(i)
		mt := m.Type // receiver first
		if mt.NumIn() != 4 || !mt.IsVariadic() || mt.In(1) != ctxType || mt.In(2).Kind() != reflect.Pointer ||
			mt.NumOut() != 2 || mt.Out(1) != errType {
			continue
		}
		n++
		fn(m.Name, func() error {
			out := v.Method(i).Call([]reflect.Value{reflect.ValueOf(ctx), reflect.New(mt.In(2).Elem())})
			err, _ := out[1].Interface().(error)
			return err
		})
	}
	return n
}

// operations calls every mutating operation of an SDK client with an empty
// input, passing each name and error to fn. It returns how many operations
// the client has.
func operations(ctx context.Context, svc string, client any, fn func(op string, err error)) int {
	return eachOperation(ctx, client, func(op string, call func() error) {
		if !IsRead(svc, op) {
			fn(op, call())
		}
	})
}

// readOperations calls every read operation of an SDK client with an empty
// input; those that need no input reach the server.
func readOperations(ctx context.Context, svc string, client any) {
	eachOperation(ctx, client, func(op string, call func() error) {
		if IsRead(svc, op) {
			_ = call()
		}
	})
}

func TestReadOnlyGuardRefusesEveryMutation(t *testing.T) {
	srv := newCounter(t)
	ctx := t.Context()
	var calls []Call
	var mu sync.Mutex
	c, err := New(Options{Target: TargetSandbox, SandboxEndpoint: srv.URL, ReadOnly: true, MaxAttempts: 1,
		Observer: ObserverFunc(func(cl Call) { mu.Lock(); calls = append(calls, cl); mu.Unlock() })})
	if err != nil {
		t.Fatal(err)
	}
	s3c, _ := c.S3(ctx, "us-east-1")
	ec2c, _ := c.EC2(ctx, "us-east-1")
	asc, _ := c.AutoScaling(ctx, "us-west-2")
	cwc, _ := c.CloudWatch(ctx, "us-west-2")
	bkc, _ := c.Backup(ctx, "us-east-1")
	stc, _ := c.STS(ctx, "us-east-1")
	total, refused := 0, 0
	for _, cl := range []struct {
		name   string
		client any
	}{{"s3", s3c}, {"ec2", ec2c}, {"autoscaling", asc}, {"cloudwatch", cwc}, {"backup", bkc}, {"sts", stc}} {
		n := operations(ctx, cl.name, cl.client, func(op string, err error) {
			refused++
			var ro *ReadOnlyError
			if !errors.As(err, &ro) || !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s %s: err = %v, want a read-only refusal", cl.name, op, err)
				return
			}
			if want := "read-only: refused " + cl.name + " " + op; ro.Error() != want || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: error %q, want %q", cl.name, op, err, want)
			}
		})
		if n < 5 {
			t.Fatalf("%s: found only %d operations", cl.name, n)
		}
		total += n
	}
	if got := srv.n.Load(); got != 0 {
		t.Fatalf("the server received %d requests from refused calls", got)
	}
	if len(calls) != refused {
		t.Fatalf("observer saw %d calls, want the %d refusals", len(calls), refused)
	}
	for _, cl := range calls {
		if cl.Attempts != 0 || cl.Status != 0 || !errors.Is(cl.Err, ErrReadOnly) {
			t.Fatalf("observed refusal %+v", cl)
		}
	}
	t.Logf("%d operations, %d refused", total, refused)

	// The ones drconsole's steps make are among them.
	for _, op := range []struct{ svc, op string }{
		{"s3", "CopyObject"}, {"s3", "PutObject"}, {"s3", "DeleteObject"}, {"s3", "DeleteObjects"},
		{"s3", "UploadPartCopy"}, {"s3", "CreateMultipartUpload"}, {"s3", "CompleteMultipartUpload"},
		{"s3", "PutObjectTagging"}, {"s3", "SelectObjectContent"}, {"s3", "RestoreObject"},
		{"ec2", "CreateSnapshot"}, {"ec2", "CreateSnapshots"}, {"ec2", "CreateTags"}, {"ec2", "GetPasswordData"},
		{"autoscaling", "SetDesiredCapacity"}, {"autoscaling", "UpdateAutoScalingGroup"},
		{"cloudwatch", "PutMetricAlarm"}, {"cloudwatch", "SetAlarmState"},
		{"backup", "StartRestoreJob"}, {"backup", "StartBackupJob"},
		{"sts", "AssumeRole"}, {"sts", "GetSessionToken"}, {"sts", "GetFederationToken"},
		{"sts", "GetDelegatedAccessToken"}, {"sts", "GetWebIdentityToken"},
	} {
		if IsRead(op.svc, op.op) {
			t.Errorf("%s %s passes the guard", op.svc, op.op)
		}
	}
	for _, op := range []struct{ svc, op string }{
		{"s3", "ListObjectVersions"}, {"s3", "GetObject"}, {"s3", "HeadObject"}, {"s3", "GetBucketVersioning"},
		{"ec2", "DescribeSnapshots"}, {"autoscaling", "DescribeAutoScalingGroups"},
		{"cloudwatch", "DescribeAlarms"}, {"cloudwatch", "GetMetricData"},
		{"backup", "ListRecoveryPointsByBackupVault"}, {"backup", "GetRecoveryPointRestoreMetadata"},
		{"sts", "GetCallerIdentity"}, {"s3", "CreateSession"},
	} {
		if !IsRead(op.svc, op.op) {
			t.Errorf("%s %s is refused", op.svc, op.op)
		}
	}
	for _, op := range []string{"Listen", "Getaway", "Headquarters", "Describes"} {
		if IsRead("s3", op) {
			t.Errorf("%s passes as a read", op)
		}
	}
}

func TestReadOnlyGuardLetsReadsThrough(t *testing.T) {
	srv := newCounter(t)
	ctx := t.Context()
	c, err := New(Options{Target: TargetSandbox, SandboxEndpoint: srv.URL, ReadOnly: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	s3c, _ := c.S3(ctx, "")
	ec2c, _ := c.EC2(ctx, "")
	asc, _ := c.AutoScaling(ctx, "")
	cwc, _ := c.CloudWatch(ctx, "")
	bkc, _ := c.Backup(ctx, "")
	stc, _ := c.STS(ctx, "")
	reads := []func() error{
		func() error {
			_, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("b")})
			return err
		},
		func() error {
			_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			return err
		},
		func() error { _, err := ec2c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); return err },
		func() error {
			_, err := asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		},
		func() error { _, err := cwc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); return err },
		func() error { _, err := bkc.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); return err },
		func() error { _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
	}
	for i, read := range reads {
		if err := read(); errors.Is(err, ErrReadOnly) {
			t.Fatalf("read %d refused: %v", i, err)
		}
		if got := srv.n.Load(); got != int64(i+1) {
			t.Fatalf("after read %d the server saw %d requests", i, got)
		}
	}
	// The same clients made writable send what the guard refused.
	rw, err := New(Options{Target: TargetSandbox, SandboxEndpoint: srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	s3w, _ := rw.S3(ctx, "")
	before := srv.n.Load()
	_, err = s3w.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if errors.Is(err, ErrReadOnly) || srv.n.Load() != before+1 {
		t.Fatalf("writable client: err %v, %d requests", err, srv.n.Load()-before)
	}
	ro := rw.AsReadOnly()
	s3r, _ := ro.S3(ctx, "")
	if _, err := s3r.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("AsReadOnly: err = %v", err)
	}
	if !ro.ReadOnly() || rw.ReadOnly() {
		t.Fatal("AsReadOnly changed the original")
	}

	// The guard added again, and a second observer, on a client built from
	// the read-only config.
	cfg, err := ro.Config(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var seen []Call
	s3x := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, ReadOnlyAPIOption, ObserveAPIOption(ObserverFunc(func(c Call) { seen = append(seen, c) }), "us-east-1"))
	})
	_, err = s3x.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if !errors.Is(err, ErrReadOnly) || len(seen) != 1 || !errors.Is(seen[0].Err, ErrReadOnly) {
		t.Fatalf("client built from the config: err %v, observed %v", err, seen)
	}
}

// TestFromConfigKeepsTheGuard: clients made from a caller's configuration
// still refuse writes when read-only.
func TestFromConfigKeepsTheGuard(t *testing.T) {
	c := FromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}).AsReadOnly()
	s3c, err := c.S3(context.Background(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s3c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String("b")})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("DeleteBucket on read-only clients from a config: %v", err)
	}
}
