package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/testutil/estatetest"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
)

// estate is a fresh seeded sandbox and drconsole's clients for it.
type estate struct {
	x       *estatetest.Estate
	srv     *sandbox.Server
	clients *awsx.Clients
	s3      *s3.Client // the test's own client
	cfg     aws.Config
	names   sandbox.Names // what the estate is called
	// varFile holds the estate's names as a variables file, the way an
	// operator points the runbooks at an estate; empty on the sandbox's
	// default names, which drconsole fills in itself.
	varFile string
	runs    int             // runs so far, to give each its own id
	events  []*eventlog.Log // every run's
}

// estates are the estates every shipped runbook is run on: the sandbox's
// own, and one named like a company's, which shares no name with it.
var estates = []struct {
	name  string
	names sandbox.Names
}{
	{"default", sandbox.Names{}},
	{"acme", estatetest.AcmeNames()},
}

// faults are the ones issue 4 asks the runbooks to survive.
var faults = []sandbox.Fault{
	{Kind: sandbox.FaultThrottle, Rate: 0.10},
	{Kind: sandbox.FaultError5xx, Rate: 0.02},
	{Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond},
}

// newEstate starts the estate seeded under names with waits of a fraction
// of a second. Under names other than the sandbox's, runs take the names
// from a variables file, and when the test ends neither a request
// drconsole sent nor an event of its runs may name a default name the
// estate replaces.
func newEstate(t *testing.T, names sandbox.Names) *estate {
	t.Helper()
	replaced := estatetest.ReplacedDefaults(names)
	x := estatetest.StartWith(t, estatetest.Options{Wait: 300 * time.Millisecond, Names: names, Tap: len(replaced) > 0})
	e := &estate{x: x, srv: x.Server, clients: x.Clients, cfg: x.Config, s3: x.S3, names: x.Names}
	if len(replaced) > 0 {
		e.varFile = filepath.Join(t.TempDir(), "estate.vars")
		if err := os.WriteFile(e.varFile, x.Names.VarsFile(), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.neverNamed(t, replaced) })
	}
	return e
}

// eachEstate runs test on a fresh estate of each of estates, without and
// with faults injected, the four in parallel.
func eachEstate(t *testing.T, test func(t *testing.T, e *estate, withFaults bool)) {
	for _, est := range estates {
		t.Run(est.name, func(t *testing.T) {
			t.Parallel()
			for _, withFaults := range []bool{false, true} {
				t.Run(fmt.Sprintf("faults=%t", withFaults), func(t *testing.T) {
					t.Parallel()
					test(t, newEstate(t, est.names), withFaults)
				})
			}
		})
	}
}

// neverNamed fails the test if a request drconsole sent to the estate, or
// an event of one of its runs, names one of names.
func (e *estate) neverNamed(t *testing.T, names []string) {
	t.Helper()
	sent := e.x.Sent()
	if !bytes.Contains(sent, []byte(e.names.ModelBucket)) {
		t.Errorf("the requests drconsole sent (%d bytes) never name the model bucket %s: is the tap seeing them?", len(sent), e.names.ModelBucket)
	}
	var events []byte
	for _, ev := range e.events {
		b, err := json.Marshal(ev.Events())
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, b...)
	}
	for _, name := range names {
		if i := bytes.Index(sent, []byte(name)); i >= 0 {
			t.Errorf("a request drconsole sent names the sandbox's %q:\n%q", name, sent[max(0, i-200):min(len(sent), i+200)])
		}
		if i := bytes.Index(events, []byte(name)); i >= 0 {
			t.Errorf("an event names the sandbox's %q:\n%s", name, events[max(0, i-200):min(len(events), i+200)])
		}
	}
}

// registry wires every step type to the given clients, as cmd/drconsole
// does.
func registry(c *awsx.Clients) runbook.Registry {
	return steps.Registry(steps.Deps{AWS: c})
}

