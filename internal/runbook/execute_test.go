package runbook

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
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
