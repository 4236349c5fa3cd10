package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// estate is a sandbox with the clients the step types take.
type estate struct {
	srv     *sandbox.Server
	clients *awsx.Clients
	types   runbook.Registry
}

// fastOptions make the sandbox's time-driven behaviour quick enough for
// tests that wait for real conditions.
func fastOptions() sandbox.Options {
	return sandbox.Options{
		InstanceWarmup:   300 * time.Millisecond,
		SnapshotDuration: 300 * time.Millisecond,
		RestoreDuration:  300 * time.Millisecond,
		ReplicationLag:   300 * time.Millisecond,
	}
}

func newEstate(t *testing.T, o sandbox.Options) *estate {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, o)
	c := awsx.FromConfig(cfg)
	return &estate{srv: srv, clients: c, types: Registry(Deps{AWS: c})}
}

// mutating returns the mutating requests the sandbox served after the
// first n requests.
func (e *estate) mutating(n int) []string {
	var out []string
	for _, r := range e.srv.Requests()[n:] {
		if r.Mutating {
			out = append(out, r.Service+" "+r.Operation)
		}
	}
	return out
}

// recorder is a StepContext that keeps what a step reports.
type recorder struct {
	mu       sync.Mutex
	progress [][2]int64
	lines    []string
}

func (r *recorder) sc(t *testing.T, run, addr string) *runbook.StepContext {
	return &runbook.StepContext{
		RunID: run, Address: addr, Attempt: 1, Target: "sandbox", Now: time.Now,
		Progress: func(done, total int64, _ string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.progress = append(r.progress, [2]int64{done, total})
		},
		Log: func(line string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.lines = append(r.lines, line)
			t.Log(line)
		},
	}
}

func (r *recorder) last() [2]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.progress) == 0 {
		return [2]int64{-1, -1}
	}
	return r.progress[len(r.progress)-1]
}