// planned returns the changes a node's step_planned event listed.
func planned(ev *eventlog.Log, node string) []runbook.Change {
	e, _ := ev.Find(runbook.StepPlanned, node)
	return e.Changes
}

// run loads a runbook from runbooks/ and executes it: a dry-run through
// read-only clients, or a real run with every gate approved.
func (e *estate) run(t *testing.T, name string, dry bool, vars map[string]string) (*runbook.Result, *eventlog.Log) {
	t.Helper()
	clients := e.clients
	if dry {
		clients = clients.AsReadOnly()
	}
	reg := registry(clients)
	rb, diags := runbook.Load(filepath.Join("..", "..", "runbooks", name), reg)
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", name, diags.Error())
	}
	var flags []string
	for k, v := range vars {
		flags = append(flags, k+"="+v)
	}
	in := runbook.VarInputs{Flags: flags}
	if e.varFile != "" {
		in.Files = []string{e.varFile}
	} else {
		in.Defaults = e.names.Vars()
	}
	vals, diags := rb.ResolveVars(in)
	if diags.HasErrors() {
		t.Fatalf("variables of %s: %s", name, diags.Error())
	}
	e.runs++
	ev := &eventlog.Log{}
	e.events = append(e.events, ev)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	res := runbook.Execute(ctx, rb, runbook.Options{
		RunID: fmt.Sprintf("e2e-%s-%d", strings.TrimSuffix(name, ".hcl"), e.runs), DryRun: dry, Vars: vals, Registry: reg,
		AutoApprove: !dry, Sink: ev, Target: "sandbox", Operator: "e2e",
	})
	return res, ev
}

// dryRun plans a runbook from runbooks/, which must succeed without a
// mutating call.
func (e *estate) dryRun(t *testing.T, name string, vars map[string]string) *eventlog.Log {
	t.Helper()
	n := len(e.srv.Requests())
	res, ev := e.run(t, name, true, vars)
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("dry-run %s: %v\n%s", res.Status, res.Err, ev.String())
	}
	if m := e.mutatingSince(n); len(m) > 0 {
		t.Fatalf("dry-run made mutating calls: %v", m)
	}
	return ev
}

// mutatingSince counts the mutating requests the sandbox served after the
// first n of its log.
func (e *estate) mutatingSince(n int) []string {
	var out []string
	for _, r := range e.srv.Requests()[n:] {
		if r.Mutating {
			out = append(out, r.Service+" "+r.Operation)
		}
	}
	return out
}

// objects reads every current object under prefix, key by key.
func objects(t *testing.T, ctx context.Context, c *s3.Client, bucket, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = get(t, ctx, c, bucket, aws.ToString(o.Key), "")
		}
	}
	return out
}

