package drill_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/testutil/estatetest"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
)

// estate is a seeded sandbox, drconsole's clients for it and the test's
// own SDK clients to look at what changed.
type estate struct {
	srv     *sandbox.Server
	clients *awsx.Clients
	cfg     aws.Config
	s3      *s3.Client
}

func newEstate(t *testing.T) *estate {
	t.Helper()
	return newNamedEstate(t, sandbox.Names{})
}

// newNamedEstate seeds the estate under names (empty fields: the
// defaults).
func newNamedEstate(t *testing.T, names sandbox.Names) *estate {
	t.Helper()
	x := estatetest.StartWith(t, estatetest.Options{Wait: 200 * time.Millisecond, Names: names})
	return &estate{srv: x.Server, clients: x.Clients, cfg: x.Config, s3: x.S3}
}

// names are the names the estate was seeded under.
func (e *estate) names() sandbox.Names { return e.srv.Options().Names }

func (e *estate) registry() runbook.Registry {
	return steps.Registry(steps.Deps{AWS: e.clients})
}

// listing renders every version and delete marker under prefix, so two
// listings are equal only if nothing was written there.
func (e *estate) listing(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	var out []string
	p := s3.NewListObjectVersionsPaginator(e.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, v := range page.Versions {
			out = append(out, fmt.Sprintf("v %s %s %s %v %d", aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToString(v.ETag), aws.ToBool(v.IsLatest), aws.ToInt64(v.Size)))
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, fmt.Sprintf("d %s %s %v", aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToBool(m.IsLatest)))
		}
	}
	sort.Strings(out)
	return out
}

func (e *estate) drCapacity(t *testing.T) (minSize, maxSize, desired int32) {
	t.Helper()
	c := autoscaling.NewFromConfig(e.cfg, func(o *autoscaling.Options) { o.Region = "us-west-2" })
	out, err := c.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{e.names().DRGroup}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe DR group: %v", err)
	}
	g := out.AutoScalingGroups[0]
	return aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), aws.ToInt32(g.DesiredCapacity)
}

func (e *estate) drillSnapshots(t *testing.T, runID string) []string {
	t.Helper()
	c := ec2.NewFromConfig(e.cfg, func(o *ec2.Options) { o.Region = "us-east-1" })
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:drconsole:drill"), Values: []string{runID}}}})
	if err != nil {
		t.Fatalf("describe snapshots: %v", err)
	}
	var ids []string
	for _, s := range out.Snapshots {
		ids = append(ids, aws.ToString(s.SnapshotId))
	}
	return ids
}

func (e *estate) drillBuckets(t *testing.T) []string {
	t.Helper()
	out, err := e.s3.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("list buckets: %v", err)
	}
	var names []string
	for _, b := range out.Buckets {
		if strings.Contains(aws.ToString(b.Name), "-drill-") {
			names = append(names, aws.ToString(b.Name))
		}
	}
	return names
}

func loadGameday(t *testing.T, reg runbook.Registry) *runbook.Runbook {
	t.Helper()
	rb, diags := runbook.Load(filepath.Join("..", "..", "runbooks", "gameday-failover.hcl"), reg)
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return rb
}

func (e *estate) gamedayVars() map[string]cty.Value {
	return e.vars(map[string]cty.Value{
		"restore_to":    cty.StringVal(e.srv.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)),
		"poll_interval": cty.StringVal("50ms"),
	})
}

// vars are vals with the estate's names, as the runbooks' variables.
func (e *estate) vars(vals map[string]cty.Value) map[string]cty.Value {
	n := e.srv.Options().Names
	out := map[string]cty.Value{"dr_alarms": cty.ListVal([]cty.Value{cty.StringVal(n.AlarmDRCapacity), cty.StringVal(n.AlarmHealth)})}
	for k, v := range n.Vars() {
		if k != "dr_alarms" {
			out[k] = cty.StringVal(v)
		}
	}
	for k, v := range vals {
		out[k] = v
	}
	return out
}

// assertNothingLeft checks that production is as it was and no drill
// resource remains.
func (e *estate) assertNothingLeft(t *testing.T, runID string, models []string, minSize, maxSize, desired int32) {
	t.Helper()
	if got := e.listing(t, e.names().ModelBucket, "models/"); !slices.Equal(got, models) {
		t.Errorf("models/ changed: %d entries before, %d after", len(models), len(got))
	}
	if got := e.listing(t, e.names().ModelBucket, "drills/"); len(got) != 0 {
		t.Errorf("drill prefix not empty after teardown: %v", got[:min(5, len(got))])
	}
	if got := e.drillBuckets(t); len(got) != 0 {
		t.Errorf("restored drill buckets left: %v", got)
	}
	if got := e.drillSnapshots(t, runID); len(got) != 0 {
		t.Errorf("drill snapshots left: %v", got)
	}
	if mn, mx, d := e.drCapacity(t); mn != minSize || mx != maxSize || d != desired {
		t.Errorf("DR group at min %d max %d desired %d, want %d %d %d", mn, mx, d, minSize, maxSize, desired)
	}
}