// planOnly runs Plan as a dry-run would and checks it made no mutating
// request.
func (e *estate) planOnly(t *testing.T, typ runbook.StepType, sc *runbook.StepContext, cfg cty.Value) []string {
	t.Helper()
	n := len(e.srv.Requests())
	changes, err := typ.Plan(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if m := e.mutating(n); len(m) > 0 {
		t.Fatalf("plan made mutating requests: %v", m)
	}
	var out []string
	for _, c := range changes {
		out = append(out, c.String())
	}
	return out
}

func strs(v cty.Value) []string {
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

func num(v cty.Value) int64 {
	i, _ := v.AsBigFloat().Int64()
	return i
}

func TestEBSSnapshotSandbox(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["ebs_snapshot"]
	ec2c, _ := e.clients.EC2(t.Context(), "us-east-1")
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
poll_interval = "20ms"
`)
	rec := &recorder{}
	sc := rec.sc(t, "run-ebs", "step.ebs_snapshot.datasets")

	plan := e.planOnly(t, typ, sc, cfg)
	if len(plan) != 3 {
		t.Fatalf("plan %q, want 3 CreateSnapshot changes", plan)
	}
	for _, c := range plan {
		if !strings.HasPrefix(c, "CreateSnapshot vol-") || !strings.HasSuffix(c, "(ai-dataset)") {
			t.Errorf("change %q, want CreateSnapshot vol-... (ai-dataset)", c)
		}
	}

	out, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	snaps, vols := strs(out.GetAttr("snapshot_ids")), strs(out.GetAttr("volume_ids"))
	if len(snaps) != 3 || len(vols) != 3 {
		t.Fatalf("outputs %#v", out)
	}
	if got := rec.last(); got != [2]int64{3, 3} {
		t.Errorf("last progress %v, want 3 of 3", got)
	}
	desc, err := ec2c.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range desc.Snapshots {
		if s.State != ec2types.SnapshotStateCompleted {
			t.Errorf("snapshot %s is %s", aws.ToString(s.SnapshotId), s.State)
		}
		if tagValue(s.Tags, tagRunID) != "run-ebs" || tagValue(s.Tags, tagStep) != "step.ebs_snapshot.datasets" {
			t.Errorf("snapshot %s tags %v", aws.ToString(s.SnapshotId), s.Tags)
		}
		if !slices.Contains(vols, aws.ToString(s.VolumeId)) {
			t.Errorf("snapshot %s of unexpected volume %s", aws.ToString(s.SnapshotId), aws.ToString(s.VolumeId))
		}
	}

	// A resumed attempt finds the snapshots instead of taking them again.
	n := len(e.srv.Requests())
	again, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if m := e.mutating(n); len(m) > 0 {
		t.Errorf("second apply made mutating requests: %v", m)
	}
	if !again.RawEquals(out) {
		t.Errorf("second apply outputs %#v, want %#v", again, out)
	}
	for _, c := range e.planOnly(t, typ, sc, cfg) {
		if !strings.HasPrefix(c, "keep vol-") {
			t.Errorf("plan after apply has %q, want only keep", c)
		}
	}
}

func TestEBSSnapshotPerInstance(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["ebs_snapshot"]
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
per_instance  = true
tags          = { purpose = "drill" }
poll_interval = "20ms"
`)
	sc := (&recorder{}).sc(t, "run-pi", "step.ebs_snapshot.consistent")
	plan := e.planOnly(t, typ, sc, cfg)
	if len(plan) != 1 || !strings.HasPrefix(plan[0], "CreateSnapshots i-") || strings.Count(plan[0], "vol-") != 3 {
		t.Fatalf("plan %q, want one crash-consistent CreateSnapshots of the 3 volumes", plan)
	}
	n := len(e.srv.Requests())
	out, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var ops []string
	for _, r := range e.srv.Requests()[n:] {
		if r.Mutating {
			ops = append(ops, r.Operation)
		}
	}
	if !slices.Equal(ops, []string{"CreateSnapshots"}) {
		t.Errorf("mutating requests %v, want one CreateSnapshots", ops)
	}
	if got := len(strs(out.GetAttr("snapshot_ids"))); got != 3 {
		t.Errorf("%d snapshots, want 3 (the boot volume excluded)", got)
	}
}

func TestEBSSnapshotFailsOnError(t *testing.T) {
	o := fastOptions()
	o.SnapshotDuration = 200 * time.Millisecond
	e := newEstate(t, o)
	typ := e.types["ebs_snapshot"]
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
tags          = { "sandbox:fail" = "yes" }
wait_for      = "10m"
poll_interval = "20ms"
`)
	start := time.Now()
	_, err := typ.Apply(t.Context(), (&recorder{}).sc(t, "run-err", "step.ebs_snapshot.d"), cfg)
	if err == nil || !strings.Contains(err.Error(), "failed: The snapshot could not be completed") {
		t.Fatalf("err = %v, want a failed snapshot", err)
	}
	if el := time.Since(start); el > time.Minute {
		t.Errorf("failed after %s: it waited for the bound instead of failing at once", el)
	}
}

func TestASGScaleSandbox(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["asg_scale"]
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
group         = "ai-inference-dr"
desired       = 4
wait_for      = "1m"
poll_interval = "20ms"
`)
	if br, ok := typ.(interface{ BlastRadius(cty.Value) string }); !ok || br.BlastRadius(cfg) != "ai-inference-dr@us-west-2" {
		t.Errorf("blast radius missing or wrong")
	}
	if !typ.Destructive() {
		t.Error("asg_scale is not destructive")
	}
	rec := &recorder{}
	sc := rec.sc(t, "run-asg", "step.asg_scale.serving")
	if plan := e.planOnly(t, typ, sc, cfg); !slices.Equal(plan, []string{"SetDesiredCapacity ai-inference-dr 0 -> 4"}) {
		t.Fatalf("plan %q", plan)
	}
	out, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if num(out.GetAttr("previous_desired")) != 0 || num(out.GetAttr("desired")) != 4 || num(out.GetAttr("in_service")) != 4 ||
		num(out.GetAttr("previous_max")) != 8 {
		t.Errorf("outputs %#v", out)
	}
	// The step waited through Pending: it saw fewer than 4 in service.
	rec.mu.Lock()
	waited := len(rec.progress) > 1 && rec.progress[0][0] < 4
	rec.mu.Unlock()
	if !waited {
		t.Errorf("progress %v: the step did not wait for instances to warm up", rec.progress)
	}
	asc, _ := e.clients.AutoScaling(t.Context(), "us-west-2")
	g, err := describeGroup(t.Context(), asc, "ai-inference-dr")
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := countInService(g); in != 4 {
		t.Errorf("%d in service after apply, want 4", in)
	}

	n := len(e.srv.Requests())
	again, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if m := e.mutating(n); len(m) > 0 {
		t.Errorf("second apply made mutating requests: %v", m)
	}
	if num(again.GetAttr("in_service")) != 4 {
		t.Errorf("second apply outputs %#v", again)
	}
	if plan := e.planOnly(t, typ, sc, cfg); len(plan) != 0 {
		t.Errorf("plan at desired capacity: %q, want none", plan)
	}

	// min and max move with desired in one call; scaling down waits for
	// the surplus to leave.
	down := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
group         = "ai-inference-dr"
desired       = 1
min           = 1
max           = 6
poll_interval = "20ms"
`)
	if plan := e.planOnly(t, typ, sc, down); !slices.Equal(plan, []string{"UpdateAutoScalingGroup ai-inference-dr min 0 -> 1, max 8 -> 6, desired 4 -> 1"}) {
		t.Fatalf("plan %q", plan)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// Terminating instances leave the group after 20s of sandbox time:
	// the first progress report, which follows the write, moves the
	// sandbox clock past that instead of the test waiting for it.
	var advance sync.Once
	downSC := *sc
	downSC.Progress = func(done, total int64, unit string) {
		advance.Do(func() {
			if _, err := e.srv.AdvanceClock(time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	out, err = typ.Apply(ctx, &downSC, down)
	if err != nil {
		t.Fatalf("scale down: %v", err)
	}
	if num(out.GetAttr("previous_desired")) != 4 || num(out.GetAttr("in_service")) != 1 {
		t.Errorf("scale-down outputs %#v", out)
	}
	ga, err := asc.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"ai-inference-dr"}})
	if err != nil {
		t.Fatal(err)
	}
	if g := ga.AutoScalingGroups[0]; aws.ToInt32(g.MinSize) != 1 || aws.ToInt32(g.MaxSize) != 6 || len(g.Instances) != 1 {
		t.Errorf("group after scale-down: min %d max %d instances %d", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), len(g.Instances))
	}
}

func TestASGScaleWaitBound(t *testing.T) {
	o := fastOptions()
	o.InstanceWarmup = time.Hour
	e := newEstate(t, o)
	typ := e.types["asg_scale"]
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
group         = "ai-inference-dr"
desired       = 2
wait_for      = "150ms"
poll_interval = "20ms"
`)
	_, err := typ.Apply(t.Context(), (&recorder{}).sc(t, "run-slow", "step.asg_scale.s"), cfg)
	if err == nil || !strings.Contains(err.Error(), "0 of 2 instances healthy and InService") {
		t.Fatalf("err = %v, want the bound with 0 of 2 in service", err)
	}
	if !errors.Is(err, errWaitBound) {
		t.Errorf("err does not wrap the wait bound: %v", err)
	}
	// A group that cannot take the capacity is refused before any write.
	bad := decodeStep(t, typ.Spec(), `
region  = "us-west-2"
group   = "ai-inference-dr"
desired = 20
`)
	if _, err := typ.Plan(t.Context(), (&recorder{}).sc(t, "r", "a"), bad); err == nil || !strings.Contains(err.Error(), "outside min 0 and max 8") {
		t.Errorf("plan err = %v", err)
	}
	missing := decodeStep(t, typ.Spec(), `
region  = "us-west-2"
group   = "no-such-group"
desired = 1
`)
	if _, err := typ.Plan(t.Context(), (&recorder{}).sc(t, "r", "a"), missing); err == nil || !strings.Contains(err.Error(), "no-such-group not found") {
		t.Errorf("plan err = %v", err)
	}
}

