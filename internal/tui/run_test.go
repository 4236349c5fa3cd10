package tui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// desired reads the DR group's desired capacity from the sandbox.
func desired(t *testing.T, h *harness) int32 {
	t.Helper()
	c, err := h.m.env.opts.Clients.AutoScaling(context.Background(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"ai-inference-dr"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe group: %v", err)
	}
	return aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity)
}

// openScaleRunbook goes to Runbooks, opens scale-dr, fills the form and
// waits for the plan.
func openScaleRunbook(h *harness) {
	openRunbook(h, "scale-dr")
	h.waitScreen("Variables")
	h.keys("down") // desired keeps its default; reason is required
	h.typeText("drill")
	h.keys("enter")
	h.waitScreen("plan SUCCEEDED")
}

func TestRunThroughGate(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	openScaleRunbook(h)
	if !strings.Contains(h.screen(), "SetDesiredCapacity") && !strings.Contains(h.screen(), "step.asg_scale.serving") {
		t.Fatalf("plan does not show the scaling step:\n%s", h.screen())
	}
	// The gate confirms the scaling step, whose plan it shows: its token
	// is the group and region the step changes.
	h.keys("x")
	h.waitScreen("Gate gate.scale")
	h.waitScreen("⚠ WAITING")
	h.golden("gate-120x40")
	if !strings.Contains(h.screen(), "SetDesiredCapacity ai-inference-dr 0 -> 2") {
		t.Fatalf("the gate does not show the planned change:\n%s", h.screen())
	}
	// The gate names its run and runbook, and counts its timeout down on
	// the console's clock.
	for _, want := range []string{"run " + h.m.run.id + " of scale-dr", "refused automatically in 30m0s"} {
		if !strings.Contains(h.screen(), want) {
			t.Fatalf("the gate lacks %q:\n%s", want, h.screen())
		}
	}
	h.clock.Advance(90 * time.Second)
	h.waitScreen("refused automatically in 28m30s")
	// First run: enter alone leaves the gate open and repeats the hint;
	// esc asks, and only y refuses.
	h.clock.Advance(time.Second)
	h.keys("enter")
	h.waitScreen("type ai-inference-dr@us-west-2 and press enter to approve, or esc to refuse")
	h.clock.Advance(time.Second)
	h.keys("esc")
	h.waitScreen("Refuse? The run ends refused.")
	h.clock.Advance(time.Second)
	h.keys("n")
	h.waitScreen("not refused: the gate is still open")
	h.clock.Advance(time.Second)
	h.keys("esc")
	h.clock.Advance(time.Second)
	h.keys("y")
	h.waitScreen("REFUSED")
	if d := desired(t, h); d != 0 {
		t.Fatalf("a refused gate scaled the group to %d", d)
	}

	// Second run: keys in the first moments, a paste, a paste without
	// bracketed-paste markers (the token's keys in one read) and a wrong
	// token do nothing; the typed token approves, once for the gate and
	// the step it confirms.
	token := "ai-inference-dr@us-west-2"
	h.keys("x")
	h.waitScreen("Gate gate.scale")
	h.typeText("ai") // too soon: ignored
	if h.m.modal == nil || h.m.modal.input != "" {
		t.Fatalf("keys typed as the gate opened were taken")
	}
	h.clock.Advance(time.Second)
	h.send(pasteMsg(token))
	h.settle()
	if h.m.modal.input != "" {
		t.Fatalf("a paste was taken")
	}
	h.clock.Advance(time.Second)
	h.typeText(token)
	h.keys("enter")
	if h.m.modal == nil || h.m.modal.input == token {
		t.Fatalf("an unbracketed paste filled the token (input %q)", h.m.modal.input)
	}
	h.clock.Advance(time.Second)
	approve(h, "scale")
	if h.m.modal == nil || !strings.Contains(h.screen(), "does not match") {
		t.Fatalf("a wrong token closed the gate:\n%s", h.screen())
	}
	h.keys("ctrl+u")
	approve(h, token)
	// The group's instances warm up on the sandbox clock.
	h.waitFor("the run to succeed", func() bool {
		h.clock.Advance(time.Second)
		if h.m.modal != nil {
			t.Fatalf("the confirmed step asked again:\n%s", h.screen())
		}
		return strings.Contains(h.screen(), "run SUCCEEDED")
	})
	if d := desired(t, h); d != 2 {
		t.Fatalf("desired capacity %d after the run, want 2", d)
	}

	// The run is in the journal, with who approved the gate.
	h.keys("7")
	h.waitScreen("succeeded")
	h.keys("enter")
	h.waitScreen("by tester")
}