func TestDrillGamedayLeavesProductionUntouched(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names sandbox.Names
	}{{"default names", sandbox.Names{}}, {"company names", estatetest.AcmeNames()}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testGamedayLeavesProductionUntouched(t, newNamedEstate(t, tc.names))
		})
	}
}

func testGamedayLeavesProductionUntouched(t *testing.T, e *estate) {
	models := e.listing(t, e.names().ModelBucket, "models/")
	if len(models) == 0 {
		t.Fatal("the sandbox has no model artifacts")
	}
	mn, mx, desired := e.drCapacity(t)
	reg := e.registry()
	rb := loadGameday(t, reg)
	const runID = "20261122T180000Z-d1d1d1"

	// The plan says what the drill redirects before anything runs.
	dryEv := &eventlog.Log{}
	dry, err := drill.Run(context.Background(), drill.Options{Runbook: rb, Run: runbook.Options{
		RunID: "20261122T175900Z-d0d0d0", DryRun: true, Vars: e.gamedayVars(), Registry: steps.Registry(steps.Deps{AWS: e.clients.AsReadOnly()}),
		Sink: dryEv, Target: "sandbox",
	}})
	if err != nil || dry.Result.Status != runbook.StatusSucceeded {
		t.Fatalf("drill dry-run: %v %+v\n%s", err, dry, dryEv.String())
	}
	redirected := map[string]string{}
	for _, ev := range dryEv.Events() {
		if ev.Kind == runbook.StepDrilled {
			redirected[ev.Node] = fmt.Sprint(ev.Changes)
		}
	}
	if r := redirected["step.s3_restore.models"]; !strings.Contains(r, e.names().ModelBucket+"/drills/20261122T175900Z-d0d0d0/models/") {
		t.Errorf("plan of s3_restore does not show the drill target: %q", r)
	}
	if r := redirected["step.asg_scale.serving"]; !strings.Contains(r, "scale back") {
		t.Errorf("plan of asg_scale does not say it scales back: %q", r)
	}

	// Under light S3 throttling, through the in-process server.
	throttle, err := drill.ParseFault("throttle:0.05,service=s3")
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventlog.Log{}
	out, err := drill.Run(context.Background(), drill.Options{Runbook: rb, Faults: []drill.Fault{throttle},
		Injector: drill.ServerInjector{Server: e.srv}, Run: runbook.Options{
			RunID: runID, Vars: e.gamedayVars(), Registry: reg, AutoApprove: true, Sink: ev, Target: "sandbox",
		}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.Status != runbook.StatusSucceeded || out.TeardownErr != nil {
		t.Fatalf("drill %s: %v; teardown: %v\n%s", out.Result.Status, out.Result.Err, out.TeardownErr, ev.String())
	}
	e.assertNothingLeft(t, runID, models, mn, mx, desired)
	if len(e.srv.Faults()) != 0 {
		t.Errorf("faults left: %v", e.srv.Faults())
	}
	// An estate named otherwise never hears of the default names.
	for _, name := range estatetest.ReplacedDefaults(e.names()) {
		for _, log := range []*eventlog.Log{dryEv, ev} {
			if strings.Contains(log.String(), name) {
				t.Errorf("the drill's events name %q, a default the estate does not use", name)
			}
		}
	}

	rep := out.Report
	// RTO: the journal's span from run_started to the last step's end.
	var start, lastEnd time.Time
	for _, x := range ev.Events() {
		switch x.Kind {
		case runbook.RunStarted:
			start = x.Time
		case runbook.StepFinished:
			if x.Time.After(lastEnd) {
				lastEnd = x.Time
			}
		}
	}
	if !rep.RTO.Measured || rep.RTO.Achieved != lastEnd.Sub(start) {
		t.Errorf("RTO %v (measured %v), journal span %v", rep.RTO.Achieved, rep.RTO.Measured, lastEnd.Sub(start))
	}
	if !rep.RTO.Pass || rep.RTO.Objective != 30*time.Minute {
		t.Errorf("RTO objective %v pass %v", rep.RTO.Objective, rep.RTO.Pass)
	}
	// RPO: the restores used restore_to and the backup point before it.
	if !rep.RPO.Measured || len(rep.RecoveryPoints) < 2 || rep.RPO.Achieved < 50*time.Hour {
		t.Errorf("RPO %+v from %+v", rep.RPO, rep.RecoveryPoints)
	}
	if rep.RPO.Pass {
		t.Error("a 50-hour-old restore passes a 1h RPO")
	}
	if rep.Passed() {
		t.Error("the drill passed although its RPO failed")
	}

	// The critical path runs through the longer of the two parallel
	// branches (snapshot then restore, or the backup restore).
	dur := map[string]time.Duration{}
	for _, st := range rep.Steps {
		dur[st.Node] = st.Duration
	}
	want := []string{"step.backup_restore.models_backup"}
	if dur["step.ebs_snapshot.datasets"]+dur["step.s3_restore.models"] > dur["step.backup_restore.models_backup"] {
		want = []string{"step.ebs_snapshot.datasets", "step.s3_restore.models"}
	}
	want = append(want, "gate.failover", "step.asg_scale.serving", "step.alarms_check.health")
	if !slices.Equal(rep.CriticalPath, want) {
		t.Errorf("critical path %v, want %v (durations %v)", rep.CriticalPath, want, dur)
	}
	if rep.Teardown.Status != "finished" || len(rep.Teardown.Actions) == 0 {
		t.Errorf("teardown %+v", rep.Teardown)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| RTO | 30m0s |", "| RPO | 1h0m0s |", "FAIL", "Critical path", "DeleteBucket", "DeleteSnapshot"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown report lacks %q:\n%s", s, md.String())
		}
	}
}

