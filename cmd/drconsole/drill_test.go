package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
)

// drillSandbox serves a sandbox for drills, its admin token in the
// environment as `drconsole sandbox` prints it, for the drill command
// (in-process, or a child) to inject faults with.
func drillSandbox(t *testing.T) (*sandbox.Server, aws.Config) {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, sandbox.Options{
		Seed: 1, SnapshotDuration: 200 * time.Millisecond, InstanceWarmup: 200 * time.Millisecond, RestoreDuration: 200 * time.Millisecond,
	})
	t.Setenv(sandbox.TokenEnv, srv.AdminToken())
	return srv, cfg
}

func gamedayPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "runbooks", "gameday-failover.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drillLeftovers lists what a drill could have left: versions under the
// drill prefix and buckets named for a drill; and the DR group's desired
// capacity.
func drillLeftovers(t *testing.T, cfg aws.Config) (versions int, buckets []string, desired int32) {
	t.Helper()
	ctx := context.Background()
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Prefix: aws.String("drills/")})
	if err != nil {
		t.Fatal(err)
	}
	versions = len(out.Versions) + len(out.DeleteMarkers)
	bs, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs.Buckets {
		if strings.Contains(aws.ToString(b.Name), "-drill-") {
			buckets = append(buckets, aws.ToString(b.Name))
		}
	}
	as := autoscaling.NewFromConfig(cfg, func(o *autoscaling.Options) { o.Region = "us-west-2" })
	g, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{sandbox.DefaultNames().DRGroup}})
	if err != nil || len(g.AutoScalingGroups) != 1 {
		t.Fatalf("describe DR group: %v", err)
	}
	return versions, buckets, aws.ToInt32(g.AutoScalingGroups[0].DesiredCapacity)
}

// TestDrillCommand drills the game-day runbook in-process: the report is
// written to the run's directory and to --report, objectives are met, and
// nothing is left behind.
func TestDrillCommand(t *testing.T) {
	srv, cfg := drillSandbox(t)
	_, _, before := drillLeftovers(t, cfg)
	state := t.TempDir()
	report := filepath.Join(t.TempDir(), "drill.md")
	now := srv.Now()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"drill", gamedayPath(t), "--target", "sandbox", "--endpoint", srv.URL(),
		"--state-dir", state, "--auto-approve", "--report", report,
		"--incident-at", now.UTC().Format(time.RFC3339),
		"--var", "restore_to=" + now.Add(-30*time.Minute).UTC().Format(time.RFC3339), "--var", "poll_interval=50ms",
	}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("drill exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| RTO | 30m0s |", "PASS", "## Teardown: finished"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report lacks %q:\n%s", s, md)
		}
	}
	for _, s := range []string{"⇢ drill", "↺ undo", "teardown finished"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, stdout.String())
		}
	}
	runs, err := (&journal.Store{Dir: state}).List()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	rep, err := drill.ReadReport(filepath.Join(state, runs[0].ID))
	if err != nil || !rep.Passed() || !rep.IncidentDeclared {
		t.Fatalf("report in the run directory: %+v %v", rep, err)
	}
	if v, b, d := drillLeftovers(t, cfg); v != 0 || len(b) != 0 || d != before {
		t.Errorf("left behind: %d versions, buckets %v, DR desired %d (was %d)", v, b, d, before)
	}

	// Faults go only to the sandbox.
	stderr.Reset()
	code = run(context.Background(), []string{"drill", gamedayPath(t), "--target", "aws", "--endpoint", srv.URL(), "--state-dir", state,
		"--fault", "throttle:0.1", "--var", "restore_to=2026-01-01T00:00:00Z"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "only be injected into the sandbox") {
		t.Errorf("fault against AWS: exit %d\n%s", code, stderr.String())
	}
}

// A drill with faults against a sandbox whose token it lacks is refused
// before it starts: exit 2, saying where the token comes from, no run
// journalled, no fault installed, no AWS call made.
func TestDrillFaultsNeedTheSandboxToken(t *testing.T) {
	srv, _ := drillSandbox(t)
	state := t.TempDir()
	for _, token := range []string{"", "not-the-sandbox-token-01234"} {
		t.Setenv(sandbox.TokenEnv, token)
		before := len(srv.Requests())
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"drill", gamedayPath(t), "--target", "sandbox", "--endpoint", srv.URL(),
			"--state-dir", state, "--auto-approve", "--fault", "throttle:0.1",
			"--var", "restore_to=" + srv.Now().Add(-30*time.Minute).UTC().Format(time.RFC3339)},
			strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), "401") {
			t.Fatalf("token %q: exit %d\n%s", token, code, stderr.String())
		}
		if token == "" && !strings.Contains(stderr.String(), sandbox.TokenEnv) {
			t.Errorf("no token: the refusal does not say where the token comes from:\n%s", stderr.String())
		}
		if len(srv.Faults()) != 0 || len(srv.Requests()) != before {
			t.Fatalf("token %q: faults %v, %d AWS calls", token, srv.Faults(), len(srv.Requests())-before)
		}
		if entries, _ := os.ReadDir(state); len(entries) != 0 {
			t.Fatalf("token %q: the refused drill left %v in the state directory", token, entries)
		}
	}
}

