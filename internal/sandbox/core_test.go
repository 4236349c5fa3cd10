package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

func TestSTSCallerIdentity(t *testing.T) {
	e := start(t, sandbox.Options{Empty: true})
	id := must(sts.NewFromConfig(e.cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))(t)
	if *id.Account != "123456789012" || *id.Arn != "arn:aws:iam::123456789012:user/sandbox" || *id.UserId == "" {
		t.Fatalf("identity: %s %s %s", *id.Account, *id.Arn, *id.UserId)
	}
	other := e.cfg.Copy()
	other.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHERUSER0000000", "x", "")
	id2 := must(sts.NewFromConfig(other).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))(t)
	if *id2.Arn == *id.Arn {
		t.Fatal("another access key maps to the same user")
	}
}

// efsGet signs a GET to the EFS REST API (the pinned SDK has no EFS client).
func efsGet(t *testing.T, e *env, path string) (int, map[string]any) {
	t.Helper()
	resp, body := signedDo(t, e, http.MethodGet, "elasticfilesystem", path, "")
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestEFSDescribeFileSystems(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 5, StrictAuth: true})
	code, out := efsGet(t, e, "/2015-02-01/file-systems")
	fss, _ := out["FileSystems"].([]any)
	if code != 200 || len(fss) != 1 {
		t.Fatalf("DescribeFileSystems: %d %v", code, out)
	}
	fs := fss[0].(map[string]any)
	if fs["Name"] != sandbox.DefaultNames().PipelineFS || !strings.HasPrefix(fs["FileSystemId"].(string), "fs-") {
		t.Fatalf("file system: %v", fs)
	}
	code, out = efsGet(t, e, "/2015-02-01/file-systems?FileSystemId="+fs["FileSystemId"].(string))
	if code != 200 || len(out["FileSystems"].([]any)) != 1 {
		t.Fatalf("by id: %d %v", code, out)
	}
	code, out = efsGet(t, e, "/2015-02-01/file-systems?FileSystemId=fs-0123456789abcdef0")
	if code != 404 || out["ErrorCode"] != "FileSystemNotFound" {
		t.Fatalf("unknown id: %d %v", code, out)
	}
}

func TestStrictAuth(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 5, StrictAuth: true, AccessKeyID: "AKIASTRICT0000000001", SecretAccessKey: "strict-secret"})
	// The right key works for every protocol, including S3's checksummed
	// aws-chunked uploads and presigned URLs.
	must(ec2.NewFromConfig(e.cfg).DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t)
	must(autoscaling.NewFromConfig(e.cfg).DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{}))(t)
	must(cloudwatch.NewFromConfig(e.cfg).DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{}))(t)
	must(backup.NewFromConfig(e.cfg).ListRecoveryPointsByResource(e.ctx, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket)}))(t)
	must(sts.NewFromConfig(e.cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))(t)
	s3c := e.s3(e.cfg)
	must(s3c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/a b+c.bin"), Body: strings.NewReader("payload")}))(t)
	must(s3c.ListObjectVersions(e.ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Prefix: aws.String("models/a b"), MaxKeys: aws.Int32(5)}))(t)
	pre := must(s3.NewPresignClient(s3c).PresignGetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/a b+c.bin")}))(t)
	if resp, body := httpGet(t, pre.URL); resp.StatusCode != 200 || body != "payload" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	wrong := e.noRetry()
	wrong.Credentials = credentials.NewStaticCredentialsProvider("AKIASTRICT0000000001", "not-the-secret", "")
	_, err := ec2.NewFromConfig(wrong).DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = cloudwatch.NewFromConfig(wrong).DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = backup.NewFromConfig(wrong).ListBackupVaults(e.ctx, &backup.ListBackupVaultsInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = e.s3(wrong).PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, err, "SignatureDoesNotMatch", 403)

	unknown := e.noRetry()
	unknown.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWN000000000", "strict-secret", "")
	_, err = sts.NewFromConfig(unknown).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)
	_, err = autoscaling.NewFromConfig(unknown).DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)
	_, err = e.s3(unknown).ListBuckets(e.ctx, &s3.ListBucketsInput{})
	wantCode(t, err, "InvalidAccessKeyId", 403)
}

