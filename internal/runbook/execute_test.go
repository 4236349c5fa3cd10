package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func mustParse(t testing.TB, src string, reg Registry) *Runbook {
	t.Helper()
	rb, diags := Parse(map[string][]byte{"main.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diagList(diags))
	}
	return rb
}

func mustVars(t testing.TB, rb *Runbook, in VarInputs) map[string]cty.Value {
	t.Helper()
	vars, diags := rb.ResolveVars(in)
	if diags.HasErrors() {
		t.Fatalf("variables: %s", diagList(diags))
	}
	return vars
}

func kinds(evs []Event, node string) []EventKind {
	var out []EventKind
	for _, e := range evs {
		if e.Node == node {
			out = append(out, e.Kind)
		}
	}
	return out
}

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

// approver is a scripted Approver.
type approver struct {
	mu       sync.Mutex
	asked    []GateRequest
	decide   func(ctx context.Context, req GateRequest) (Decision, error)
	decision Decision
}

func (a *approver) Approve(ctx context.Context, req GateRequest) (Decision, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req)
	a.mu.Unlock()
	if a.decide != nil {
		return a.decide(ctx, req)
	}
	return a.decision, nil
}

const gatedRunbook = `
step "echo" "first" {
  value = "7"
}
gate "failover" {
  prompt  = "Restored ${step.echo.first.value} objects. Scale the DR fleet?"
  timeout = "10m"
}
step "danger" "restore" {
  bucket     = "ai-model-artifacts"
  depends_on = [gate.failover]
}
step "echo" "who" {
  value = gate.failover.by
}
`

func TestGates(t *testing.T) {
	tests := []struct {
		name        string
		approver    *approver
		auto        bool
		wantStatus  RunStatus
		wantApplied []string
		wantReason  string
	}{
		{
			name:        "approved",
			approver:    &approver{decision: Decision{Approved: true, By: "alice"}},
			wantStatus:  StatusSucceeded,
			wantApplied: []string{"step.echo.first", "step.danger.restore", "step.echo.who"},
		},
		{
			name:        "auto-approve",
			auto:        true,
			wantStatus:  StatusSucceeded,
			wantApplied: []string{"step.echo.first", "step.danger.restore", "step.echo.who"},
		},
		{
			name:        "refused",
			approver:    &approver{decision: Decision{Approved: false, By: "bob", Reason: "not now"}},
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "not now",
		},
		{
			name: "timeout",
			approver: &approver{decide: func(ctx context.Context, _ GateRequest) (Decision, error) {
				<-ctx.Done()
				return Decision{}, ctx.Err()
			}},
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "no answer within 10m0s",
		},
		{
			name:        "no approver",
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "gate failover needs approval: run in a terminal or pass --auto-approve",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg, rec, _ := testRegistry()
				rb := mustParse(t, gatedRunbook, reg)
				ev := &events{}
				opts := Options{RunID: "g", Sink: ev, AutoApprove: tc.auto, Parallelism: 1}
				if tc.approver != nil {
					opts.Approver = tc.approver
				}
				start := time.Now()
				res := Execute(t.Context(), rb, opts)
				if res.Status != tc.wantStatus {
					t.Fatalf("status %s (%v); want %s", res.Status, res.Err, tc.wantStatus)
				}
				if got := rec.appliedList(); !slices.Equal(got, tc.wantApplied) {
					t.Errorf("applied %v; want %v", got, tc.wantApplied)
				}
				asked := ev.find(GateAsked, "gate.failover")
				if asked == nil || asked.Line != "Restored 7 objects. Scale the DR fleet?" {
					t.Errorf("gate_asked %+v", asked)
				}
				if tc.wantStatus == StatusRefused {
					ref := ev.find(GateRefused, "gate.failover")
					if ref == nil || ref.Reason != tc.wantReason {
						t.Errorf("gate_refused %+v; want reason %q", ref, tc.wantReason)
					}
					if !strings.Contains(res.Err.Error(), tc.wantReason) {
						t.Errorf("error %v", res.Err)
					}
					// The refusal is the gate's one terminal event: the run
					// stopping does not report it skipped as well.
					if ks := kinds(ev.list(), "gate.failover"); !slices.Equal(ks, []EventKind{GateAsked, GateRefused}) {
						t.Errorf("events of the refused gate %v; want [gate_asked gate_refused]", ks)
					}
					if tc.name == "timeout" && time.Since(start) != 10*time.Minute {
						t.Errorf("refused after %s; want 10m", time.Since(start))
					}
					return
				}
				app := ev.find(GateApproved, "gate.failover")
				wantBy := "alice"
				if tc.auto {
					wantBy = "auto-approve"
				}
				if app == nil || app.Actor != wantBy {
					t.Errorf("gate_approved %+v", app)
				}
				if got := rec.configs["step.echo.who"].GetAttr("value").AsString(); got != wantBy {
					t.Errorf("gate.failover.by = %q", got)
				}
				// The destructive step asked with its plan and its blast radius.
				if tc.approver != nil {
					if len(tc.approver.asked) != 2 {
						t.Fatalf("asked %d times", len(tc.approver.asked))
					}
					req := tc.approver.asked[1]
					if req.Node != "step.danger.restore" || req.Token != "ai-model-artifacts" || len(req.Changes) != 1 {
						t.Errorf("confirm request %+v", req)
					}
					if tc.approver.asked[0].Token != "failover" || tc.approver.asked[0].Timeout != 10*time.Minute {
						t.Errorf("gate request %+v", tc.approver.asked[0])
					}
				}
				if ks := kinds(ev.list(), "step.danger.restore"); !slices.Equal(ks, []EventKind{StepPlanned, GateAsked, GateApproved, StepStarted, StepFinished}) {
					t.Errorf("events of the destructive step %v", ks)
				}
			})
		})
	}
}

