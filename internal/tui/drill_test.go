package tui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

const drillRunbook = `runbook {
  description = "A drill of the DR fleet"
  # One step at a time: the branch beside the fleet's is done before
  # the approval moves the clock, so the screens do not vary.
  parallelism = 1
  objectives {
    rto = "30m"
    rpo = "1h"
  }
}

step "wait" "prepare" {
  duration = "1ms"
}

step "wait" "side" {
  duration = "1ms"
}

step "asg_scale" "serving" {
  region        = "us-west-2"
  group         = "ai-inference-dr"
  desired       = 2
  poll_interval = "10ms"
  depends_on    = [step.wait.prepare]
}
`

// newDrillFixture is a sandbox whose clock moves on 100ms at every
// reading, so the instances a drill launches come into service after a
// few polls; the console's clock stays fixed, so its screens do not move.
func newDrillFixture(t *testing.T) *fixture {
	t.Helper()
	clock, estate := &testClock{}, &testClock{}
	clock.Set(fixedNow)
	estate.Set(fixedNow)
	srv, _ := sandboxtest.Start(t, sandbox.Options{Seed: 1, InstanceWarmup: time.Second, Clock: func() time.Time {
		estate.Advance(100 * time.Millisecond)
		return estate.Now()
	}})
	return &fixture{srv: srv, clock: clock}
}