func TestFaultsThroughTheSDK(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 9})
	one := e.noRetry()
	ctx := e.ctx
	calls := map[string]func(aws.Config) error{
		"ec2": func(c aws.Config) error {
			_, err := ec2.NewFromConfig(c).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
			return err
		},
		"autoscaling": func(c aws.Config) error {
			_, err := autoscaling.NewFromConfig(c).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		},
		"monitoring": func(c aws.Config) error {
			_, err := cloudwatch.NewFromConfig(c).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		},
		"backup": func(c aws.Config) error {
			_, err := backup.NewFromConfig(c).ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
			return err
		},
		"sts": func(c aws.Config) error {
			_, err := sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		},
		"s3": func(c aws.Config) error {
			_, err := e.s3(c).ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), MaxKeys: aws.Int32(10)})
			return err
		},
	}
	cases := []struct {
		kind   sandbox.FaultKind
		codes  map[string]string
		status map[string]int
	}{
		{sandbox.FaultThrottle,
			map[string]string{"ec2": "RequestLimitExceeded", "autoscaling": "Throttling", "monitoring": "Throttling", "backup": "ThrottlingException", "sts": "Throttling", "s3": "SlowDown"},
			map[string]int{"ec2": 503, "autoscaling": 400, "monitoring": 400, "backup": 400, "sts": 400, "s3": 503}},
		{sandbox.FaultError5xx,
			map[string]string{"ec2": "InternalError", "autoscaling": "InternalFailure", "monitoring": "InternalFailure", "backup": "ServiceUnavailableException", "sts": "InternalFailure", "s3": "InternalError"},
			map[string]int{"ec2": 500, "autoscaling": 500, "monitoring": 500, "backup": 500, "sts": 500, "s3": 500}},
	}
	services := []string{"autoscaling", "backup", "ec2", "monitoring", "s3", "sts"}
	patient := e.cfg.Copy()
	patient.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(fastRetryer(), 10) }
	for _, tc := range cases {
		for _, svc := range services {
			call := calls[svc]
			t.Run(string(tc.kind)+"/"+svc, func(t *testing.T) {
				e.srv.SetFaults([]sandbox.Fault{{Kind: tc.kind, Service: svc}})
				wantCode(t, call(one), tc.codes[svc], tc.status[svc])
				// Half the requests fail: the standard retryer gets through.
				e.srv.SetFaults([]sandbox.Fault{{Kind: tc.kind, Service: svc, Rate: 0.5}})
				before := len(e.srv.Requests())
				for failed := 0; failed == 0; {
					if err := call(patient); err != nil {
						t.Fatalf("with retries: %v", err)
					}
					for _, r := range e.srv.Requests()[before:] {
						if r.Status >= 400 {
							failed++
						}
					}
					if len(e.srv.Requests())-before > 40 {
						t.Fatal("no request failed at rate 0.5")
					}
				}
			})
		}
	}
	e.srv.SetFaults(nil)

	t.Run("outage", func(t *testing.T) {
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultOutage, Region: "us-east-1"}})
		defer e.srv.SetFaults(nil)
		_, err := ec2.NewFromConfig(one).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		wantCode(t, err, "Unavailable", 503)
		_, err = e.s3(one).ListBuckets(ctx, &s3.ListBucketsInput{})
		wantCode(t, err, "ServiceUnavailable", 503)
		_, err = cloudwatch.NewFromConfig(e.cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		wantCode(t, err, "ServiceUnavailable", 503)
		must(autoscaling.NewFromConfig(e.region("us-west-2")).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}))(t)
	})

	t.Run("latency", func(t *testing.T) {
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultLatency, Service: "sts", Latency: 40 * time.Millisecond}})
		defer e.srv.SetFaults(nil)
		began := time.Now()
		must(sts.NewFromConfig(e.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
		if d := time.Since(began); d < 40*time.Millisecond {
			t.Fatalf("call took %v with 40ms of injected latency", d)
		}
		recs := e.srv.Requests()
		if last := recs[len(recs)-1]; last.Latency < 40*time.Millisecond {
			t.Fatalf("request log latency %v", last.Latency)
		}
	})

	t.Run("drop", func(t *testing.T) {
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "ec2", Operation: "CreateSnapshot"}})
		defer e.srv.SetFaults(nil)
		c := ec2.NewFromConfig(one)
		vols := must(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
		_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vols[0].VolumeId,
			TagSpecifications: tagSpec("snapshot", "attempt", "dropped")})
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("dropped connection: got %v, want a transport error", err)
		}
		// The operation was applied before the connection dropped.
		got := must(c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: ec2Filter("tag:attempt", "dropped")}))(t)
		if len(got.Snapshots) != 1 {
			t.Fatalf("%d snapshots after a dropped CreateSnapshot, want 1", len(got.Snapshots))
		}
		var dropped []sandbox.RequestRecord
		for _, r := range e.srv.Requests() {
			if r.Operation == "CreateSnapshot" {
				dropped = append(dropped, r)
			}
		}
		if len(dropped) != 1 || dropped[0].Status != 0 || !dropped[0].Mutating {
			t.Fatalf("request log for a dropped call: %+v", dropped)
		}
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "ec2", Operation: "DescribeVolumes", Rate: 0.5}})
		must(ec2.NewFromConfig(e.cfg).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}))(t)
	})

	t.Run("every", func(t *testing.T) {
		// Every third write to S3 fails; reads are not counted.
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultError5xx, Service: "s3", Writes: true, Every: 3}})
		defer e.srv.SetFaults(nil)
		c := e.s3(e.noRetry())
		must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("every-third")}))(t)
		var got []bool
		for i := range 7 {
			must(c.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("every-third"), Key: aws.String(fmt.Sprint(i)), Body: strings.NewReader("x")})
			got = append(got, err != nil)
		}
		// The bucket was the first write: the third and sixth are puts 1 and 4.
		if want := []bool{false, true, false, false, true, false, false}; !slices.Equal(got, want) {
			t.Fatalf("failed puts %v, want %v", got, want)
		}
	})

	t.Run("window", func(t *testing.T) {
		e.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultThrottle, Service: "sts", From: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}})
		defer e.srv.SetFaults(nil)
		must(sts.NewFromConfig(one).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
		e.advance(time.Hour)
		_, err := sts.NewFromConfig(one).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "Throttling", 400)
		e.advance(time.Hour)
		must(sts.NewFromConfig(one).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	})
}