func TestDryRun(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
variable "bucket" { default = "models" }
step "wait" "first" {
  duration = "1h"
}
gate "go" {
  prompt = "waited ${step.wait.first.waited}?"
}
step "echo" "uses_unknown" {
  value = upper(step.wait.first.waited)
  count = strlen(step.wait.first.waited) + 1
  depends_on = [gate.go]
}
step "danger" "restore" {
  bucket = var.bucket
}
step "echo" "chained" {
  value = "${step.echo.uses_unknown.value}-${step.danger.restore.copied}"
}
step "echo" "real_only" {
  when = !run.dry_run
}
step "echo" "when_unknown" {
  when = step.danger.restore.copied > 0
}
output "copied" { value = step.danger.restore.copied }
`, reg)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{RunID: "d", DryRun: true, Sink: ev, Vars: mustVars(t, rb, VarInputs{})})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if got := rec.appliedList(); len(got) != 0 {
		t.Errorf("dry-run applied %v", got)
	}
	if len(rec.planned) != 5 {
		t.Errorf("planned %v", rec.planned)
	}
	if s := ev.find(StepSkipped, "step.echo.real_only"); s == nil || s.Reason != SkipReasonWhen {
		t.Errorf("run.dry_run not seen: %+v", s)
	}
	if ev.find(StepPlanned, "step.echo.when_unknown") == nil {
		t.Error("a step whose condition is unknown in dry-run was not planned")
	}
	if len(ev.of(StepStarted)) != 0 {
		t.Error("dry-run started a step")
	}
	p := ev.find(StepPlanned, "step.echo.uses_unknown")
	if p == nil || p.Changes[0].Target != "(unknown)" {
		t.Errorf("unknown did not flow through: %+v", p)
	}
	if g := ev.find(GateAsked, "gate.go"); g == nil || g.Reason != WouldAsk {
		t.Errorf("gate in dry-run %+v", g)
	}
	if g := ev.find(GateAsked, "step.danger.restore"); g == nil || g.Reason != WouldAsk {
		t.Errorf("confirm in dry-run %+v", g)
	}
	if v := res.Outputs["copied"]; v.IsKnown() {
		t.Errorf("output known in dry-run: %#v", v)
	}
	fin := ev.of(RunFinished)[0]
	if string(fin.Outputs) != `{"copied":null}` {
		t.Errorf("run_finished outputs %s", fin.Outputs)
	}
	if started := ev.of(RunStarted)[0]; !started.Run.DryRun {
		t.Error("run_started does not say dry-run")
	}
}

func TestResume(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
step "echo" "done_before" {
  value = "from-first-run"
}
gate "approved_before" {
  depends_on = [step.echo.done_before]
}
step "echo" "next" {
  value = "${step.echo.done_before.value}+${gate.approved_before.by}"
}
step "echo" "skipped_before" {
  when = false
}
output "next" { value = step.echo.next.value }
`, reg)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{RunID: "second", Sink: ev, Resume: &ResumeState{
		From:     "first",
		Finished: map[string]json.RawMessage{"step.echo.done_before": json.RawMessage(`{"value":"from-first-run","count":0}`)},
		Approved: map[string]string{"gate.approved_before": "carol"},
		Skipped:  map[string]string{"step.echo.skipped_before": SkipReasonWhen},
	}})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if got := rec.appliedList(); !slices.Equal(got, []string{"step.echo.next"}) {
		t.Errorf("applied %v; want only step.echo.next", got)
	}
	if got := res.Outputs["next"].AsString(); got != "from-first-run+carol" {
		t.Errorf("restored outputs did not flow: %q", got)
	}
	f := ev.find(StepFinished, "step.echo.done_before")
	if f == nil || f.Reason != "finished in run first" || string(f.Outputs) != `{"value":"from-first-run","count":0}` {
		t.Errorf("restored step_finished %+v", f)
	}
	if ev.of(RunStarted)[0].Run.ResumedFrom != "first" {
		t.Error("run_started does not name the earlier run")
	}
	if ev.find(GateAsked, "gate.approved_before") != nil {
		t.Error("an approved gate was asked again")
	}
}