func TestDrillRegionOutageFailsAndTearsDown(t *testing.T) {
	e := newEstate(t)
	models := e.listing(t, e.names().ModelBucket, "models/")
	mn, mx, desired := e.drCapacity(t)
	reg := e.registry()
	rb := loadGameday(t, reg)
	const runID = "20261122T181000Z-0a7a6e"
	outage, err := drill.ParseFault("outage:us-west-2,at_step=step.asg_scale.serving")
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventlog.Log{}
	out, err := drill.Run(context.Background(), drill.Options{Runbook: rb, Faults: []drill.Fault{outage},
		Injector: drill.AdminInjector{URL: e.srv.URL(), Token: e.srv.AdminToken()},
		Run:      runbook.Options{RunID: runID, Vars: e.gamedayVars(), Registry: reg, AutoApprove: true, Sink: ev, Target: "sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.Status != runbook.StatusFailed {
		t.Fatalf("drill under a region outage %s, want failed\n%s", out.Result.Status, ev.String())
	}
	rep := out.Report
	if len(rep.Failed) == 0 || rep.Failed[0].Node != "step.asg_scale.serving" || !strings.Contains(rep.Failed[0].Error, "ServiceUnavailable") {
		t.Errorf("report says failed %+v, want step.asg_scale.serving with the outage's error", rep.Failed)
	}
	if rep.RTO.Measured || rep.RTO.Pass {
		t.Errorf("RTO of a failed drill: %+v", rep.RTO)
	}
	if out.TeardownErr != nil || rep.Teardown.Status != "finished" {
		t.Fatalf("teardown after the outage: %v %+v", out.TeardownErr, rep.Teardown)
	}
	if len(e.srv.Faults()) != 0 {
		t.Errorf("faults left in the sandbox: %v", e.srv.Faults())
	}
	e.assertNothingLeft(t, runID, models, mn, mx, desired)
	var md strings.Builder
	_ = rep.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "## What failed") || !strings.Contains(md.String(), "step.asg_scale.serving") {
		t.Errorf("markdown does not say what failed:\n%s", md.String())
	}
}

// An interrupted drill leaves its resources; a teardown from its events
// alone (as drconsole drill --teardown does from the journal) removes them,
// and running it again is harmless.
// An injector without the sandbox's admin token changes nothing, and its
// error says where the token comes from; with it, faults go in.
func TestAdminInjectorNeedsTheToken(t *testing.T) {
	e := newEstate(t)
	ctx := context.Background()
	outage := []sandbox.Fault{{Kind: sandbox.FaultOutage, Region: "us-west-2"}}
	for _, inj := range []drill.AdminInjector{{URL: e.srv.URL()}, {URL: e.srv.URL(), Token: "not-the-token-0123456789"}} {
		err := inj.SetFaults(ctx, outage)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("token %q: %v", inj.Token, err)
		}
		if inj.Token == "" && !strings.Contains(err.Error(), sandbox.TokenEnv) {
			t.Errorf("no token: the error does not say where it comes from: %v", err)
		}
		if _, err := inj.Now(ctx); err == nil {
			t.Errorf("token %q read the clock", inj.Token)
		}
	}
	if fs := e.srv.Faults(); len(fs) != 0 {
		t.Fatalf("faults without the token: %v", fs)
	}
	inj := drill.AdminInjector{URL: e.srv.URL(), Token: e.srv.AdminToken()}
	if err := inj.SetFaults(ctx, outage); err != nil {
		t.Fatal(err)
	}
	if fs, err := inj.Faults(ctx); err != nil || len(fs) != 1 || fs[0].Region != "us-west-2" {
		t.Fatalf("faults with the token: %v %v", fs, err)
	}
}

