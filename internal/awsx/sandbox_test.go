package awsx

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

func sandboxClients(t testing.TB, srv *sandbox.Server, cfg aws.Config, readOnly bool) *Clients {
	c, err := New(Options{
		Target:          TargetSandbox,
		SandboxEndpoint: srv.URL(),
		Credentials:     cfg.Credentials,
		ReadOnly:        readOnly,
		Retry:           RetryStandard,
		MaxAttempts:     1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A dry-run's clients against the sandbox: every mutating operation of
// every service is refused and the sandbox's request log shows that none
// was sent, while the reads a plan makes reach it.
func TestReadOnlyGuardAgainstSandbox(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, sandbox.Options{StrictAuth: true})
	ctx := t.Context()
	c := sandboxClients(t, srv, cfg, true)
	region := srv.Options().PrimaryRegion
	s3c, _ := c.S3(ctx, region)
	ec2c, _ := c.EC2(ctx, region)
	asc, _ := c.AutoScaling(ctx, srv.Options().DRRegion)
	cwc, _ := c.CloudWatch(ctx, srv.Options().DRRegion)
	bkc, _ := c.Backup(ctx, region)
	stc, _ := c.STS(ctx, region)
	before := len(srv.Requests())
	for _, cl := range []struct {
		name   string
		client any
	}{{"s3", s3c}, {"ec2", ec2c}, {"autoscaling", asc}, {"cloudwatch", cwc}, {"backup", bkc}, {"sts", stc}} {
		operations(ctx, cl.name, cl.client, func(op string, err error) {
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s %s: err = %v, want a read-only refusal", cl.name, op, err)
			}
		})
	}
	if got := srv.Requests()[before:]; len(got) != 0 {
		t.Fatalf("the sandbox received %d requests from refused calls, first %+v", len(got), got[0])
	}

	reads := map[string]func() error{
		"ListObjectVersions": func() error {
			return ListVersions(ctx, s3c, VersionListing{Bucket: sandbox.DefaultNames().ModelBucket, MaxKeys: 50}, func([]pitr.Entry) error { return nil })
		},
		"DescribeVolumes": func() error { _, err := ec2c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); return err },
		"DescribeAutoScalingGroups": func() error {
			_, err := asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		},
		"DescribeAlarms":    func() error { _, err := cwc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); return err },
		"ListBackupVaults":  func() error { _, err := bkc.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); return err },
		"GetCallerIdentity": func() error { _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
	}
	for op, read := range reads {
		if err := read(); err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
	seen := map[string]bool{}
	for _, r := range srv.Requests()[before:] {
		if r.Mutating {
			t.Errorf("read-only clients made a mutating call: %+v", r)
		}
		seen[r.Operation] = true
	}
	for op := range reads {
		if !seen[op] {
			t.Errorf("%s did not reach the sandbox", op)
		}
	}
}

// The guard's allow-list agrees with the sandbox's own classification:
// every read operation that reaches it, the sandbox counts as a read.
func TestReadsAreReadsToTheSandbox(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, sandbox.Options{})
	ctx := t.Context()
	c := sandboxClients(t, srv, cfg, false)
	region := srv.Options().PrimaryRegion
	s3c, _ := c.S3(ctx, region)
	ec2c, _ := c.EC2(ctx, region)
	asc, _ := c.AutoScaling(ctx, region)
	cwc, _ := c.CloudWatch(ctx, region)
	bkc, _ := c.Backup(ctx, region)
	stc, _ := c.STS(ctx, region)
	for _, cl := range []struct {
		name   string
		client any
	}{{"s3", s3c}, {"ec2", ec2c}, {"autoscaling", asc}, {"cloudwatch", cwc}, {"backup", bkc}, {"sts", stc}} {
		readOperations(ctx, cl.name, cl.client)
	}
	n := 0
	for _, r := range srv.Requests() {
		if r.Operation == "" || r.Status == 0 {
			continue
		}
		n++
		if r.Mutating {
			t.Errorf("%s %s passes the guard but the sandbox counts it as mutating", r.Service, r.Operation)
		}
	}
	if n < 20 {
		t.Fatalf("only %d read operations reached the sandbox", n)
	}
}