func TestFaultsAreDeterministic(t *testing.T) {
	run := func() []int {
		e := start(t, sandbox.Options{Empty: true, Seed: 42, Faults: []sandbox.Fault{{Kind: sandbox.FaultThrottle, Rate: 0.3}}})
		c := sts.NewFromConfig(e.noRetry())
		for i := 0; i < 30; i++ {
			c.GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}) //nolint:errcheck // the statuses are compared below.
		}
		var out []int
		for _, r := range e.srv.Requests() {
			out = append(out, r.Status)
		}
		return out
	}
	a, b := run(), run()
	if len(a) != 30 || !equalInts(a, b) {
		t.Fatalf("two runs with the same seed differ:\n%v\n%v", a, b)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRequestLogMutatingFlags(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 1})
	c := ec2.NewFromConfig(e.cfg)
	vols := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
	must(c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vols[0].VolumeId}))(t)
	must(cloudwatch.NewFromConfig(e.cfg).DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{}))(t)
	must(cloudwatch.NewFromConfig(e.cfg).SetAlarmState(e.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(sandbox.DefaultNames().Alarm5xx),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("drill")}))(t)
	must(backup.NewFromConfig(e.cfg).ListBackupVaults(e.ctx, &backup.ListBackupVaultsInput{}))(t)
	must(e.s3(e.cfg).PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("k"), Body: strings.NewReader("v")}))(t)
	must(e.s3(e.cfg).HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("k")}))(t)
	want := []struct {
		svc, op  string
		mutating bool
	}{
		{"ec2", "DescribeVolumes", false}, {"ec2", "CreateSnapshot", true},
		{"monitoring", "DescribeAlarms", false}, {"monitoring", "SetAlarmState", true},
		{"backup", "ListBackupVaults", false}, {"s3", "PutObject", true}, {"s3", "HeadObject", false},
	}
	recs := e.srv.Requests()
	if len(recs) != len(want) {
		t.Fatalf("%d requests logged, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Service != w.svc || r.Operation != w.op || r.Mutating != w.mutating || r.Status != 200 || r.Region != "us-east-1" || r.RequestID == "" {
			t.Errorf("request %d: %+v, want %s %s mutating=%v", i, r, w.svc, w.op, w.mutating)
		}
	}
	resp, body := e.admin(http.MethodGet, "requests?mutating=true", "")
	var mut []sandbox.RequestRecord
	if err := json.Unmarshal([]byte(body), &mut); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin requests: %d %v", resp.StatusCode, err)
	}
	if len(mut) != 3 {
		t.Fatalf("%d mutating requests through the admin endpoint, want 3", len(mut))
	}
}

