package runbook

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, rec, _ := testRegistry()
		rb := mustParse(t, `
step "echo" "flaky" {
  fail = 3
  retry {
    attempts = 4
    backoff  = "2s"
  }
}`, reg)
		ev := &events{}
		start := time.Now()
		res := Execute(t.Context(), rb, Options{Sink: ev, Rand: rand.New(rand.NewPCG(1, 2))})
		if res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		if n := rec.count("step.echo.flaky"); n != 4 {
			t.Errorf("applied %d times; want 4", n)
		}
		retries := ev.of(StepRetried)
		if len(retries) != 3 {
			t.Fatalf("%d step_retried; want 3", len(retries))
		}
		var total time.Duration
		for i, r := range retries {
			base := 2 * time.Second << i // 2s, 4s, 8s
			if r.Delay < base/2 || r.Delay > base {
				t.Errorf("retry %d delay %s; want within [%s, %s]", i+1, r.Delay, base/2, base)
			}
			if r.Attempt != i+1 || !strings.Contains(r.Error, "boom") {
				t.Errorf("retry %d: %+v", i+1, r)
			}
			total += r.Delay
		}
		if got := time.Since(start); got != total {
			t.Errorf("run took %s on the fake clock; want the sum of delays %s", got, total)
		}
		started := ev.of(StepStarted)
		if len(started) != 4 || started[3].Attempt != 4 {
			t.Errorf("step_started %+v", started)
		}
	})
}

func TestRetryExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, _ := testRegistry()
		rb := mustParse(t, `
step "echo" "bad" {
  fail = 10
  retry {
    attempts = 2
  }
}`, reg)
		ev := &events{}
		res := Execute(t.Context(), rb, Options{Sink: ev})
		if res.Status != StatusFailed {
			t.Fatalf("status %s", res.Status)
		}
		f := ev.find(StepFailed, "step.echo.bad")
		if f == nil || !strings.Contains(f.Error, "attempt 2 of 2") {
			t.Errorf("step_failed %+v", f)
		}
	})
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, _ := testRegistry()
		rb := mustParse(t, `
variable "limit" { default = "5m" }
step "wait" "long" {
  duration = "1h"
  timeout  = var.limit
}`, reg)
		ev := &events{}
		start := time.Now()
		res := Execute(t.Context(), rb, Options{Sink: ev, Vars: mustVars(t, rb, VarInputs{})})
		if res.Status != StatusFailed {
			t.Fatalf("status %s", res.Status)
		}
		if got := time.Since(start); got != 5*time.Minute {
			t.Errorf("timed out after %s; want 5m", got)
		}
		f := ev.find(StepFailed, "step.wait.long")
		if f == nil || !strings.Contains(f.Error, "timed out after 5m0s") {
			t.Errorf("step_failed %+v", f)
		}
	})
}

func TestTimeoutRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, _ := testRegistry()
		rb := mustParse(t, `
step "wait" "long" {
  duration = "1h"
  timeout  = "1m"
  retry {
    attempts = 2
    backoff  = "10s"
  }
}`, reg)
		ev := &events{}
		res := Execute(t.Context(), rb, Options{Sink: ev})
		if res.Status != StatusFailed {
			t.Fatalf("status %s", res.Status)
		}
		if r := ev.of(StepRetried); len(r) != 1 || !strings.Contains(r[0].Error, "timed out") {
			t.Errorf("step_retried %+v", r)
		}
	})
}

func TestWhen(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
variable "restore" {
  type    = bool
  default = false
}
step "echo" "maybe" {
  value = "x"
  when  = var.restore
}
step "echo" "after" {
  value = try(step.echo.maybe.value, "skipped")
  depends_on = [step.echo.maybe]
}
step "echo" "yes" {
  when = !var.restore
}
`, reg)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{Sink: ev, Vars: mustVars(t, rb, VarInputs{})})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if s := ev.find(StepSkipped, "step.echo.maybe"); s == nil || s.Reason != "when is false" {
		t.Errorf("step_skipped %+v", s)
	}
	if rec.count("step.echo.maybe") != 0 || rec.count("step.echo.yes") != 1 {
		t.Errorf("applied %v", rec.appliedList())
	}
	if v := rec.configs["step.echo.after"].GetAttr("value").AsString(); v != "skipped" {
		t.Errorf("dependent of a skipped step saw %q", v)
	}
}

func TestRuntimeEvaluationErrorNamesTheSource(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
step "echo" "maybe" {
  when = false
}
step "echo" "reads" {
  value = step.echo.maybe.value
}
output "nothing" { value = null }
`, reg)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{Sink: ev})
	if res.Status != StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	f := ev.find(StepFailed, "step.echo.reads")
	if f == nil || !strings.Contains(f.Error, "main.hcl:6,") || !strings.Contains(f.Error, "null value") {
		t.Errorf("step_failed %+v", f)
	}
	if got := string(ev.of(RunFinished)[0].Outputs); got != `{"nothing":null}` {
		t.Errorf("outputs %s", got)
	}
}

// A step's first attempt of a fresh run has no earlier attempts to read;
// its retries, and any attempt of a resumed run, read them through
// Options.EarlierLogs, for their own node.
func TestEarlierAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, echo := testRegistry()
		var seen []string
		echo.onApply = func(sc *StepContext) {
			if sc.Earlier == nil {
				seen = append(seen, fmt.Sprintf("attempt %d: none", sc.Attempt))
				return
			}
			_ = sc.Earlier(func(line string) error {
				seen = append(seen, fmt.Sprintf("attempt %d: %s", sc.Attempt, line))
				return nil
			})
		}
		logs := func(node string, fn func(string) error) error { return fn("earlier of " + node) }
		rb := mustParse(t, `
step "echo" "flaky" {
  fail = 1
  retry {
    attempts = 2
    backoff  = "1s"
  }
}`, reg)
		if res := Execute(t.Context(), rb, Options{EarlierLogs: logs}); res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		want := []string{"attempt 1: none", "attempt 2: earlier of step.echo.flaky"}
		if !slices.Equal(seen, want) {
			t.Errorf("fresh run: %q, want %q", seen, want)
		}
		seen = nil
		rb = mustParse(t, `step "echo" "resumed" {}`, reg)
		if res := Execute(t.Context(), rb, Options{EarlierLogs: logs, Resume: &ResumeState{From: "r1"}}); res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		if want := []string{"attempt 1: earlier of step.echo.resumed"}; !slices.Equal(seen, want) {
			t.Errorf("resumed run: %q, want %q", seen, want)
		}
	})
}
