package eventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

func TestLogQueries(t *testing.T) {
	var l Log
	for _, e := range []runbook.Event{
		{Kind: runbook.RunStarted},
		{Kind: runbook.StepPlanned, Node: "step.s3_restore.m", Changes: []runbook.Change{{Action: "CopyObject", Target: "b/k"}}},
		{Kind: runbook.StepFailed, Node: "step.exec.a", Error: "boom"},
		{Kind: runbook.StepFailed, Node: "step.exec.b", Error: "bang"},
	} {
		if err := l.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Kinds(); !slices.Equal(got, []runbook.EventKind{runbook.RunStarted, runbook.StepPlanned, runbook.StepFailed, runbook.StepFailed}) {
		t.Errorf("kinds %v", got)
	}
	if got := l.Of(runbook.StepFailed); len(got) != 2 || got[1].Node != "step.exec.b" {
		t.Errorf("of %+v", got)
	}
	if e, ok := l.Find(runbook.StepFailed, "step.exec.b"); !ok || e.Error != "bang" {
		t.Errorf("find %+v %v", e, ok)
	}
	if _, ok := l.Find(runbook.StepFinished, "step.exec.b"); ok {
		t.Error("found an event that was not emitted")
	}
	if got := l.Changes(runbook.StepPlanned); !slices.Equal(got, []string{"step.s3_restore.m: CopyObject b/k"}) {
		t.Errorf("changes %v", got)
	}
	if s := l.String(); strings.Count(s, "\n") != 4 || !strings.Contains(s, "step_failed step.exec.a boom") {
		t.Errorf("string %q", s)
	}
	// Events is a copy.
	evs := l.Events()
	evs[0].Kind = "changed"
	if l.Events()[0].Kind != runbook.RunStarted {
		t.Error("Events shares the recorded slice")
	}
}

func TestLogOnEmit(t *testing.T) {
	full := errors.New("disk full")
	l := Log{OnEmit: func(e runbook.Event) error {
		if e.Kind == runbook.StepStarted {
			return full
		}
		return nil
	}}
	if err := l.Emit(runbook.Event{Kind: runbook.RunStarted}); err != nil {
		t.Fatal(err)
	}
	if err := l.Emit(runbook.Event{Kind: runbook.StepStarted}); !errors.Is(err, full) {
		t.Errorf("emit: %v", err)
	}
	if len(l.Events()) != 2 {
		t.Errorf("recorded %d events", len(l.Events()))
	}
}

// Wait wakes on the events of concurrent emitters, and gives up when its
// context ends.
func TestLogWait(t *testing.T) {
	var l Log
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				_ = l.Emit(runbook.Event{Kind: runbook.StepLog, Node: fmt.Sprintf("step.exec.s%d", g), Line: fmt.Sprint(i)})
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	evs, err := l.Wait(ctx, func(evs []runbook.Event) bool { return len(evs) == 200 })
	if err != nil || len(evs) != 200 {
		t.Fatalf("wait: %d events, %v", len(evs), err)
	}
	wg.Wait()

	short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	evs, err = l.Wait(short, func(evs []runbook.Event) bool { return len(evs) > 200 })
	if !errors.Is(err, context.DeadlineExceeded) || len(evs) != 200 {
		t.Errorf("wait past the deadline: %d events, %v", len(evs), err)
	}
}