func TestAdminEndpoint(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 1})
	resp, body := e.admin(http.MethodPut, "faults", `[{"kind":"latency","latency":"5ms","service":"s3"},{"kind":"outage","region":"us-west-2"}]`)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT faults: %d %s", resp.StatusCode, body)
	}
	fs := e.srv.Faults()
	if len(fs) != 2 || fs[0].Latency != 5*time.Millisecond || fs[1].Kind != sandbox.FaultOutage {
		t.Fatalf("faults after PUT: %+v", fs)
	}
	if _, body := e.admin(http.MethodGet, "faults", ""); !strings.Contains(body, `"latency": "5ms"`) {
		t.Fatalf("GET faults: %s", body)
	}
	if resp, _ := e.admin(http.MethodPut, "faults", `[{"kind":"meteor"}]`); resp.StatusCode != 400 {
		t.Fatalf("bad fault accepted: %d", resp.StatusCode)
	}
	if resp, body := e.admin(http.MethodPut, "faults", `["throttle:0.5,service=ec2"]`); resp.StatusCode != 200 {
		t.Fatalf("fault in flag syntax: %d %s", resp.StatusCode, body)
	}
	if fs := e.srv.Faults(); len(fs) != 1 || fs[0].Rate != 0.5 || fs[0].Service != "ec2" {
		t.Fatalf("faults from flag syntax: %+v", fs)
	}
	resp, body = e.admin(http.MethodPost, "clock/advance?by=90s", "")
	if resp.StatusCode != 200 || !e.srv.Now().Equal(t0.Add(90*time.Second)) {
		t.Fatalf("clock advance: %d %s, now %v", resp.StatusCode, body, e.srv.Now())
	}
	if resp, _ := e.admin(http.MethodPost, "clock/advance", `{"by":"-1m"}`); resp.StatusCode != 400 {
		t.Fatal("the clock moved backwards")
	}
	_, body = e.admin(http.MethodGet, "estate", "")
	var est sandbox.EstateSummary
	if err := json.Unmarshal([]byte(body), &est); err != nil {
		t.Fatal(err)
	}
	if est.Volumes != 4 || est.FileSystems != 1 || est.Instances["us-east-1/"+sandbox.DefaultNames().PrimaryGroup] != 4 || len(est.Vaults) != 2 {
		t.Fatalf("estate: %+v", est)
	}
	if resp, _ := e.admin(http.MethodGet, "nothing", ""); resp.StatusCode != 404 {
		t.Fatalf("unknown admin path: %d", resp.StatusCode)
	}
}