func get(t *testing.T, ctx context.Context, c *s3.Client, bucket, key, version string) []byte {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	g, err := c.GetObject(ctx, in)
	if err != nil {
		t.Fatalf("get %s/%s %s: %v", bucket, key, version, err)
	}
	defer g.Body.Close()
	b, err := io.ReadAll(g.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b
}

func put(t *testing.T, ctx context.Context, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func del(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) {
	t.Helper()
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// sameObjects compares key -> content maps byte for byte.
func sameObjects(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("%s: %s missing", what, k)
		case !wok:
			t.Errorf("%s: %s present, should not be", what, k)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %s differs (%d bytes, want %d)", what, k, len(g), len(w))
		}
	}
}

// TestModelServingFailover runs runbooks/model-serving-failover.hcl: the
// test changes the seeded model artifacts around a time T, plans the
// runbook (no mutating call, the plan names exactly the changed keys), runs
// it, and checks the prefix holds T's state byte for byte, the DR fleet is
// scaled and healthy, and the datasets were snapshotted. Then again under
// throttling, 5xx errors and latency; both on each of estates.
func TestModelServingFailover(t *testing.T) {
	t.Parallel()
	eachEstate(t, func(t *testing.T, e *estate, withFaults bool) {
		ctx := t.Context()
		modelBucket := e.names.ModelBucket
		baseline := objects(t, ctx, e.s3, modelBucket, "models/")
		if len(baseline) == 0 {
			t.Fatal("the seeded estate has no model artifacts")
		}
		var seeded []string
		for k := range baseline {
			seeded = append(seeded, k)
		}
		sort.Strings(seeded)

		// Before T: one artifact updated, one added, one deleted.
		atT := map[string][]byte{}
		for k, v := range baseline {
			atT[k] = v
		}
		advance := func() {
			if _, err := e.srv.AdvanceClock(time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		advance()
		put(t, ctx, e.s3, modelBucket, seeded[0], "good weights before T")
		atT[seeded[0]] = []byte("good weights before T")
		put(t, ctx, e.s3, modelBucket, "models/new-before-T/config.json", `{"layers":12}`)
		atT["models/new-before-T/config.json"] = []byte(`{"layers":12}`)
		del(t, ctx, e.s3, modelBucket, seeded[1])
		delete(atT, seeded[1])
		advance()
		at := e.srv.Now()
		advance()
		// After T: the incident.
		put(t, ctx, e.s3, modelBucket, seeded[0], "corrupted")
		put(t, ctx, e.s3, modelBucket, seeded[2], "corrupted too")
		del(t, ctx, e.s3, modelBucket, seeded[3])
		put(t, ctx, e.s3, modelBucket, seeded[1], "re-created after T")
		put(t, ctx, e.s3, modelBucket, "models/rogue/model.bin", "written by the incident")
		wantChanges := []string{
			"CopyObject " + modelBucket + "/" + seeded[0],
			"CopyObject " + modelBucket + "/" + seeded[2],
			"CopyObject " + modelBucket + "/" + seeded[3],
			"DeleteObject " + modelBucket + "/" + seeded[1],
			"DeleteObject " + modelBucket + "/models/rogue/model.bin",
		}
		sort.Strings(wantChanges)
		if withFaults {
			e.srv.SetFaults(faults)
		}
		vars := map[string]string{"restore_to": at.Format(time.RFC3339), "poll_interval": "50ms"}

		// Dry-run: reads only, the plan names the changes.
		ev := e.dryRun(t, "model-serving-failover.hcl", vars)
		plan := planned(ev, "step.s3_restore.models")
		var got []string
		for _, c := range plan[1:] {
			got = append(got, c.Action+" "+c.Target)
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(wantChanges, "\n") {
			t.Errorf("planned restore:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
		}
		if !strings.Contains(plan[0].Detail, "3 to copy") || !strings.Contains(plan[0].Detail, "2 to delete") {
			t.Errorf("plan summary %q", plan[0].Detail)
		}
		if p := planned(ev, "step.asg_scale.serving"); len(p) == 0 || !strings.Contains(p[0].String(), e.names.DRGroup) {
			t.Errorf("planned scaling: %v", p)
		}

		// For real.
		res, ev := e.run(t, "model-serving-failover.hcl", false, vars)
		if res.Status != runbook.StatusSucceeded {
			t.Fatalf("run %s: %v\n%s", res.Status, res.Err, ev.String())
		}
		e.srv.SetFaults(nil)
		sameObjects(t, "models/ after the failover", objects(t, ctx, e.s3, modelBucket, "models/"), atT)
		if c := res.Outputs["copied"]; !c.RawEquals(cty.NumberIntVal(3)) {
			t.Errorf("output copied = %#v, want 3", c)
		}
		if d := res.Outputs["deleted"]; !d.RawEquals(cty.NumberIntVal(2)) {
			t.Errorf("output deleted = %#v, want 2", d)
		}
		if ids := res.Outputs["snapshot_ids"]; !ids.IsKnown() || ids.LengthInt() == 0 {
			t.Errorf("no dataset snapshots: %#v", ids)
		}
		asg, err := e.clients.AutoScaling(ctx, e.names.DRRegion)
		if err != nil {
			t.Fatal(err)
		}
		g, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{e.names.DRGroup}})
		if err != nil || len(g.AutoScalingGroups) != 1 {
			t.Fatalf("describe DR group: %v", err)
		}
		inService := 0
		for _, i := range g.AutoScalingGroups[0].Instances {
			if i.LifecycleState == "InService" {
				inService++
			}
		}
		if d := aws.ToInt32(g.AutoScalingGroups[0].DesiredCapacity); d != 4 || inService != 4 {
			t.Errorf("DR group desired %d, %d in service; want 4 and 4", d, inService)
		}
	})
}

// TestModelRollback runs runbooks/model-rollback.hcl on a seeded artifact
// with a long history, by version id and by time, on each of estates,
// without and with faults.
func TestModelRollback(t *testing.T) {
	t.Parallel()
	eachEstate(t, func(t *testing.T, e *estate, withFaults bool) {
		ctx := t.Context()
		modelBucket := e.names.ModelBucket
		// The seeded artifact with the most versions.
		out, err := e.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(modelBucket), Prefix: aws.String("models/")})
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string][]string{}
		var current = map[string]string{}
		for _, v := range out.Versions {
			k := aws.ToString(v.Key)
			byKey[k] = append(byKey[k], aws.ToString(v.VersionId))
			if aws.ToBool(v.IsLatest) {
				current[k] = aws.ToString(v.VersionId)
			}
		}
		key := ""
		for k, vs := range byKey {
			if current[k] != "" && (key == "" || len(vs) > len(byKey[key]) || len(vs) == len(byKey[key]) && k < key) {
				key = k
			}
		}
		if key == "" || len(byKey[key]) < 3 {
			t.Fatalf("no seeded artifact with a history: %v", byKey)
		}
		var old string
		for _, v := range byKey[key] {
			if v != current[key] {
				old = v
				break
			}
		}
		head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(modelBucket), Key: aws.String(key), VersionId: aws.String(old)})
		if err != nil {
			t.Fatal(err)
		}
		oldBody := get(t, ctx, e.s3, modelBucket, key, old)
		if withFaults {
			e.srv.SetFaults(faults)
		}
		vars := map[string]string{"key": key, "version_id": old}

		ev := e.dryRun(t, "model-rollback.hcl", vars)
		plan := planned(ev, "step.model_rollback.artifact")
		if len(plan) != 1 || plan[0].Action != "CopyObject" || plan[0].Target != modelBucket+"/"+key {
			t.Fatalf("plan %v", plan)
		}
		for _, s := range []string{"version " + old, "replaces version " + current[key], "git-commit=" + head.Metadata["git-commit"]} {
			if !strings.Contains(plan[0].Detail, s) {
				t.Errorf("plan %q does not say %q", plan[0].Detail, s)
			}
		}

		beforeRollback := e.srv.Now()
		if _, err := e.srv.AdvanceClock(time.Minute); err != nil {
			t.Fatal(err)
		}
		res, ev := e.run(t, "model-rollback.hcl", false, vars)
		if res.Status != runbook.StatusSucceeded {
			t.Fatalf("run %s: %v\n%s", res.Status, res.Err, ev.String())
		}
		e.srv.SetFaults(nil)
		if got := get(t, ctx, e.s3, modelBucket, key, ""); !bytes.Equal(got, oldBody) {
			t.Errorf("current %s is not version %s", key, old)
		}
		if g := res.Outputs["previous_version_id"]; g.AsString() != current[key] {
			t.Errorf("previous_version_id %s, want %s", g.AsString(), current[key])
		}
		if g := res.Outputs["restored_version_id"]; g.AsString() != old {
			t.Errorf("restored_version_id %s, want %s", g.AsString(), old)
		}
		h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(modelBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if h.Metadata["git-commit"] != head.Metadata["git-commit"] {
			t.Errorf("user metadata not carried: %v, want %v", h.Metadata, head.Metadata)
		}

		// By time: back to the version current before the rollback.
		res, ev = e.run(t, "model-rollback.hcl", false, map[string]string{"key": key, "to_time": beforeRollback.Format(time.RFC3339)})
		if res.Status != runbook.StatusSucceeded {
			t.Fatalf("rollback by time %s: %v\n%s", res.Status, res.Err, ev.String())
		}
		if g := res.Outputs["restored_version_id"]; g.AsString() != current[key] {
			t.Errorf("rollback by time restored %s, want %s", g.AsString(), current[key])
		}
	})
}