func TestDrillTeardownAfterInterruption(t *testing.T) {
	e := newEstate(t)
	models := e.listing(t, e.names().ModelBucket, "models/")
	mn, mx, desired := e.drCapacity(t)
	reg := e.registry()
	rb := loadGameday(t, reg)
	const runID = "20261122T182000Z-1a1a1a"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &eventlog.Log{}
	ev.OnEmit = func(x runbook.Event) error {
		if x.Kind == runbook.StepFinished && x.Node == "step.asg_scale.serving" {
			cancel()
		}
		return nil
	}
	// The engine alone, in drill mode: what a killed process leaves.
	res := runbook.Execute(ctx, rb, runbook.Options{RunID: runID, Vars: e.gamedayVars(), Registry: reg, AutoApprove: true,
		Sink: ev, Drill: &runbook.Drill{ID: runID, TargetBucket: "ai-model-artifacts", TargetPrefix: "drills/"}})
	if res.Status != runbook.StatusCancelled {
		t.Fatalf("run %s, want cancelled\n%s", res.Status, ev.String())
	}
	if len(e.listing(t, e.names().ModelBucket, "drills/")) == 0 || len(e.drillSnapshots(t, runID)) == 0 {
		t.Fatal("the interrupted drill left nothing to tear down")
	}
	if _, _, d := e.drCapacity(t); d == desired {
		t.Fatal("the DR group was not scaled before the interruption")
	}
	for range 2 {
		sum, err := drill.Teardown(context.Background(), drill.TeardownOptions{RunID: runID, Events: ev.Events(), Registry: reg})
		if err != nil || sum.Status != "finished" {
			t.Fatalf("teardown: %v %+v", err, sum)
		}
	}
	e.assertNothingLeft(t, runID, models, mn, mx, desired)
}

func TestDrillRefusesStepsNotSafe(t *testing.T) {
	src := func(safe string) map[string][]byte {
		return map[string][]byte{"r.hcl": []byte(`
step "exec" "notify" {
  command = ["true"]
  ` + safe + `
}
step "wait" "pause" {
  duration = "1ms"
}
`)}
	}
	reg := steps.Registry(steps.Deps{})
	rb, diags := runbook.Parse(src(""), reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, err := drill.Run(context.Background(), drill.Options{Runbook: rb, Run: runbook.Options{RunID: "20261122T183000Z-5afe00", Registry: reg}})
	var de *runbook.DiagError
	if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), "step.exec.notify") || de.Diags[0].Subject == nil {
		t.Fatalf("exec in a drill: %v, want a diagnostic naming the step", err)
	}

	rb, diags = runbook.Parse(src("drill_safe = true"), reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ev := &eventlog.Log{}
	out, err := drill.Run(context.Background(), drill.Options{Runbook: rb, Run: runbook.Options{RunID: "20261122T183001Z-5afe01", Registry: reg, Sink: ev}})
	if err != nil || out.Result.Status != runbook.StatusSucceeded {
		t.Fatalf("drill_safe exec: %v %+v\n%s", err, out, ev.String())
	}
}