// TestAdminEndpointRefusesPages sends the requests a web page the
// operator has open could make, and some a stray program could: none
// moves the clock or touches the faults, strict auth or not; only the
// token with JSON does.
func TestAdminEndpointRefusesPages(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			e := start(t, sandbox.Options{Seed: 1, StrictAuth: strict})
			port := e.srv.URL()[strings.LastIndex(e.srv.URL(), ":")+1:]
			token := "Bearer " + e.srv.AdminToken()
			jsonCT := "application/json"
			cases := []struct {
				name   string
				method string
				path   string
				body   string
				h      map[string]string
				host   string // Host header; empty: the sandbox's own address
				sign   bool   // SigV4-signed with the sandbox's credentials
				want   int
			}{
				{name: "no token", method: "POST", path: "clock/advance?by=720h", h: map[string]string{"Content-Type": jsonCT}, want: 401},
				{name: "no token, GET", method: "GET", path: "faults", want: 401},
				{name: "wrong token", method: "PUT", path: "faults", body: `["outage:us-east-1"]`,
					h: map[string]string{"Authorization": "Bearer " + strings.Repeat("0", 32), "Content-Type": jsonCT}, want: 401},
				{name: "token without Bearer", method: "GET", path: "faults", h: map[string]string{"Authorization": e.srv.AdminToken()}, want: 401},
				{name: "SigV4 credentials without the token", method: "POST", path: "clock/advance?by=720h", sign: true, want: 401},
				{name: "foreign Origin, with the token", method: "POST", path: "clock/advance?by=720h",
					h: map[string]string{"Authorization": token, "Content-Type": jsonCT, "Origin": "https://evil.example"}, want: 403},
				{name: "sandboxed page's null Origin", method: "GET", path: "requests",
					h: map[string]string{"Authorization": token, "Origin": "null"}, want: 403},
				{name: "same-origin page (a bucket's HTML)", method: "GET", path: "requests",
					h: map[string]string{"Authorization": token, "Sec-Fetch-Site": "same-origin"}, want: 403},
				{name: "DNS rebinding Host", method: "PUT", path: "faults", body: `["outage:us-east-1"]`, host: "rebind.evil.example:" + port,
					h: map[string]string{"Authorization": token, "Content-Type": jsonCT}, want: 403},
				{name: "Host on another port", method: "GET", path: "faults", host: "127.0.0.1:1",
					h: map[string]string{"Authorization": token}, want: 403},
				{name: "text/plain body", method: "POST", path: "clock/advance", body: `{"by":"720h"}`,
					h: map[string]string{"Authorization": token, "Content-Type": "text/plain"}, want: 415},
				{name: "form body", method: "PUT", path: "faults", body: `x=["outage:us-east-1"]`,
					h: map[string]string{"Authorization": token, "Content-Type": "application/x-www-form-urlencoded"}, want: 415},
				{name: "POST without a content type", method: "POST", path: "clock/advance?by=720h",
					h: map[string]string{"Authorization": token}, want: 415},
				{name: "the token with JSON", method: "GET", path: "faults", h: map[string]string{"Authorization": token}, want: 200},
				{name: "localhost is the sandbox's name", method: "GET", path: "clock", host: "localhost:" + port,
					h: map[string]string{"Authorization": token}, want: 200},
				{name: "typed into the address bar", method: "GET", path: "clock",
					h: map[string]string{"Authorization": token, "Sec-Fetch-Site": "none"}, want: 200},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var status int
					var body string
					if c.sign {
						resp, b := signedDo(t, e, c.method, "s3", "/_sandbox/"+c.path, c.body)
						status, body = resp.StatusCode, string(b)
					} else {
						req, err := http.NewRequest(c.method, e.srv.URL()+"/_sandbox/"+c.path, strings.NewReader(c.body))
						if err != nil {
							t.Fatal(err)
						}
						for k, v := range c.h {
							req.Header.Set(k, v)
						}
						if c.host != "" {
							req.Host = c.host
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						status, body = resp.StatusCode, string(b)
						if resp.Header.Get("Content-Type") != "application/json" {
							t.Errorf("answered %s, want JSON", resp.Header.Get("Content-Type"))
						}
						if status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
							t.Error("401 without WWW-Authenticate")
						}
					}
					if status != c.want {
						t.Fatalf("status %d, want %d: %s", status, c.want, body)
					}
					if c.want != 200 && !strings.Contains(body, `"error"`) {
						t.Errorf("refusal without an error: %s", body)
					}
					if strings.Contains(body, e.srv.AdminToken()) {
						t.Errorf("the answer shows the token: %s", body)
					}
					if !e.srv.Now().Equal(t0) || len(e.srv.Faults()) != 0 {
						t.Fatalf("refused or read-only request changed the sandbox: now %v, faults %v", e.srv.Now(), e.srv.Faults())
					}
				})
			}
			// The good request moves the clock, and a page's does not.
			if resp, body := e.admin(http.MethodPost, "clock/advance?by=1h", ""); resp.StatusCode != 200 || !e.srv.Now().Equal(t0.Add(time.Hour)) {
				t.Fatalf("advance with the token: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// An admin token must be long enough not to be guessed, and fit a header.
func TestAdminTokenOption(t *testing.T) {
	a, b := must(sandbox.New(sandbox.Options{Empty: true}))(t), must(sandbox.New(sandbox.Options{Empty: true}))(t)
	if len(a.AdminToken()) < 32 || a.AdminToken() == b.AdminToken() {
		t.Fatalf("drawn tokens %q and %q", a.AdminToken(), b.AdminToken())
	}
	chosen := "chosen-token-0123456789"
	if s := must(sandbox.New(sandbox.Options{Empty: true, AdminToken: chosen}))(t); s.AdminToken() != chosen || s.Options().AdminToken != chosen {
		t.Fatalf("chosen token: %q", s.AdminToken())
	}
	for _, bad := range []string{"short", strings.Repeat("x", 20) + " y", strings.Repeat("é", 20), strings.Repeat("a", 300)} {
		if _, err := sandbox.New(sandbox.Options{Empty: true, AdminToken: bad}); err == nil || !strings.Contains(err.Error(), "admin token") {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	o := sandbox.Options{Seed: 11, DataDir: dir, Clock: fixedClock}
	srv1, cfg1 := sandboxtest.Start(t, o)
	ctx := context.Background()
	dr := cfg1.Copy()
	dr.Region = "us-west-2"
	must(autoscaling.NewFromConfig(dr).SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), DesiredCapacity: aws.Int32(2)}))(t)
	c1 := ec2.NewFromConfig(cfg1)
	vols := must(c1.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
	snap := must(c1.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vols[0].VolumeId}))(t)
	must(backup.NewFromConfig(cfg1).CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("kept")}))(t)
	s31 := s3.NewFromConfig(cfg1, func(o *s3.Options) { o.UsePathStyle = true })
	must(s31.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/persisted.bin"), Body: strings.NewReader("kept")}))(t)
	// A backup holds its content even when the version it copied is
	// deleted for good afterwards, across a restart too.
	gone := must(s31.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/purged.bin"), Body: strings.NewReader("only in the backup")}))(t)
	bj := must(backup.NewFromConfig(cfg1).StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: aws.String(sandbox.DefaultNames().BackupVault),
		IamRoleArn: aws.String(role), ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket)}))(t)
	must(s31.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/purged.bin"), VersionId: gone.VersionId}))(t)
	if _, err := srv1.AdvanceClock(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := srv1.Close(); err != nil {
		t.Fatal(err)
	}

	srv2, cfg2 := sandboxtest.Start(t, sandbox.Options{Seed: 999, DataDir: dir, Clock: fixedClock})
	if now := srv2.Now(); !now.Equal(t0.Add(time.Hour)) {
		t.Fatalf("clock after restart: %v, want the advanced %v", now, t0.Add(time.Hour))
	}
	dr2 := cfg2.Copy()
	dr2.Region = "us-west-2"
	g := must(autoscaling.NewFromConfig(dr2).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{sandbox.DefaultNames().DRGroup}}))(t)
	if *g.AutoScalingGroups[0].DesiredCapacity != 2 || len(g.AutoScalingGroups[0].Instances) != 2 {
		t.Fatalf("DR group after restart: desired %d, %d instances", *g.AutoScalingGroups[0].DesiredCapacity, len(g.AutoScalingGroups[0].Instances))
	}
	c2 := ec2.NewFromConfig(cfg2)
	must(c2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{*snap.SnapshotId}}))(t)
	if n := len(must(c2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}))(t).Volumes); n != len(vols) {
		t.Fatalf("%d volumes after restart, want %d (no reseeding)", n, len(vols))
	}
	must(backup.NewFromConfig(cfg2).DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("kept")}))(t)
	obj := must(s3.NewFromConfig(cfg2, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/persisted.bin")}))(t)
	var b bytes.Buffer
	b.ReadFrom(obj.Body) //nolint:errcheck // compared below.
	if b.String() != "kept" {
		t.Fatalf("object after restart: %q", b.String())
	}
	if _, err := srv2.AdvanceClock(3 * time.Minute); err != nil {
		t.Fatal(err)
	}
	bk := backup.NewFromConfig(cfg2)
	rj := must(bk.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: bj.RecoveryPointArn, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"DestinationBucketName": "after-restart"}}))(t)
	if _, err := srv2.AdvanceClock(3 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := must(bk.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: rj.RestoreJobId}))(t); d.Status != "COMPLETED" {
		t.Fatalf("restore after restart: %s %v", d.Status, d.StatusMessage)
	}
	must(s3.NewFromConfig(cfg2, func(o *s3.Options) { o.UsePathStyle = true }).HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String("after-restart"), Key: aws.String("models/purged.bin")}))(t)
}