func TestAlarmsCheckSandbox(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["alarms_check"]
	sc := (&recorder{}).sc(t, "run-alarms", "step.alarms_check.health")

	// The primary fleet serves: its alarms, the composite one included,
	// are OK.
	primary := decodeStep(t, typ.Spec(), `
region = "us-east-1"
alarms = ["ai-inference-5xx", "ai-inference-p99", "ai-inference-health"]
expect = "OK"
`)
	if plan := e.planOnly(t, typ, sc, primary); !slices.Equal(plan, []string{"check alarms ai-inference-5xx, ai-inference-p99, ai-inference-health expect OK"}) {
		t.Fatalf("plan %q", plan)
	}
	out, err := typ.Apply(t.Context(), sc, primary)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	states := out.GetAttr("states")
	if states.LengthInt() != 3 || states.Index(cty.StringVal("ai-inference-health")).AsString() != "OK" {
		t.Errorf("states %#v", states)
	}

	// The DR fleet is at 0: its capacity alarm is in ALARM and the step
	// names it.
	dr := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
alarm_prefix  = "ai-inference"
within        = "100ms"
poll_interval = "20ms"
`)
	_, err = typ.Apply(t.Context(), sc, dr)
	if err == nil || !strings.Contains(err.Error(), "ai-inference-dr-capacity (ALARM)") || strings.Contains(err.Error(), "ai-inference-health") {
		t.Fatalf("err = %v, want ai-inference-dr-capacity (ALARM) named and nothing else", err)
	}

	// Once the DR fleet is scaled up, the capacity alarm reaches OK: the
	// step waits for it.
	asc, _ := e.clients.AutoScaling(t.Context(), "us-west-2")
	if _, err := asc.SetDesiredCapacity(t.Context(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String("ai-inference-dr"), DesiredCapacity: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	capacity := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
alarms        = ["ai-inference-dr-capacity"]
within        = "1m"
poll_interval = "20ms"
`)
	out, err = typ.Apply(t.Context(), sc, capacity)
	if err != nil {
		t.Fatalf("apply after scale-up: %v", err)
	}
	if got := out.GetAttr("states").Index(cty.StringVal("ai-inference-dr-capacity")).AsString(); got != "OK" {
		t.Errorf("capacity alarm %s", got)
	}

	missing := decodeStep(t, typ.Spec(), `
region = "us-west-2"
alarms = ["ai-inference-5xx", "no-such-alarm"]
`)
	if _, err := typ.Plan(t.Context(), sc, missing); err == nil || !strings.Contains(err.Error(), "no such alarm: no-such-alarm") {
		t.Errorf("plan err = %v", err)
	}
}