// The sandbox's clock puts a version and a delete marker in the same
// second; only the listing's document order says which came last, and the
// lister keeps it.
func TestVersionPagesSameSecond(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true, Clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}})
	setClock := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	ctx := t.Context()
	c := sandboxClients(t, srv, cfg, false)
	s3c, err := c.S3(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "models"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	del := func(key string) {
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	base := now
	// "deleted": v1, then at T a version and a delete marker in that order;
	// at T it is deleted. "restored": at T a delete marker then a version;
	// at T it is that version. Both are overwritten after T.
	put("deleted", "one")
	put("restored", "one")
	T := base.Add(10 * time.Second)
	setClock(T)
	put("deleted", "two")
	del("deleted")
	del("restored")
	put("restored", "two")
	setClock(base.Add(20 * time.Second))
	put("deleted", "three")
	put("restored", "three")

	ro := sandboxClients(t, srv, cfg, true)
	s3ro, _ := ro.S3(ctx, "")
	var entries []pitr.Entry
	if err := ListVersions(ctx, s3ro, VersionListing{Bucket: bucket, MaxKeys: 1}, func(p []pitr.Entry) error {
		entries = append(entries, p...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	plan := func(entries []pitr.Entry) map[string]pitr.Decision {
		p, err := pitr.New(pitr.Options{At: T})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]pitr.Decision{}
		emit := func(d pitr.Decision) error { out[d.Key] = d; return nil }
		if err := p.Feed(entries, emit); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(emit); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ds := plan(entries)
	if d := ds["deleted"]; d.Action != pitr.Delete {
		t.Errorf("deleted: %v, want a delete marker (listing %v)", d.Action, entries)
	}
	if d := ds["restored"]; d.Action != pitr.Copy || d.Source.Size != 3 || !d.Source.LastModified.Equal(T) {
		t.Errorf("restored: %v of %v, want the version written at T (listing %v)", d.Action, d.Source, entries)
	}

	// What the SDK's split output gives instead: versions, then delete
	// markers, the interleaving lost. Merged back by time, the planner can
	// no longer tell the two keys apart.
	out, err := s3ro.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var regrouped []pitr.Entry
	for _, v := range out.Versions {
		regrouped = append(regrouped, pitr.Entry{Key: *v.Key, VersionID: *v.VersionId, LastModified: *v.LastModified, Size: *v.Size, ETag: *v.ETag})
	}
	for _, m := range out.DeleteMarkers {
		regrouped = append(regrouped, pitr.Entry{Key: *m.Key, VersionID: *m.VersionId, IsDeleteMarker: true, LastModified: *m.LastModified})
	}
	slices.SortStableFunc(regrouped, func(a, b pitr.Entry) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return b.LastModified.Compare(a.LastModified)
	})
	naive := plan(regrouped)
	if naive["deleted"].Action == ds["deleted"].Action && naive["restored"].Action == ds["restored"].Action {
		t.Fatal("the regrouped listing plans the same: the test does not exercise same-second order")
	}
}

// Clients with no credentials of their own sign with the keys a strict
// sandbox expects by default.
func TestSandboxDefaultKeys(t *testing.T) {
	if sandboxAccessKeyID != sandbox.DefaultAccessKeyID || sandboxSecretAccessKey != sandbox.DefaultSecretAccessKey {
		t.Fatal("the sandbox's default keys changed")
	}
	srv, _ := sandboxtest.Start(t, sandbox.Options{StrictAuth: true})
	c, err := New(Options{SandboxEndpoint: srv.URL(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	stc, err := c.STS(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stc.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("strict sandbox refused the default keys: %v", err)
	}
}