// TestReplicationAgreesThreeWays checks that replication lag looks the same
// through the object's replication status, the DR bucket's contents and
// CloudWatch's AWS/S3 replication metrics.
func TestReplicationAgreesThreeWays(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 6, ReplicationLag: 30 * time.Second})
	// Let the seeded history finish replicating first.
	e.advance(time.Minute)
	src := e.s3(e.cfg)
	dst := e.s3(e.region("us-west-2"))
	cw := cloudwatch.NewFromConfig(e.cfg)
	metric := func(name string) float64 {
		t.Helper()
		now := e.srv.Now()
		out := must(cw.GetMetricData(e.ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/S3"), MetricName: aws.String(name), Dimensions: []cwtypes.Dimension{
					{Name: aws.String("SourceBucket"), Value: aws.String(sandbox.DefaultNames().ModelBucket)},
					{Name: aws.String("DestinationBucket"), Value: aws.String(sandbox.DefaultNames().ReplicaBucket)},
					{Name: aws.String("RuleId"), Value: aws.String(sandbox.DefaultNames().ReplicationRule)}}}}}}}))(t)
		if len(out.MetricDataResults) != 1 || len(out.MetricDataResults[0].Values) != 1 {
			t.Fatalf("%s: %+v", name, out.MetricDataResults)
		}
		return out.MetricDataResults[0].Values[0]
	}
	if p := metric("OperationsPendingReplication"); p != 0 {
		t.Fatalf("%v operations pending before the write", p)
	}
	body := []byte("weights v2")
	key := aws.String("models/llama-ft/model.safetensors")
	must(src.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: key, Body: bytes.NewReader(body)}))(t)
	e.advance(10 * time.Second)

	h := must(src.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: key}))(t)
	replica := must(dst.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(sandbox.DefaultNames().ReplicaBucket), Key: key}))(t)
	if h.ReplicationStatus != s3types.ReplicationStatusPending || *replica.ETag == *h.ETag {
		t.Fatalf("during the lag: status %s, replica ETag %s vs %s", h.ReplicationStatus, *replica.ETag, *h.ETag)
	}
	if p, b, l := metric("OperationsPendingReplication"), metric("BytesPendingReplication"), metric("ReplicationLatency"); p != 1 || b != float64(len(body)) || l != 10 {
		t.Fatalf("during the lag: pending %v ops, %v bytes, latency %vs; want 1, %d, 10", p, b, l, len(body))
	}

	e.advance(20 * time.Second)
	h = must(src.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: key}))(t)
	replica = must(dst.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(sandbox.DefaultNames().ReplicaBucket), Key: key}))(t)
	if h.ReplicationStatus != s3types.ReplicationStatusCompleted || replica.ReplicationStatus != s3types.ReplicationStatusReplica || *replica.ETag != *h.ETag {
		t.Fatalf("after the lag: source %s %s, replica %s %s", h.ReplicationStatus, *h.ETag, replica.ReplicationStatus, *replica.ETag)
	}
	if p, b, l := metric("OperationsPendingReplication"), metric("BytesPendingReplication"), metric("ReplicationLatency"); p != 0 || b != 0 || l != 30 {
		t.Fatalf("after the lag: pending %v ops, %v bytes, latency %vs; want 0, 0, 30", p, b, l)
	}
}