func TestReplicationCheckSandbox(t *testing.T) {
	o := fastOptions()
	o.ReplicationLag = 2 * time.Second
	e := newEstate(t, o)
	typ := e.types["replication_check"]
	sc := (&recorder{}).sc(t, "run-repl", "step.replication_check.models")
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
bucket        = "ai-model-artifacts"
max_lag       = "15m"
max_pending   = 0
sample        = 3
within        = "1m"
poll_interval = "50ms"
`)
	if plan := e.planOnly(t, typ, sc, cfg); len(plan) != 1 ||
		!strings.HasPrefix(plan[0], "check replication ai-model-artifacts -> ai-model-artifacts-dr lag <= 15m0s, pending operations <= 0") {
		t.Fatalf("plan %q", plan)
	}

	// A fresh write is pending for the replication lag: the step waits
	// until it has replicated.
	s3c, _ := e.clients.S3(t.Context(), "us-east-1")
	if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("ai-model-artifacts"),
		Key: aws.String("models/fresh.bin"), Body: strings.NewReader("new weights")}); err != nil {
		t.Fatal(err)
	}
	once := decodeStep(t, typ.Spec(), `
region      = "us-east-1"
bucket      = "ai-model-artifacts"
max_pending = 0
`)
	if _, err := typ.Apply(t.Context(), sc, once); err == nil || !strings.Contains(err.Error(), "operations pending, above 0") {
		t.Fatalf("err = %v, want pending operations above 0 right after a write", err)
	}
	out, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if num(out.GetAttr("pending_operations")) != 0 || num(out.GetAttr("sample_failed")) != 0 || num(out.GetAttr("sample_pending")) != 0 {
		t.Errorf("outputs %#v", out)
	}
	lag, _ := out.GetAttr("lag_seconds").AsBigFloat().Float64()
	if lag < 0 || lag > 15*60 {
		t.Errorf("lag %v s", lag)
	}

	noRepl := decodeStep(t, typ.Spec(), `
region  = "us-west-2"
bucket  = "ai-model-artifacts-dr"
max_lag = "1m"
`)
	if _, err := typ.Plan(t.Context(), sc, noRepl); err == nil || !strings.Contains(err.Error(), "ai-model-artifacts-dr") {
		t.Errorf("plan err = %v, want an error naming the bucket without replication", err)
	}
}

func TestBackupRestoreSandbox(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["backup_restore"]
	bc, _ := e.clients.Backup(t.Context(), "us-east-1")
	t0 := e.srv.Now().Add(-50 * time.Hour).UTC().Truncate(time.Second)

	t.Run("continuous point covering T", func(t *testing.T) {
		rec := &recorder{}
		sc := rec.sc(t, "run-br", "step.backup_restore.models")
		cfg := decodeStep(t, typ.Spec(), fmt.Sprintf(`
region        = "us-east-1"
vault         = "ai-dr-vault"
resource_arn  = "arn:aws:s3:::ai-model-artifacts"
to_time       = %q
poll_interval = "20ms"
`, t0.Format(time.RFC3339)))
		plan := e.planOnly(t, typ, sc, cfg)
		bucket := "ai-model-artifacts-restore-" + runToken(sc)[:8]
		if len(plan) != 1 || !strings.Contains(plan[0], ":recovery-point:continuous:") ||
			!strings.HasSuffix(plan[0], "-> new bucket "+bucket+" at "+t0.Format(time.RFC3339)) {
			t.Fatalf("plan %q, want the continuous point restored into %s at %s", plan, bucket, t0.Format(time.RFC3339))
		}
		out, err := typ.Apply(t.Context(), sc, cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if !out.GetAttr("continuous").True() || out.GetAttr("created_resource_arn").AsString() != "arn:aws:s3:::"+bucket {
			t.Errorf("outputs %#v", out)
		}
		if got := rec.last(); got != [2]int64{100, 100} {
			t.Errorf("last progress %v", got)
		}
		s3c, _ := e.clients.S3(t.Context(), "us-east-1")
		if _, err := s3c.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Errorf("restored bucket: %v", err)
		}
		// A resumed attempt gets the same job back.
		again, err := typ.Apply(t.Context(), sc, cfg)
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		if again.GetAttr("restore_job_id").AsString() != out.GetAttr("restore_job_id").AsString() {
			t.Errorf("second apply started job %s, first %s", again.GetAttr("restore_job_id").AsString(), out.GetAttr("restore_job_id").AsString())
		}
		jobs, err := bc.ListRestoreJobs(t.Context(), &backup.ListRestoreJobsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs.RestoreJobs) != 1 {
			t.Errorf("%d restore jobs, want 1", len(jobs.RestoreJobs))
		}
	})

	t.Run("newest snapshot point before T", func(t *testing.T) {
		ec2c, _ := e.clients.EC2(t.Context(), "us-east-1")
		vols, err := ec2c.DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"ai-dataset"}}}})
		if err != nil || len(vols.Volumes) == 0 {
			t.Fatalf("volumes: %v", err)
		}
		volArn := "arn:aws:ec2:us-east-1:" + accountOf(t, bc) + ":volume/" + aws.ToString(vols.Volumes[0].VolumeId)
		// Worked out independently: every point of the volume, newest
		// completed one created at or before T.
		list, err := bc.ListRecoveryPointsByBackupVault(t.Context(), &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String("ai-dr-vault"), ByResourceArn: aws.String(volArn)})
		if err != nil {
			t.Fatal(err)
		}
		var want string
		var wantAt time.Time
		for _, rp := range list.RecoveryPoints {
			if c := aws.ToTime(rp.CreationDate); !c.After(t0) && rp.Status == "COMPLETED" && c.After(wantAt) {
				want, wantAt = aws.ToString(rp.RecoveryPointArn), c
			}
		}
		if want == "" {
			t.Fatalf("no recovery point of %s before %s among %d", volArn, t0, len(list.RecoveryPoints))
		}
		sc := (&recorder{}).sc(t, "run-br", "step.backup_restore.volume")
		cfg := decodeStep(t, typ.Spec(), fmt.Sprintf(`
region            = "us-east-1"
vault             = "ai-dr-vault"
resource_arn      = %q
to_time           = %q
availability_zone = "us-east-1b"
poll_interval     = "20ms"
`, volArn, t0.Format(time.RFC3339)))
		if plan := e.planOnly(t, typ, sc, cfg); !slices.Equal(plan, []string{"StartRestoreJob " + want + " -> new volume in us-east-1b"}) {
			t.Fatalf("plan %q, want %s", plan, want)
		}
		out, err := typ.Apply(t.Context(), sc, cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if out.GetAttr("recovery_point_arn").AsString() != want || out.GetAttr("continuous").True() ||
			!strings.Contains(out.GetAttr("created_resource_arn").AsString(), ":volume/vol-") {
			t.Errorf("outputs %#v", out)
		}
	})

	t.Run("given point into a new file system", func(t *testing.T) {
		list, err := bc.ListRecoveryPointsByBackupVault(t.Context(), &backup.ListRecoveryPointsByBackupVaultInput{
			BackupVaultName: aws.String("ai-dr-vault"), ByResourceType: aws.String("EFS")})
		if err != nil || len(list.RecoveryPoints) == 0 {
			t.Fatalf("EFS points: %v", err)
		}
		var rp string
		for _, p := range list.RecoveryPoints {
			if p.Status == "COMPLETED" && rp == "" {
				rp = aws.ToString(p.RecoveryPointArn)
			}
		}
		sc := (&recorder{}).sc(t, "run-br", "step.backup_restore.pipeline")
		cfg := decodeStep(t, typ.Spec(), fmt.Sprintf(`
region             = "us-east-1"
vault              = "ai-dr-vault"
recovery_point_arn = %q
resource_type      = "EFS"
poll_interval      = "20ms"
`, rp))
		if plan := e.planOnly(t, typ, sc, cfg); !slices.Equal(plan, []string{"StartRestoreJob " + rp + " -> new file system"}) {
			t.Fatalf("plan %q", plan)
		}
		// A point named with the wrong resource type is refused before
		// anything starts.
		wrong := decodeStep(t, typ.Spec(), fmt.Sprintf(`
region             = "us-east-1"
vault              = "ai-dr-vault"
recovery_point_arn = %q
resource_type      = "EBS"
`, rp))
		if _, err := typ.Plan(t.Context(), sc, wrong); err == nil || !strings.Contains(err.Error(), "not EBS") {
			t.Errorf("plan with the wrong resource type: err = %v", err)
		}
		out, err := typ.Apply(t.Context(), sc, cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if !strings.Contains(out.GetAttr("created_resource_arn").AsString(), "file-system/") {
			t.Errorf("outputs %#v", out)
		}
	})

	t.Run("no point before T", func(t *testing.T) {
		cfg := decodeStep(t, typ.Spec(), `
region       = "us-east-1"
vault        = "ai-dr-vault"
resource_arn = "arn:aws:s3:::ai-model-artifacts"
to_time      = "2001-01-01T00:00:00Z"
`)
		_, err := typ.Plan(t.Context(), (&recorder{}).sc(t, "r", "a"), cfg)
		if err == nil || !strings.Contains(err.Error(), "no completed recovery point of arn:aws:s3:::ai-model-artifacts") {
			t.Errorf("plan err = %v", err)
		}
	})
}

// accountOf reads the sandbox's account id from a recovery point ARN.
func accountOf(t *testing.T, bc *backup.Client) string {
	t.Helper()
	list, err := bc.ListRecoveryPointsByBackupVault(t.Context(), &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String("ai-dr-vault"), MaxResults: aws.Int32(1)})
	if err != nil || len(list.RecoveryPoints) == 0 {
		t.Fatalf("recovery points: %v", err)
	}
	return arnAccount(aws.ToString(list.RecoveryPoints[0].RecoveryPointArn))
}

func TestAWSStepsUnderFaults(t *testing.T) {
	o := fastOptions()
	o.Seed = 7
	o.Faults = []sandbox.Fault{
		{Kind: sandbox.FaultThrottle, Rate: 0.10},
		{Kind: sandbox.FaultError5xx, Rate: 0.02},
		{Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond},
	}
	e := newEstate(t, o)
	t0 := e.srv.Now().Add(-30 * time.Hour).UTC().Truncate(time.Second)
	steps := []struct{ typ, name, body string }{
		{"ebs_snapshot", "datasets", `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
poll_interval = "20ms"
`},
		{"backup_restore", "models", fmt.Sprintf(`
region        = "us-east-1"
vault         = "ai-dr-vault"
resource_arn  = "arn:aws:s3:::ai-model-artifacts"
to_time       = %q
poll_interval = "20ms"
`, t0.Format(time.RFC3339))},
		{"asg_scale", "serving", `
region        = "us-west-2"
group         = "ai-inference-dr"
desired       = 3
poll_interval = "20ms"
`},
		{"alarms_check", "health", `
region        = "us-west-2"
alarms        = ["ai-inference-dr-capacity", "ai-inference-health"]
within        = "1m"
poll_interval = "20ms"
`},
		{"replication_check", "models", `
region        = "us-east-1"
bucket        = "ai-model-artifacts"
max_lag       = "15m"
max_pending   = 0
within        = "1m"
poll_interval = "20ms"
`},
	}
	for _, s := range steps {
		typ := e.types[s.typ]
		cfg := decodeStep(t, typ.Spec(), s.body)
		sc := (&recorder{}).sc(t, "run-faults", "step."+s.typ+"."+s.name)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		if _, err := typ.Plan(ctx, sc, cfg); err != nil {
			t.Errorf("%s: plan: %v", s.typ, err)
		}
		if _, err := typ.Apply(ctx, sc, cfg); err != nil {
			t.Errorf("%s: apply: %v", s.typ, err)
		}
		cancel()
	}
	faulted := 0
	for _, r := range e.srv.Requests() {
		if r.Status >= 400 {
			faulted++
		}
	}
	if faulted == 0 {
		t.Error("no request was faulted: the test proves nothing")
	}
}

// An attempt that crashed after snapshotting one volume: the next attempt
// keeps that snapshot and takes only the others.
func TestEBSSnapshotResumesPartialAttempt(t *testing.T) {
	e := newEstate(t, fastOptions())
	typ := e.types["ebs_snapshot"]
	ec2c, _ := e.clients.EC2(t.Context(), "us-east-1")
	sc := (&recorder{}).sc(t, "run-resume", "step.ebs_snapshot.datasets")
	cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
poll_interval = "20ms"
`)
	vols, err := (&EBSSnapshot{}).volumes(t.Context(), ec2c, cfg)
	if err != nil || len(vols) != 3 {
		t.Fatalf("volumes: %v", err)
	}
	first, err := (&EBSSnapshot{}).create(t.Context(), ec2c, ebsCall{volumes: []string{aws.ToString(vols[1].VolumeId)}},
		(&EBSSnapshot{}).tags(sc, cfg))
	if err != nil {
		t.Fatal(err)
	}
	plan := e.planOnly(t, typ, sc, cfg)
	if len(plan) != 3 || !strings.HasPrefix(plan[0], "keep "+aws.ToString(vols[1].VolumeId)) ||
		strings.Count(strings.Join(plan, "\n"), "CreateSnapshot vol-") != 2 {
		t.Fatalf("plan %q, want one keep and two CreateSnapshot", plan)
	}
	n := len(e.srv.Requests())
	out, err := typ.Apply(t.Context(), sc, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var creates int
	for _, r := range e.srv.Requests()[n:] {
		if r.Mutating {
			creates++
		}
	}
	if creates != 2 {
		t.Errorf("%d mutating requests, want 2", creates)
	}
	if got := strs(out.GetAttr("snapshot_ids"))[1]; got != first[aws.ToString(vols[1].VolumeId)] {
		t.Errorf("snapshot of the second volume %s, want the earlier attempt's %s", got, first[aws.ToString(vols[1].VolumeId)])
	}
}