func TestReadOnlyRefusesEveryAction(t *testing.T) {
	h := newHarness(t, 120, 40, func(o *Options) { o.ReadOnly = true })
	if !strings.Contains(h.screen(), "READ-ONLY") {
		t.Fatalf("header does not say READ-ONLY:\n%s", h.screen())
	}
	// Roll back a model version.
	h.keys("2", "enter", "enter", "enter", "down", "enter", "j", "R")
	h.waitScreen("read-only console: roll back is disabled")
	if h.m.modal != nil {
		t.Fatal("a roll back confirmation opened in read-only mode")
	}
	// Plans still work (reads only); runs are refused.
	openScaleRunbook(h)
	h.keys("x")
	h.waitScreen("read-only console: runs are disabled")
	// Export writes a local file, not AWS state: it stays allowed.
	h.keys("8", "e")
	h.waitScreen("exported")
	for _, r := range h.srv.Requests() {
		if r.Mutating {
			t.Errorf("mutating call in read-only mode: %s %s", r.Service, r.Operation)
		}
	}
	if d := desired(t, h); d != 0 {
		t.Fatalf("desired capacity changed to %d", d)
	}
}

func TestRollbackMakesVersionCurrent(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("2", "enter", "enter", "enter", "down", "enter", "j")
	h.waitScreen("○ earlier version")
	tl := h.m.views[1].(*modelsView).tl
	want := tl.versions[tl.g.selected()]
	h.keys("R")
	// The roll back runs through the engine: journalled, behind the
	// step's own gate, which shows what becomes current.
	h.waitScreen("Gate step.model_rollback.artifact")
	if !strings.Contains(h.screen(), want.VersionID) {
		t.Fatalf("the gate does not show the version that becomes current:\n%s", h.screen())
	}
	h.clock.Advance(time.Second)
	approve(h, tl.bucket+"/"+want.Key)
	h.waitScreen("run SUCCEEDED")

	c, err := h.m.env.opts.Clients.S3(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(tl.bucket), Key: aws.String(want.Key)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != want.Size {
		t.Fatalf("current version is %d bytes, want the %d of version %s", aws.ToInt64(head.ContentLength), want.Size, want.VersionID)
	}
	// The Runs list says what the roll back did; its detail, every
	// variable whole.
	h.keys("7")
	h.waitScreen("roll back " + want.Key)
	h.keys("enter")
	h.waitScreen("version_id=" + want.VersionID)
	h.waitScreen("key=" + want.Key)
}

// approve types token one key at a time, as a person does, and enter.
func approve(h *harness, token string) {
	h.t.Helper()
	for _, r := range token {
		h.clock.Advance(150 * time.Millisecond)
		h.keys(string(r))
	}
	h.clock.Advance(150 * time.Millisecond)
	h.keys("enter")
}

func TestQuitWhileRunActiveAsksFirst(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	openRunbook(h, "slow")
	h.waitScreen("plan SUCCEEDED")
	h.keys("x")
	h.waitScreen("run in progress")
	h.keys("q")
	h.waitScreen("Quit and cancel it?")
	h.keys("n")
	h.waitScreen("quit cancelled: the run goes on")
	if !h.m.run.active() {
		t.Fatal("the run stopped")
	}
	h.keys("q")
	_, cmd := h.m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y did not quit")
	}
	h.waitFor("the run to be cancelled", func() bool { return !h.m.run.active() })
	if h.m.run.Status != "cancelled" {
		t.Fatalf("run ended %q, want cancelled", h.m.run.Status)
	}
}