func TestResumeBadOutputs(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `step "echo" "a" {}`, reg)
	res := Execute(t.Context(), rb, Options{Resume: &ResumeState{
		From:     "first",
		Finished: map[string]json.RawMessage{"step.echo.a": json.RawMessage(`{"value":[1]}`)},
	}})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "restore outputs of step.echo.a from run first") {
		t.Errorf("result %+v", res)
	}
	if len(rec.appliedList()) != 0 {
		t.Error("applied after a bad restore")
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
		if f := ev.find(StepFailed, "step.wait.long"); f == nil || !strings.Contains(f.Error, "cancelled") {
			t.Errorf("in-flight step %+v", f)
		}
		if s := ev.find(StepSkipped, "step.wait.after"); s == nil || s.Reason != "run cancelled" {
			t.Errorf("pending step %+v", s)
		}
		if fin := ev.of(RunFinished); len(fin) != 1 || fin[0].Status != StatusCancelled {
			t.Errorf("run_finished %+v", fin)
		}
	})
}

func TestEmitErrorStopsRun(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
step "echo" "a" {}
step "echo" "b" { depends_on = [step.echo.a] }
`, reg)
	diskFull := errors.New("disk full")
	sink := SinkFunc(func(e Event) error {
		if e.Kind == StepStarted && e.Node == "step.echo.b" {
			return diskFull
		}
		return nil
	})
	res := Execute(t.Context(), rb, Options{Sink: sink})
	if res.Status != StatusFailed || !errors.Is(res.Err, diskFull) {
		t.Fatalf("result %+v", res)
	}
	if got := rec.appliedList(); !slices.Equal(got, []string{"step.echo.a"}) {
		t.Errorf("applied %v: a step ran without its record", got)
	}
}

func TestProgressThrottledAndLogsRedacted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, echo := testRegistry()
		echo.onApply = func(sc *StepContext) {
			for i := int64(1); i <= 1000; i++ {
				sc.Progress(i, 1000, "objects")
				if i%100 == 0 {
					time.Sleep(20 * time.Millisecond) // fake clock: the step's own pace
				}
			}
			sc.Log("using token s3cr3t-value")
		}
		rb := mustParse(t, `
variable "token" {
  sensitive = true
}
step "echo" "busy" {
  value = var.token
}`, reg)
		ev := &events{}
		res := Execute(t.Context(), rb, Options{Sink: ev, Vars: mustVars(t, rb, VarInputs{Flags: []string{"token=s3cr3t-value"}})})
		if res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		pr := ev.of(StepProgress)
		// 200ms of work at one event per 50ms at most, plus the last one.
		if len(pr) < 2 || len(pr) > 6 {
			t.Errorf("%d progress events", len(pr))
		}
		if last := pr[len(pr)-1].Progress; last.Done != 1000 || last.Total != 1000 || last.Unit != "objects" {
			t.Errorf("last progress %+v", last)
		}
		logs := ev.of(StepLog)
		if len(logs) != 1 || logs[0].Line != "using token (sensitive)" {
			t.Errorf("logs %+v", logs)
		}
		if v := ev.of(RunStarted)[0].Run.Variables["token"]; v != "(sensitive)" {
			t.Errorf("run_started shows the token: %q", v)
		}
		for _, e := range ev.list() {
			b, _ := json.Marshal(e)
			if strings.Contains(string(b), "s3cr3t") {
				t.Errorf("secret in %s event: %s", e.Kind, b)
			}
		}
		if f := ev.find(StepFinished, "step.echo.busy"); f == nil || string(f.Outputs) != `{"count":0,"value":"(sensitive)"}` {
			t.Errorf("step_finished outputs %s", f.Outputs)
		}
	})
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

func TestEventOrderAndRunInfo(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
runbook {
  description = "x"
  parallelism = 3
}
variable "region" { default = "us-west-2" }
variable "zones" { default = ["a", "b"] }
step "echo" "a" { value = run.id }
output "id" { value = step.echo.a.value }
output "secret" {
  value     = "hidden"
  sensitive = true
}
`, reg)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := &events{}
	res := Execute(t.Context(), rb, Options{RunID: "run-7", Sink: ev, Operator: "op", Host: "h", Target: "sandbox",
		Vars: mustVars(t, rb, VarInputs{}), Now: func() time.Time { return clock }})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	all := ev.list()
	var ks []EventKind
	for _, e := range all {
		ks = append(ks, e.Kind)
		if e.RunID != "run-7" || !e.Time.Equal(clock) {
			t.Errorf("event %+v lacks run id or clock time", e)
		}
	}
	if !slices.Equal(ks, []EventKind{RunStarted, StepStarted, StepFinished, RunFinished}) {
		t.Errorf("events %v", ks)
	}
	info := all[0].Run
	if info.RunbookHash != rb.Hash || info.Parallelism != 3 || info.Operator != "op" || info.Target != "sandbox" ||
		info.Variables["region"] != "us-west-2" || info.Variables["zones"] != `["a","b"]` {
		t.Errorf("run info %+v", info)
	}
	if got := string(all[3].Outputs); got != `{"id":"run-7","secret":"(sensitive)"}` {
		t.Errorf("run_finished outputs %s", got)
	}
	if res.Outputs["secret"].AsString() != "hidden" {
		t.Error("the result lost a sensitive output")
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

func TestDestructiveStepBehindUpstreamGate(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
gate "go" {}
step "echo" "between" {
  depends_on = [gate.go]
}
step "danger" "d" {
  bucket     = "models"
  confirm    = false
  depends_on = [step.echo.between]
}`, reg)
	ap := &approver{decision: Decision{Approved: true, By: "erin"}}
	res := Execute(t.Context(), rb, Options{Approver: ap})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if len(ap.asked) != 1 || ap.asked[0].Node != "gate.go" || rec.count("step.danger.d") != 1 {
		t.Errorf("asked %+v, applied %v", ap.asked, rec.appliedList())
	}
	if len(rb.Diagnostics()) != 0 {
		t.Errorf("diagnostics %s", diagList(rb.Diagnostics()))
	}
}