// TestRestoreFromBackup runs runbooks/restore-from-backup.hcl for the model
// bucket (a continuous recovery point covers T) and for a dataset volume
// (the newest daily point before T), on each of estates, without and with
// faults.
func TestRestoreFromBackup(t *testing.T) {
	t.Parallel()
	eachEstate(t, func(t *testing.T, e *estate, withFaults bool) {
		ctx := t.Context()
		modelBucket := e.names.ModelBucket
		if withFaults {
			e.srv.SetFaults(faults)
		}
		at := e.srv.Now().Add(-50 * time.Hour).Format(time.RFC3339)
		vars := map[string]string{"restore_to": at, "poll_interval": "50ms", "target_bucket": modelBucket + "-restored"}
		if withFaults {
			// The default: a bucket named after the source and the run.
			delete(vars, "target_bucket")
		}

		ev := e.dryRun(t, "restore-from-backup.hcl", vars)
		plan := planned(ev, "step.backup_restore.resource")
		if len(plan) == 0 || !strings.Contains(fmt.Sprint(plan), "new bucket "+modelBucket) {
			t.Errorf("plan %v does not name the new bucket", plan)
		}

		res, ev := e.run(t, "restore-from-backup.hcl", false, vars)
		if res.Status != runbook.StatusSucceeded {
			t.Fatalf("run %s: %v\n%s", res.Status, res.Err, ev.String())
		}
		e.srv.SetFaults(nil)
		arn := res.Outputs["created_resource_arn"].AsString()
		bucket, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
		if !ok || bucket == modelBucket || !strings.HasPrefix(bucket, modelBucket) ||
			vars["target_bucket"] != "" && bucket != vars["target_bucket"] {
			t.Errorf("created %s, want a new bucket", arn)
		}
		if got := objects(t, ctx, e.s3, bucket, ""); len(got) == 0 {
			t.Error("the restored bucket is empty")
		}

		// A dataset volume: the newest daily point before T.
		ec2c, err := e.clients.EC2(ctx, e.names.PrimaryRegion)
		if err != nil {
			t.Fatal(err)
		}
		vols, err := ec2c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{e.names.DatasetTag}}}})
		if err != nil || len(vols.Volumes) == 0 {
			t.Fatalf("dataset volumes: %v", err)
		}
		vol := vols.Volumes[0]
		res, ev = e.run(t, "restore-from-backup.hcl", false, map[string]string{"restore_to": at, "poll_interval": "50ms",
			"resource_arn": "arn:aws:ec2:" + e.names.PrimaryRegion + ":123456789012:volume/" + aws.ToString(vol.VolumeId)})
		if res.Status != runbook.StatusSucceeded {
			t.Fatalf("volume restore %s: %v\n%s", res.Status, res.Err, ev.String())
		}
		if arn := res.Outputs["created_resource_arn"].AsString(); !strings.Contains(arn, ":volume/vol-") || strings.HasSuffix(arn, aws.ToString(vol.VolumeId)) {
			t.Errorf("volume restore created %s, want a new volume", arn)
		}
		if c, err := time.Parse(time.RFC3339, res.Outputs["recovery_point_created"].AsString()); err != nil || c.After(e.srv.Now().Add(-50*time.Hour)) {
			t.Errorf("volume restored from a point created %v (%v), want one before T", c, err)
		}
	})
}