// model_rollback in a drill copies the version to the drill key; the
// production key keeps its current version, and teardown deletes the copy.
func TestDrillModelRollbackCopiesToDrillKey(t *testing.T) {
	e := newEstate(t)
	reg := e.registry()
	rb, diags := runbook.Load(filepath.Join("..", "..", "runbooks", "model-rollback.hcl"), reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	models := e.listing(t, e.names().ModelBucket, "models/")
	var key string
	for _, l := range models {
		if f := strings.Fields(l); f[0] == "v" {
			key = f[1]
			break
		}
	}
	const runID = "20261122T184000Z-7011ba"
	ev := &eventlog.Log{}
	out, err := drill.Run(context.Background(), drill.Options{Runbook: rb, TargetBucket: e.names().ModelBucket, TargetPrefix: "drills/",
		Run: runbook.Options{RunID: runID, Registry: reg, AutoApprove: true, Sink: ev, Vars: e.vars(map[string]cty.Value{
			"key": cty.StringVal(key), "to_time": cty.StringVal(e.srv.Now().Add(-40 * time.Hour).UTC().Format(time.RFC3339)),
		})}})
	if err != nil || out.Result.Status != runbook.StatusSucceeded || out.TeardownErr != nil {
		t.Fatalf("drill: %v %+v\n%s", err, out, ev.String())
	}
	var copied bool
	for _, x := range ev.Events() {
		if x.Kind == runbook.TeardownAction && strings.Contains(fmt.Sprint(x.Changes), "drills/"+runID+"/"+key) {
			copied = true
		}
	}
	if !copied {
		t.Errorf("teardown did not delete the drill copy of %s:\n%s", key, ev.String())
	}
	if got := e.listing(t, e.names().ModelBucket, "models/"); !slices.Equal(got, models) {
		t.Error("the rollback drill changed models/")
	}
	if got := e.listing(t, e.names().ModelBucket, "drills/"); len(got) != 0 {
		t.Errorf("drill copy left: %v", got)
	}
	if out.Report.RPO.Achieved < 40*time.Hour || len(out.Report.RecoveryPoints) != 1 {
		t.Errorf("RPO %+v", out.Report.RPO)
	}

	// Without a drill target, the rollback is refused before it acts.
	out, err = drill.Run(context.Background(), drill.Options{Runbook: rb,
		Run: runbook.Options{RunID: "20261122T184100Z-7011bb", Registry: reg, AutoApprove: true, Vars: e.vars(map[string]cty.Value{
			"key": cty.StringVal(key), "to_time": cty.StringVal(e.srv.Now().Add(-40 * time.Hour).UTC().Format(time.RFC3339)),
		})}})
	if err != nil || out.Result.Status != runbook.StatusFailed || !strings.Contains(out.Result.Err.Error(), "drill target") {
		t.Fatalf("rollback drill without a target: %v %+v", err, out.Result)
	}
}

// A drill interrupted while a backup restore job runs: teardown says the
// job is still running (and fails, so it is run again), and once the job
// has created its bucket, a second teardown deletes it.
func TestDrillTeardownWaitsForARunningRestoreJob(t *testing.T) {
	srv, _ := sandboxtest.Start(t, sandbox.Options{Seed: 1, SnapshotDuration: 200 * time.Millisecond,
		InstanceWarmup: 200 * time.Millisecond, RestoreDuration: time.Hour})
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL(), MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &estate{srv: srv, clients: clients, cfg: sandboxtest.Config(srv)}
	e.s3 = s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	reg := e.registry()
	rb := loadGameday(t, reg)
	const runID = "20261122T185000Z-b0b0b0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &eventlog.Log{}
	ev.OnEmit = func(x runbook.Event) error {
		if x.Kind == runbook.StepLog && strings.HasPrefix(x.Line, "restore job ") {
			cancel()
		}
		return nil
	}
	res := runbook.Execute(ctx, rb, runbook.Options{RunID: runID, Vars: e.gamedayVars(), Registry: reg, AutoApprove: true,
		Sink: ev, Drill: &runbook.Drill{ID: runID, TargetBucket: "ai-model-artifacts", TargetPrefix: "drills/"}})
	if res.Status != runbook.StatusCancelled {
		t.Fatalf("run %s\n%s", res.Status, ev.String())
	}
	_, err = drill.Teardown(context.Background(), drill.TeardownOptions{RunID: runID, Events: ev.Events(), Registry: reg})
	if err == nil || !strings.Contains(err.Error(), "still") {
		t.Fatalf("teardown with the restore job running: %v", err)
	}
	if _, err := srv.AdvanceClock(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := e.drillBuckets(t); len(got) != 1 {
		t.Fatalf("the restore job created %v", got)
	}
	sum, err := drill.Teardown(context.Background(), drill.TeardownOptions{RunID: runID, Events: ev.Events(), Registry: reg})
	if err != nil || sum.Status != "finished" {
		t.Fatalf("second teardown: %v %+v", err, sum)
	}
	if got := e.drillBuckets(t); len(got) != 0 {
		t.Errorf("restored bucket left: %v", got)
	}
	if got := e.drillSnapshots(t, runID); len(got) != 0 {
		t.Errorf("drill snapshots left: %v", got)
	}
}