func tagSpec(resourceType, k, v string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: ec2types.ResourceType(resourceType), Tags: []ec2types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}}
}

func ec2Filter(name string, values ...string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String(name), Values: values}}
}

// TestStrictAuthStreamingPayloads signs S3 uploads the ways the SDK can:
// a streaming body with a trailing checksum and an unsigned payload.
func TestStrictAuthStreamingPayloads(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 5, StrictAuth: true})
	creds := must(e.cfg.Credentials.Retrieve(e.ctx))(t)
	put := func(key, payloadHash, body string, hdr map[string]string, secret string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, e.srv.URL()+"/"+sandbox.DefaultNames().ModelBucket+"/"+key, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
		c := creds
		c.SecretAccessKey = secret
		if err := v4.NewSigner().SignHTTP(e.ctx, c, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := awshttp.NewBuildableClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	chunked := map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32"}
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
	if code := put("models/chunked.bin", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body, chunked, creds.SecretAccessKey); code != 200 {
		t.Fatalf("aws-chunked upload with a trailer: %d", code)
	}
	if code := put("models/unsigned.bin", "UNSIGNED-PAYLOAD", "hello", nil, creds.SecretAccessKey); code != 200 {
		t.Fatalf("unsigned payload: %d", code)
	}
	if code := put("models/unsigned.bin", "UNSIGNED-PAYLOAD", "hello", nil, "wrong"); code != 403 {
		t.Fatalf("unsigned payload, wrong secret: %d", code)
	}
	got := must(e.s3(e.cfg).GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/chunked.bin")}))(t)
	var b bytes.Buffer
	b.ReadFrom(got.Body) //nolint:errcheck // compared below.
	if b.String() != "hello" {
		t.Fatalf("decoded aws-chunked body: %q", b.String())
	}
}

// TestConcurrentRequests mixes services from many goroutines; run with
// -race it checks the estate's locking.
func TestConcurrentRequests(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 8, InstanceWarmup: time.Second})
	ec := ec2.NewFromConfig(e.cfg)
	vols := must(ec.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
	asg := autoscaling.NewFromConfig(e.region("us-west-2"))
	cw := cloudwatch.NewFromConfig(e.region("us-west-2"))
	bk := backup.NewFromConfig(e.cfg)
	s3c := e.s3(e.cfg)
	errs := make(chan error, 64)
	done := make(chan struct{})
	workers := []func(i int) error{
		func(i int) error {
			_, err := ec.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vols[i%len(vols)].VolumeId})
			return err
		},
		func(i int) error {
			_, err := asg.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), DesiredCapacity: aws.Int32(int32(i % 5))})
			return err
		},
		func(int) error {
			_, err := cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeMetricAlarm}})
			return err
		},
		func(i int) error {
			_, err := s3c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/conc/" + string(rune('a'+i%26))), Body: strings.NewReader("x")})
			return err
		},
		func(int) error {
			_, err := bk.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(sandbox.DefaultNames().BackupVault), MaxResults: aws.Int32(5)})
			return err
		},
		func(int) error {
			_, err := e.srv.AdvanceClock(100 * time.Millisecond)
			return err
		},
	}
	for w, f := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 15; i++ {
				if err := f(i + w); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.srv.Requests()); n < 5*15 {
		t.Fatalf("%d requests logged", n)
	}
}
