package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDependencies(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
step "echo" "late" {
  value = step.echo.first.value          # implicit, through an output
  depends_on = [gate.ok]                 # explicit
}
gate "ok" {
  prompt = "continue after ${local.msg}?" # implicit, through a local
}
locals {
  msg = step.wait.w.waited
}
step "wait" "w" {
  when = step.echo.first.count > 0       # implicit, through when
}
step "echo" "first" {
  count = 1
}
step "echo" "alone" {
  value = var.v
}
variable "v" { default = "x" }
`, reg)
	want := map[string][]string{
		"step.echo.late":  {"gate.ok", "step.echo.first"},
		"gate.ok":         {"step.wait.w"},
		"step.wait.w":     {"step.echo.first"},
		"step.echo.first": nil,
		"step.echo.alone": nil,
	}
	for addr, deps := range want {
		if got := rb.Node(addr).Deps; !slices.Equal(got, deps) {
			t.Errorf("%s deps %v; want %v", addr, got, deps)
		}
	}
	var order []string
	for _, n := range rb.Order() {
		order = append(order, n.Addr)
	}
	wantOrder := []string{"step.echo.first", "step.wait.w", "gate.ok", "step.echo.late", "step.echo.alone"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("order %v; want %v", order, wantOrder)
	}

	// A local that reads a step's outputs is evaluated once that step ran.
	ap := &approver{decision: Decision{Approved: true, By: "dana"}}
	ev := &events{}
	res := Execute(t.Context(), rb, Options{Sink: ev, Approver: ap, Vars: mustVars(t, rb, VarInputs{}), Parallelism: 1})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if len(ap.asked) != 1 || ap.asked[0].Prompt != "continue after 0s?" {
		t.Errorf("asked %+v", ap.asked)
	}
}

func TestOrderStable(t *testing.T) {
	reg, _, _ := testRegistry()
	src := `
step "wait" "c" {}
step "wait" "a" { depends_on = [step.wait.c] }
step "wait" "b" {}
step "wait" "d" { depends_on = [step.wait.b] }
`
	var first []string
	for i := 0; i < 20; i++ {
		rb := mustParse(t, src, reg)
		var order []string
		for _, n := range rb.Order() {
			order = append(order, n.Addr)
		}
		if i == 0 {
			first = order
			want := []string{"step.wait.c", "step.wait.a", "step.wait.b", "step.wait.d"}
			if !slices.Equal(order, want) {
				t.Fatalf("order %v; want %v", order, want)
			}
		} else if !slices.Equal(order, first) {
			t.Fatalf("order changed: %v then %v", first, order)
		}
	}
}

func TestParallelismHonoured(t *testing.T) {
	reg, _, _ := testRegistry()
	var src strings.Builder
	src.WriteString("runbook {\n  parallelism = 2\n}\n")
	for i := 0; i < 12; i++ {
		src.WriteString(`step "wait" "w` + string(rune('a'+i)) + `" { duration = "10ms" }` + "\n")
	}
	rb := mustParse(t, src.String(), reg)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		running, peak := 0, 0
		sink := SinkFunc(func(e Event) error {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case StepStarted:
				running++
				peak = max(peak, running)
			case StepFinished, StepFailed:
				running--
			}
			return nil
		})
		res := Execute(t.Context(), rb, Options{RunID: "p", Sink: sink})
		if res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		if peak != 2 {
			t.Errorf("peak running %d; want 2", peak)
		}
	})
}

func TestParallelismOption(t *testing.T) {
	reg, _, _ := testRegistry()
	var src strings.Builder
	for i := 0; i < 9; i++ {
		src.WriteString(`step "wait" "w` + string(rune('a'+i)) + `" { duration = "1s" }` + "\n")
	}
	rb := mustParse(t, src.String(), reg)
	for _, par := range []int{1, 3, 0} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			var mu sync.Mutex
			running, peak := 0, 0
			sink := SinkFunc(func(e Event) error {
				mu.Lock()
				defer mu.Unlock()
				switch e.Kind {
				case StepStarted:
					running++
					peak = max(peak, running)
				case StepFinished:
					running--
				}
				return nil
			})
			res := Execute(t.Context(), rb, Options{Parallelism: par, Sink: sink})
			if res.Status != StatusSucceeded {
				t.Fatal(res.Err)
			}
			want := par
			if par == 0 {
				want = DefaultParallelism
			}
			if peak != want {
				t.Errorf("parallelism %d: peak %d", par, peak)
			}
			// On the fake clock, 9 one-second steps take ceil(9/want) seconds.
			if got, w := time.Since(start), time.Duration((9+want-1)/want)*time.Second; got != w {
				t.Errorf("parallelism %d: took %s; want %s", par, got, w)
			}
		})
	}
}

const failingGraph = `
step "echo" "bad" {
  fail = 1
  on_failure = "%s"
}
step "echo" "after_bad" {
  value = step.echo.bad.value
}
step "echo" "after_after" {
  depends_on = [step.echo.after_bad]
}
step "wait" "slow" {
  duration = "1h"
}
step "echo" "independent" {
  depends_on = [step.wait.slow]
}
`

func TestAbortVersusContinue(t *testing.T) {
	for _, policy := range []string{"abort", "continue"} {
		t.Run(policy, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg, rec, _ := testRegistry()
				rb := mustParse(t, strings.Replace(failingGraph, "%s", policy, 1), reg)
				ev := &events{}
				res := Execute(t.Context(), rb, Options{RunID: "r", Sink: ev, Parallelism: 4})
				if res.Status != StatusFailed {
					t.Fatalf("status %s", res.Status)
				}
				if !slices.Equal(res.Failed, []string{"step.echo.bad"}) {
					t.Errorf("failed %v", res.Failed)
				}
				if !errors.Is(res.Err, errBoom) && !strings.Contains(res.Err.Error(), "boom") {
					t.Errorf("error %v", res.Err)
				}
				if rec.count("step.echo.after_bad") != 0 || rec.count("step.echo.after_after") != 0 {
					t.Errorf("dependents of a failed step ran: %v", rec.appliedList())
				}
				skip := ev.find(StepSkipped, "step.echo.after_bad")
				if skip == nil {
					t.Fatal("no step_skipped for the dependent")
				}
				switch policy {
				case "abort":
					// The slow step was cancelled in flight; nothing new started.
					if f := ev.find(StepFailed, "step.wait.slow"); f == nil || !strings.Contains(f.Error, "cancelled") {
						t.Errorf("slow step not cancelled: %+v", f)
					}
					if rec.count("step.echo.independent") != 0 {
						t.Error("a step started after the abort")
					}
					if !strings.Contains(skip.Reason, "run aborted: step.echo.bad failed") {
						t.Errorf("skip reason %q", skip.Reason)
					}
				case "continue":
					if rec.count("step.echo.independent") != 1 || ev.find(StepFinished, "step.wait.slow") == nil {
						t.Errorf("independent branch did not finish: %v", rec.appliedList())
					}
					if skip.Reason != "depends on step.echo.bad, which failed" {
						t.Errorf("skip reason %q", skip.Reason)
					}
					s2 := ev.find(StepSkipped, "step.echo.after_after")
					if s2 == nil || s2.Reason != "depends on step.echo.after_bad, which was skipped" {
						t.Errorf("transitive skip %+v", s2)
					}
				}
				fin := ev.of(RunFinished)
				if len(fin) != 1 || fin[0].Status != StatusFailed {
					t.Errorf("run_finished %+v", fin)
				}
			})
		})
	}
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, _ := testRegistry()
		rb := mustParse(t, `
step "wait" "long" { duration = "1h" }
step "wait" "after" {
  depends_on = [step.wait.long]
}`, reg)
		ctx, cancel := context.WithCancel(t.Context())
		ev := &events{onEmit: func(e Event) error {
			if e.Kind == StepStarted {
				cancel()
			}
			return nil
		}}
		res := Execute(ctx, rb, Options{Sink: ev})
		if res.Status != StatusCancelled {
			t.Fatalf("status %s", res.Status)
		}
		// Said once: not "cancelled (context canceled): context canceled".
		if f := ev.find(StepFailed, "step.wait.long"); f == nil || f.Error != "cancelled" || f.Reason != ReasonCancelled {
			t.Errorf("in-flight step %+v", f)
		}
		if n := Fold(ev.list()).Node("step.wait.long"); n == nil || !n.Cancelled || n.Status != NodeFailed {
			t.Errorf("folded %+v", n)
		}
		if s := ev.find(StepSkipped, "step.wait.after"); s == nil || s.Reason != "run cancelled" {
			t.Errorf("pending step %+v", s)
		}
		if fin := ev.of(RunFinished); len(fin) != 1 || fin[0].Status != StatusCancelled {
			t.Errorf("run_finished %+v", fin)
		}
	})
}

// A cancellation with a cause says the cause, and what the step said
// besides the cancellation.
func TestCancelledErrorSaysItOnce(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted (SIGINT)"))
	for _, c := range []struct {
		step error
		want string
	}{
		{context.Canceled, "cancelled (interrupted (SIGINT))"},
		{fmt.Errorf("s3_restore: copy k: %w", context.Cause(ctx)), "cancelled (interrupted (SIGINT)): s3_restore: copy k"},
		{errors.New("exit status 143"), "cancelled (interrupted (SIGINT)): exit status 143"},
		{nil, "cancelled (interrupted (SIGINT))"},
	} {
		err := cancelled(ctx, c.step)
		if err.Error() != c.want {
			t.Errorf("%v: %q, want %q", c.step, err.Error(), c.want)
		}
		if c.step != nil && !errors.Is(err, c.step) {
			t.Errorf("%v is not in %v", c.step, err)
		}
	}
	bare, stop := context.WithCancel(context.Background())
	stop()
	if got := cancelled(bare, fmt.Errorf("wait: %w", context.Canceled)).Error(); got != "cancelled: wait" {
		t.Errorf("bare cancel: %q", got)
	}
}

func TestPanickingStepFails(t *testing.T) {
	reg, _, echo := testRegistry()
	echo.onApply = func(*StepContext) { panic("bad step type") }
	rb := mustParse(t, `step "echo" "a" {}`, reg)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{Sink: ev})
	if res.Status != StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	if f := ev.find(StepFailed, "step.echo.a"); f == nil || !strings.Contains(f.Error, "panicked: bad step type") {
		t.Errorf("step_failed %+v", f)
	}
}

func TestConcurrentRunsShareRunbook(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, gatedRunbook, reg)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := Execute(t.Context(), rb, Options{AutoApprove: true, DryRun: i%2 == 0})
			if res.Status != StatusSucceeded {
				t.Error(res.Err)
			}
		}()
	}
	wg.Wait()
}