// TestDrillKilledThenTeardown kills a real drconsole drill with SIGKILL
// after a step has finished, then drconsole drill --teardown RUN_ID
// removes what the drill created; a second teardown is harmless.
func TestDrillKilledThenTeardown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	srv, cfg := drillSandbox(t)
	_, _, before := drillLeftovers(t, cfg)
	state := t.TempDir()
	restoreTo := srv.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)
	cmd := exec.Command(bin, "drill", gamedayPath(t), "--target", "sandbox", "--endpoint", srv.URL(), "--state-dir", state,
		"--auto-approve", "--output", "json", "--var", "restore_to="+restoreTo, "--var", "poll_interval=50ms",
		// Holds the last step, so the kill lands while the drill runs.
		"--fault", "latency:3s,service=monitoring,at_step=step.alarms_check.health")
	cmd.Stderr = &lockedbuf.Buffer{}
	events := startEvents(t, cmd)
	id := awaitEvent(t, events, runbook.RunStarted, "").RunID
	awaitEvent(t, events, runbook.StepStarted, "step.alarms_check.health")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(srv.Faults()) != 1 {
		t.Fatalf("faults in the sandbox after the kill: %v", srv.Faults())
	}
	if v, b, d := drillLeftovers(t, cfg); v == 0 || len(b) == 0 || d == before {
		t.Fatalf("the killed drill left nothing to tear down: %d versions, buckets %v, desired %d", v, b, d)
	}

	for i := range 2 {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"drill", "--teardown", id, "--state-dir", state, "--target", "sandbox", "--endpoint", srv.URL()},
			strings.NewReader(""), &out, &errOut)
		if code != exitOK {
			t.Fatalf("teardown %d: exit %d\n%s\n%s", i+1, code, out.String(), errOut.String())
		}
	}
	if len(srv.Faults()) != 0 {
		t.Errorf("faults left after --teardown: %v", srv.Faults())
	}
	if v, b, d := drillLeftovers(t, cfg); v != 0 || len(b) != 0 || d != before {
		t.Errorf("after --teardown: %d versions, buckets %v, DR desired %d (was %d)", v, b, d, before)
	}
	rep, err := drill.ReadReport(filepath.Join(state, id))
	if err != nil || rep.Teardown.Status != "finished" {
		t.Fatalf("report after teardown: %+v %v", rep, err)
	}
}

// drill --dry-run prints each step's drill mode in the plan and changes
// nothing.
func TestDrillDryRunShowsRedirects(t *testing.T) {
	srv, _ := drillSandbox(t)
	state := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"drill", gamedayPath(t), "--dry-run", "--target", "sandbox", "--endpoint", srv.URL(),
		"--state-dir", state, "--drill-target", "ai-model-artifacts/rehearsals",
		"--var", "restore_to=" + srv.Now().Add(-50*time.Hour).UTC().Format(time.RFC3339)},
		strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	for _, s := range []string{"Plan for", "⇢ drill: redirect ai-model-artifacts/rehearsals/", "⇢ drill: scale back at teardown ai-inference-dr",
		"⇢ drill: tag snapshots drconsole:drill=", "-drill-"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("plan lacks %q:\n%s", s, stdout.String())
		}
	}
	for _, r := range srv.Requests() {
		if r.Mutating {
			t.Errorf("dry-run drill made a mutating call: %s %s", r.Service, r.Operation)
		}
	}
	var stderr2 bytes.Buffer
	code = run(context.Background(), []string{"drill", filepath.Join("testdata", "resume.hcl"), "--state-dir", state, "--var", "dir=" + t.TempDir()},
		strings.NewReader(""), &stdout, &stderr2)
	if code != exitUsage || !strings.Contains(stderr2.String(), "Step not safe in a drill") {
		t.Errorf("exec steps in a drill: exit %d\n%s", code, stderr2.String())
	}
}