// drillDir is a runbooks directory holding the drill runbook.
func drillDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet-drill.hcl"), []byte(drillRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runDrill drills the runbook through the engine, as the console does,
// and returns the run id once the drill and its teardown are over.
func runDrill(t *testing.T, h *harness, dir string) string {
	t.Helper()
	svc := h.m.env.opts.Runs
	rb, _, err := svc.Load(filepath.Join(dir, "fleet-drill.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.PrepareDrill(context.Background(), runner.DrillRequest{Request: runner.Request{
		Runbook: rb, Approver: approveAfter{clock: h.clock, think: 90 * time.Second},
		Sink: runbook.SinkFunc(func(runbook.Event) error { return nil }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Report == nil || out.Report.Teardown.Status != "finished" {
		t.Fatalf("drill outcome: %+v", out)
	}
	return d.ID
}

// approveAfter approves every question after thinking for a while on
// the console's clock, so the drill's steps take time.
type approveAfter struct {
	clock *testClock
	think time.Duration
}

func (a approveAfter) Approve(context.Context, runbook.GateRequest) (runbook.Decision, error) {
	a.clock.Advance(a.think)
	return runbook.Decision{Approved: true, By: "tester"}, nil
}

// interrupt makes run id look like a drill stopped before its teardown:
// the journal ends before teardown_started and no report was written.
func interrupt(t *testing.T, store *journal.Store, id string) {
	t.Helper()
	b, err := os.ReadFile(store.Path(id))
	if err != nil {
		t.Fatal(err)
	}
	var kept strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		var e runbook.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == runbook.TeardownStarted {
			break
		}
		kept.Write(sc.Bytes())
		kept.WriteByte('\n')
	}
	if err := os.WriteFile(store.Path(id), []byte(kept.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{drill.ReportJSON, drill.ReportMarkdown, drill.ReportJUnit} {
		if err := os.Remove(filepath.Join(store.RunDir(id), f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunsShowsDrillReport opens a finished drill in Runs: marked as a
// drill, its objectives with PASS/FAIL, the critical path, the teardown
// and its actions; resume is not offered.
func TestRunsShowsDrillReport(t *testing.T) {
	fx := newDrillFixture(t)
	dir := drillDir(t)
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			h := newHarnessOn(t, fx, sz.w, sz.h, func(o *Options) { o.RunbooksDir = dir })
			id := runDrill(t, h, dir)
			h.keys("7")
			h.waitScreen("drill")
			h.golden(fmt.Sprintf("runs-drill-list-%dx%d", sz.w, sz.h))
			h.keys("enter")
			h.waitScreen("DRILL")
			scr := h.screen()
			for _, want := range []string{"RTO ✔ PASS", "RPO ✖ FAIL", "critical path", "◆ step.asg_scale.serving", "✔ teardown finished", "↺ step.asg_scale.serving"} {
				if !strings.Contains(scr, want) {
					t.Errorf("drill report lacks %q:\n%s", want, scr)
				}
			}
			if strings.Contains(scr, "resume") {
				t.Errorf("a drill offers resume:\n%s", scr)
			}
			h.golden(fmt.Sprintf("runs-drill-%dx%d", sz.w, sz.h))
			h.keys("R")
			h.waitScreen("a drill is not resumed")
			if h.m.run != nil && h.m.run.id == id {
				t.Fatal("R resumed a drill")
			}
		})
	}
}

// TestRunsFinishesInterruptedDrillTeardown opens a drill stopped before
// its teardown: the report is measured from the journal, T finishes the
// teardown, and the report file then says it finished.
func TestRunsFinishesInterruptedDrillTeardown(t *testing.T) {
	dir := drillDir(t)
	h := newHarnessOn(t, newDrillFixture(t), 120, 40, func(o *Options) { o.RunbooksDir = dir })
	id := runDrill(t, h, dir)
	store := h.m.env.opts.Runs.Store
	interrupt(t, store, id)

	h.keys("7")
	h.waitScreen("drill")
	h.keys("enter")
	h.waitScreen("teardown NOT RUN")
	if !strings.Contains(h.screen(), "T finish teardown") {
		t.Fatalf("teardown is not offered:\n%s", h.screen())
	}
	h.golden("runs-drill-interrupted-120x40")
	h.keys("T")
	h.waitScreen("✔ teardown finished")
	h.waitScreen("teardown of drill")
	rep, err := drill.ReadReport(store.RunDir(id))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Teardown.Status != "finished" {
		t.Fatalf("report teardown %+v", rep.Teardown)
	}
	if strings.Contains(h.screen(), "T finish teardown") {
		t.Fatalf("teardown still offered after it finished:\n%s", h.screen())
	}
}

// TestReadOnlyRefusesDrillTeardown: the read-only console does not tear
// down, and says how to.
func TestReadOnlyRefusesDrillTeardown(t *testing.T) {
	dir := drillDir(t)
	fx := newDrillFixture(t)
	rw := newHarnessOn(t, fx, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	id := runDrill(t, rw, dir)
	store := rw.m.env.opts.Runs.Store
	interrupt(t, store, id)
	h := newHarnessOn(t, fx, 120, 40, func(o *Options) {
		o.RunbooksDir, o.ReadOnly = dir, true
		if e := o.Runs; e != nil {
			e.Store = store
		}
	})
	h.keys("7")
	h.waitScreen("drill")
	h.keys("enter")
	h.waitScreen("teardown NOT RUN")
	h.keys("T")
	h.waitScreen("drconsole drill --teardown " + id)
}

// TestRunbooksDrill drills a runbook from the Runbooks view: D plans the
// drill (what it redirects shows on the step), x runs it, the gate asks,
// and the end shows the teardown and the report.
func TestRunbooksDrill(t *testing.T) {
	fx := newDrillFixture(t)
	dir := drillDir(t)
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			h := newHarnessOn(t, fx, sz.w, sz.h, func(o *Options) { o.RunbooksDir = dir })
			suffix := fmt.Sprintf("-%dx%d", sz.w, sz.h)
			h.keys("6")
			h.waitScreen("fleet-drill")
			if !strings.Contains(h.screen(), "D drill") {
				t.Fatalf("the footer does not offer drills:\n%s", h.screen())
			}
			h.keys("D")
			h.waitScreen("drill plan SUCCEEDED")
			h.keys("G")
			h.waitScreen("⇢ drill:")
			h.golden("runbooks-drill-plan" + suffix)
			h.clock.Advance(time.Second)
			h.keys("x")
			h.waitFor("the gate", func() bool { return h.m.modal != nil })
			token := h.m.modal.token
			h.clock.Advance(90 * time.Second)
			approve(h, token)
			h.waitScreen("RTO ✔ PASS")
			scr := h.screen()
			for _, want := range []string{"drill SUCCEEDED", "✔ teardown finished", "↺ step.asg_scale.serving"} {
				if !strings.Contains(scr, want) {
					t.Errorf("drill end lacks %q:\n%s", want, scr)
				}
			}
			h.golden("runbooks-drill-done" + suffix)
		})
	}
}

func TestReadOnlyRefusesDrill(t *testing.T) {
	dir := drillDir(t)
	h := newHarnessOn(t, newDrillFixture(t), 80, 24, func(o *Options) { o.RunbooksDir, o.ReadOnly = dir, true })
	h.keys("6")
	h.waitScreen("fleet-drill")
	h.keys("D")
	h.waitScreen("read-only console: drills are disabled")
}

const faultRunbook = `runbook {
  description = "A drill under S3 throttling"
  drill {
    fault {
      kind    = "throttle"
      service = "s3"
    }
  }
}

step "wait" "prepare" {
  duration = "1ms"
}
`

// TestDrillFaultsOnlyOnTheSandbox: a drill asking for faults is refused
// without an injector (AWS), and on the embedded sandbox its report
// lists them.
func TestDrillFaultsOnlyOnTheSandbox(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "throttled.hcl"), []byte(faultRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	fx := newDrillFixture(t)
	h := newHarnessOn(t, fx, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	h.keys("6")
	h.waitScreen("throttled")
	h.keys("D")
	h.waitScreen("faults can only be injected into the sandbox")
	if runs, err := h.m.env.opts.Runs.History(); err != nil || len(runs) != 0 {
		t.Fatalf("a refused drill left runs %v (%v)", runs, err)
	}

	h = newHarnessOn(t, fx, 120, 40, func(o *Options) {
		o.RunbooksDir = dir
		if e := o.Runs; e != nil {
			e.Injector = drill.ServerInjector{Server: fx.srv}
		}
	})
	h.keys("6")
	h.waitScreen("throttled")
	h.keys("D")
	h.waitScreen("drill plan SUCCEEDED")
	h.keys("x")
	h.waitScreen("faults injected: throttle")
	if fs := fx.srv.Faults(); len(fs) != 0 {
		t.Fatalf("faults left in the sandbox after the drill: %v", fs)
	}
}
