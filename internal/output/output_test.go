package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

var t0 = time.Date(2026, 11, 22, 16, 45, 0, 0, time.UTC)

func ev(kind runbook.EventKind, node string, at time.Duration, f func(*runbook.Event)) runbook.Event {
	e := runbook.Event{Time: t0.Add(at), RunID: "20261122T164500Z-3f9a1c", Kind: kind, Node: node}
	if f != nil {
		f(&e)
	}
	return e
}

// a run with one of everything: a step that logs and reports progress, a
// retried one that fails, a skipped one, a refused gate.
var runEvents = []runbook.Event{
	ev(runbook.RunStarted, "", 0, func(e *runbook.Event) {
		e.Run = &runbook.RunInfo{RunbookPath: "runbooks/x.hcl", Parallelism: 2, Target: "sandbox"}
	}),
	ev(runbook.StepStarted, "step.exec.a", 0, func(e *runbook.Event) { e.Attempt = 1 }),
	ev(runbook.StepLog, "step.exec.a", time.Second, func(e *runbook.Event) { e.Line = "stdout: hello" }),
	ev(runbook.StepProgress, "step.exec.a", time.Second, func(e *runbook.Event) { e.Progress = &runbook.Progress{Done: 1, Total: 100, Unit: "objects"} }),
	ev(runbook.StepProgress, "step.exec.a", time.Second, func(e *runbook.Event) { e.Progress = &runbook.Progress{Done: 5, Total: 100, Unit: "objects"} }),
	ev(runbook.StepProgress, "step.exec.a", time.Second, func(e *runbook.Event) { e.Progress = &runbook.Progress{Done: 100, Total: 100, Unit: "objects"} }),
	ev(runbook.StepFinished, "step.exec.a", 2*time.Second, func(e *runbook.Event) { e.Duration = 2 * time.Second; e.Outputs = json.RawMessage(`{}`) }),
	ev(runbook.StepStarted, "step.exec.b", 2*time.Second, func(e *runbook.Event) { e.Attempt = 1 }),
	ev(runbook.StepRetried, "step.exec.b", 3*time.Second, func(e *runbook.Event) { e.Attempt = 1; e.Error = "exit status 1"; e.Delay = 2 * time.Second }),
	ev(runbook.StepStarted, "step.exec.b", 5*time.Second, func(e *runbook.Event) { e.Attempt = 2 }),
	ev(runbook.StepFailed, "step.exec.b", 6*time.Second, func(e *runbook.Event) { e.Error = "exit status 1\nmore" }),
	ev(runbook.StepSkipped, "step.wait.c", 6*time.Second, func(e *runbook.Event) { e.Reason = "when is false" }),
	ev(runbook.GateAsked, "gate.go", 6*time.Second, func(e *runbook.Event) { e.Line = "Proceed?" }),
	ev(runbook.GateRefused, "gate.go", 7*time.Second, func(e *runbook.Event) { e.Reason = "timed out after 1s" }),
	ev(runbook.RunFinished, "", 8*time.Second, func(e *runbook.Event) {
		e.Status = runbook.StatusFailed
		e.Error = "step.exec.b failed: exit status 1"
		e.Duration = 8 * time.Second
		e.Outputs = json.RawMessage(`{"b":[1,2],"a":"x"}`)
	}),
}