func TestCancelThenResumeFromRuns(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	openRunbook(h, "slow")
	h.waitScreen("plan SUCCEEDED")
	h.clock.Advance(time.Second)
	h.keys("x")
	h.waitScreen("run in progress")
	h.keys("ctrl+x")
	h.waitScreen("Cancel the run?")
	h.keys("y")
	h.waitScreen("run CANCELLED")
	id := h.m.run.id

	h.keys("7")
	h.waitScreen("✖ cancelled")
	// R asks first; any key but y leaves the run as it is.
	h.keys("R")
	h.waitScreen("y resumes")
	h.keys("n")
	h.waitScreen("not started")
	h.keys("R")
	h.waitScreen("y resumes")
	h.keys("y")
	h.waitScreen("run in progress")
	if h.m.run.id != id || !h.m.run.active() {
		t.Fatalf("resumed run %q (active %v), want %q", h.m.run.id, h.m.run.active(), id)
	}
	if !strings.Contains(h.screen(), "[Runbooks]") {
		t.Fatalf("resume did not show the live run:\n%s", h.screen())
	}
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	evs, err := h.m.env.opts.Runs.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	starts := 0
	for _, e := range evs {
		if e.Kind == "run_started" {
			starts++
		}
	}
	if starts != 2 {
		t.Fatalf("journal of %s has %d run_started records, want 2 (the run and its resume)", id, starts)
	}
}

// openRunbook goes to Runbooks and opens name, found with the filter.
func openRunbook(h *harness, name string) {
	h.t.Helper()
	h.keys(":", "r", "b", "enter")
	h.waitScreen(name)
	h.keys("/")
	h.typeText(name)
	h.keys("enter")
	h.waitScreen("1/1")
	h.keys("enter")
}

func TestGateModalClosesWhenRunIsCancelled(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	openRunbook(h, "approve")
	h.waitScreen("Variables")
	h.keys("enter")
	h.waitScreen("plan SUCCEEDED")
	h.keys("x")
	h.waitScreen("Type go and press enter")
	// The run is cancelled from elsewhere (the console quitting, a
	// signal): the modal must not stay behind.
	h.m.run.stop()
	h.waitFor("the modal to close", func() bool { return h.m.modal == nil })
	h.waitScreen("run CANCELLED")
}

func TestAPIErrorsShowInStatusLine(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	h.srv.SetFaults([]sandbox.Fault{{Service: "backup", Kind: sandbox.FaultError5xx}})
	h.keys("r")
	h.waitScreen("✖ error:")
	h.waitScreen("could not read")
	if !strings.Contains(h.screen(), "Replication") {
		t.Fatalf("the rest of the Overview is gone:\n%s", h.screen())
	}
	h.srv.SetFaults(nil)
	h.keys("r")
	h.waitFor("the error to clear", func() bool { return !strings.Contains(h.screen(), "could not read") })
}

func TestAPILogExportHasCallsAndNoCredentials(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("8", "e")
	h.waitScreen("exported")
	files, err := filepath.Glob(filepath.Join(h.m.env.opts.StateDir, "api-log-*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("export files %v, %v", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var calls []APICall
	if err := json.Unmarshal(b, &calls); err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, c := range calls {
		ops[c.Service+" "+c.Operation] = true
	}
	for _, want := range []string{"sts GetCallerIdentity", "backup ListRecoveryPointsByBackupVault", "cloudwatch DescribeAlarms"} {
		if !ops[want] {
			t.Errorf("export lacks %s: %v", want, ops)
		}
	}
	for _, secret := range []string{sandbox.DefaultSecretAccessKey, sandbox.DefaultAccessKeyID, "Authorization", "X-Amz-Signature"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the export contains %q", secret)
		}
	}
}