func emitAll(t *testing.T, s runbook.Sink, events []runbook.Event) {
	t.Helper()
	for _, e := range events {
		if err := s.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	emitAll(t, NewText(&buf, false), runEvents)
	out := buf.String()
	for _, want := range []string{
		"▶ start    run 20261122T164500Z-3f9a1c of runbooks/x.hcl (parallelism 2, target sandbox)",
		"▶ run      step.exec.a\n",
		"step.exec.a │ stdout: hello",
		"… progress step.exec.a: 1/100 objects",
		"… progress step.exec.a: 100/100 objects",
		"✓ done     step.exec.a in 2s",
		"↻ retry    step.exec.b: attempt 1 failed: exit status 1; next attempt in 2s",
		"▶ run      step.exec.b (attempt 2)",
		"✗ FAILED   step.exec.b: exit status 1",
		"- skip     step.wait.c: when is false",
		"? gate     gate.go: Proceed?",
		"✗ REFUSED  gate.go: timed out after 1s",
		"✗ FAILED   run failed in 8s: 1 done, 1 skipped, 1 failed, 1 refused",
		"output a = \"x\"\n",
		"output b = [1,2]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	// 5/100 is in the same tenth as 1/100: not printed again.
	if strings.Contains(out, "5/100") {
		t.Errorf("progress not coalesced:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without asking")
	}

	buf.Reset()
	emitAll(t, NewText(&buf, true), runEvents[:2])
	if !strings.Contains(buf.String(), "\x1b[") || !strings.Contains(buf.String(), "run") {
		t.Errorf("colour asked for, got %q", buf.String())
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	emitAll(t, NewJSON(&buf), runEvents)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(runEvents) {
		t.Fatalf("%d lines for %d events", len(lines), len(runEvents))
	}
	for i, line := range lines {
		var e runbook.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind != runEvents[i].Kind || e.Node != runEvents[i].Node || !e.Time.Equal(runEvents[i].Time) {
			t.Errorf("line %d = %+v", i, e)
		}
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suite    struct {
		Name      string `xml:"name,attr"`
		ID        string `xml:"id,attr"`
		Time      string `xml:"time,attr"`
		Timestamp string `xml:"timestamp,attr"`
		SystemErr string `xml:"system-err"`
		Cases     []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Out string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	j := NewJUnit(&buf, "runbooks/x.hcl", []string{"step.exec.a", "step.exec.b", "step.wait.c", "gate.go", "step.exec.never"})
	emitAll(t, j, runEvents[:len(runEvents)-1])
	if buf.Len() != 0 {
		t.Fatal("report written before the run ended")
	}
	emitAll(t, j, runEvents[len(runEvents)-1:])
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Skipped != 2 {
		t.Errorf("counts %d/%d/%d\n%s", doc.Tests, doc.Failures, doc.Skipped, buf.String())
	}
	s := doc.Suite
	if s.Name != "runbooks/x.hcl" || s.ID != "20261122T164500Z-3f9a1c" || s.Time != "8.000" || s.Timestamp != "2026-11-22T16:45:00Z" || !strings.Contains(s.SystemErr, "step.exec.b failed") {
		t.Errorf("suite = %+v", s)
	}
	want := []struct{ name, class, time, state string }{
		{"step.exec.a", "runbooks/x.hcl.exec", "2.000", "pass"},
		{"step.exec.b", "runbooks/x.hcl.exec", "1.000", "failure"},
		{"step.wait.c", "runbooks/x.hcl.wait", "0.000", "skipped"},
		{"gate.go", "runbooks/x.hcl.gate", "1.000", "failure"},
		{"step.exec.never", "runbooks/x.hcl.exec", "0.000", "not run"},
	}
	for i, w := range want {
		c := s.Cases[i]
		state := "pass"
		switch {
		case c.Failure != nil:
			state = "failure"
		case c.Skipped != nil && c.Skipped.Message == "not run":
			state = "not run"
		case c.Skipped != nil:
			state = "skipped"
		}
		if c.Name != w.name || c.Classname != w.class || c.Time != w.time || state != w.state {
			t.Errorf("case %d = %s %s %s %s, want %+v", i, c.Name, c.Classname, c.Time, state, w)
		}
	}
	if c := s.Cases[1]; c.Failure.Message != "exit status 1" || c.Failure.Text != "exit status 1\nmore" || c.Failure.Type != "step_failed" || !strings.Contains(c.Out, "attempt 1 failed") {
		t.Errorf("failure = %+v, out %q", c.Failure, c.Out)
	}
	if !strings.Contains(s.Cases[0].Out, "stdout: hello") {
		t.Errorf("system-out = %q", s.Cases[0].Out)
	}
}

func TestJUnitWithoutRun(t *testing.T) {
	var buf bytes.Buffer
	j := NewJUnit(&buf, "rb.hcl", []string{"step.wait.a"})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil || doc.Skipped != 1 {
		t.Errorf("doc %+v, %v", doc, err)
	}
	if err := j.Close(); err != nil || strings.Count(buf.String(), "<testsuites") != 1 {
		t.Error("second Close wrote again")
	}
}

func TestPlan(t *testing.T) {
	var buf bytes.Buffer
	p := NewPlan(&buf, []PlanNode{
		{Addr: "step.s3_restore.models", Description: "Restore models", Confirm: true},
		{Addr: "gate.failover", Deps: []string{"step.s3_restore.models"}, Gate: true},
		{Addr: "step.wait.c", Deps: []string{"gate.failover"}},
		{Addr: "step.exec.d"},
		{Addr: "step.exec.e"},
	}, false)
	emitAll(t, p, []runbook.Event{
		ev(runbook.RunStarted, "", 0, func(e *runbook.Event) { e.Run = &runbook.RunInfo{RunbookPath: "rb.hcl", DryRun: true} }),
		ev(runbook.StepPlanned, "step.s3_restore.models", 0, func(e *runbook.Event) {
			e.Changes = []runbook.Change{{Action: "CopyObject", Target: "b/models/a.bin", Detail: "<- version 3HL4kq"}, {Action: "DeleteObject", Target: "b/models/new.bin"}}
		}),
		ev(runbook.GateAsked, "gate.failover", 0, func(e *runbook.Event) { e.Line = "Scale?"; e.Reason = runbook.WouldAsk }),
		ev(runbook.StepSkipped, "step.wait.c", 0, func(e *runbook.Event) { e.Reason = "when is false" }),
		ev(runbook.StepPlanned, "step.exec.d", 0, nil),
		ev(runbook.StepFailed, "step.exec.e", 0, func(e *runbook.Event) { e.Error = "plan: bad url" }),
		ev(runbook.RunFinished, "", 0, func(e *runbook.Event) { e.Status = runbook.StatusFailed; e.Error = "step.exec.e failed" }),
	})
	want := `Plan for rb.hcl:

1. step.s3_restore.models
   Restore models
   ? asks for confirmation before it acts
   + CopyObject b/models/a.bin <- version 3HL4kq
   + DeleteObject b/models/new.bin
2. gate.failover  (after step.s3_restore.models)
   ? asks: Scale?
3. step.wait.c  (after gate.failover)
   - skipped: when is false
4. step.exec.d
   no changes
5. step.exec.e
   ✗ cannot plan: plan: bad url

Plan: 4 steps, 1 gate, 2 changes, 1 skipped, 1 could not be planned.
Error: step.exec.e failed
`
	if buf.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "json", "junit"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || err.Error() != `invalid output format "xml": use one of text, json, junit` {
		t.Errorf("err = %v", err)
	}
}

type failSink struct{ n *int }

func (f failSink) Emit(runbook.Event) error { *f.n++; return errors.New("disk full") }

func TestMultiAndBestEffort(t *testing.T) {
	var calls int
	var buf bytes.Buffer
	s := Multi(failSink{&calls}, NewJSON(&buf))
	if err := s.Emit(runEvents[0]); err == nil || buf.Len() != 0 {
		t.Errorf("Multi went on after a failing sink: %v, %q", err, buf.String())
	}
	s = Multi(BestEffort(failSink{&calls}), nil, NewJSON(&buf))
	if err := s.Emit(runEvents[0]); err != nil || buf.Len() == 0 || calls != 2 {
		t.Errorf("BestEffort: %v, %q, %d calls", err, buf.String(), calls)
	}
	var got runbook.Event
	s = Filter(runbook.SinkFunc(func(e runbook.Event) error { got = e; return nil }), func(e runbook.Event) runbook.Event { e.Line = "x"; return e })
	_ = s.Emit(runEvents[0])
	if got.Line != "x" {
		t.Errorf("Filter did not apply: %+v", got)
	}
}

func TestTextDrill(t *testing.T) {
	var buf bytes.Buffer
	emitAll(t, NewText(&buf, false), []runbook.Event{
		ev(runbook.StepDrilled, "step.s3_restore.models", 0, func(e *runbook.Event) {
			e.Changes = []runbook.Change{{Action: "redirect", Target: "ai-model-artifacts/models/", Detail: "-> drill-bucket/run-1/"}}
		}),
		ev(runbook.TeardownStarted, "", time.Second, nil),
		ev(runbook.TeardownAction, "step.asg_scale.serving", time.Second, func(e *runbook.Event) {
			e.Changes = []runbook.Change{{Action: "SetDesiredCapacity", Target: "ai-inference-dr", Detail: "4 -> 0"}}
		}),
		ev(runbook.TeardownFailed, "step.s3_restore.models", time.Second, func(e *runbook.Event) { e.Error = "access denied" }),
		ev(runbook.TeardownFinished, "", time.Second, func(e *runbook.Event) { e.Status = runbook.StatusFailed; e.Error = "1 step" }),
	})
	for _, want := range []string{
		"⇢ drill    step.s3_restore.models: redirect ai-model-artifacts/models/ -> drill-bucket/run-1/",
		"▶ teardown undoing what the drill created",
		"↺ undo     step.asg_scale.serving: SetDesiredCapacity ai-inference-dr 4 -> 0",
		"✗ FAILED   teardown of step.s3_restore.models: access denied",
		"✗ TEARDOWN incomplete: 1 step",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

// A log event that carries several lines prints each with its step's prefix.
func TestTextMultiLineLog(t *testing.T) {
	var buf bytes.Buffer
	emitAll(t, NewText(&buf, false), []runbook.Event{
		ev(runbook.StepLog, "step.s3_restore.models", 0, func(e *runbook.Event) { e.Line = "{\"key\":\"a\"}\n{\"key\":\"b\"}\n" }),
	})
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, key := range []string{"a", "b"} {
		if want := "step.s3_restore.models │ {\"key\":\"" + key + "\"}"; !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want suffix %q", i, lines[i], want)
		}
	}
}
