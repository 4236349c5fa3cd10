// Package eventlog records a run's events for tests: a runbook.Sink safe
// for the engine's goroutines, with the questions tests ask of what it
// recorded, and a wait for an event that wakes on each one instead of
// polling.
package eventlog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Log is a recording runbook.Sink. The zero value is ready to use.
type Log struct {
	// OnEmit, when set before the run starts, sees each event once it is
	// recorded; its error is Emit's, which stops the run.
	OnEmit func(runbook.Event) error

	mu     sync.Mutex
	events []runbook.Event
	// changed is closed, and replaced, by every Emit.
	changed chan struct{}
}

// Emit records e.
func (l *Log) Emit(e runbook.Event) error {
	l.mu.Lock()
	l.events = append(l.events, e)
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	l.mu.Unlock()
	if l.OnEmit != nil {
		return l.OnEmit(e)
	}
	return nil
}

// Events returns a copy of what was recorded, in order.
func (l *Log) Events() []runbook.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// Kinds returns the kinds of the events recorded, in order.
func (l *Log) Kinds() []runbook.EventKind {
	var out []runbook.EventKind
	for _, e := range l.Events() {
		out = append(out, e.Kind)
	}
	return out
}

// Of returns the events of kind, in order.
func (l *Log) Of(kind runbook.EventKind) []runbook.Event {
	var out []runbook.Event
	for _, e := range l.Events() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Find returns the first event of kind about node.
func (l *Log) Find(kind runbook.EventKind, node string) (runbook.Event, bool) {
	for _, e := range l.Events() {
		if e.Kind == kind && e.Node == node {
			return e, true
		}
	}
	return runbook.Event{}, false
}

// Changes returns the changes the events of kind list (step_planned: the
// plan), each as "NODE: CHANGE".
func (l *Log) Changes(kind runbook.EventKind) []string {
	var out []string
	for _, e := range l.Of(kind) {
		for _, c := range e.Changes {
			out = append(out, e.Node+": "+c.String())
		}
	}
	return out
}

// String lists the events one a line, for a failing test to show.
func (l *Log) String() string {
	var b strings.Builder
	for _, e := range l.Events() {
		fmt.Fprintf(&b, "%s %s %s %s %v\n", e.Kind, e.Node, e.Error, e.Reason, e.Changes)
	}
	return b.String()
}

// Wait blocks until done holds for the events recorded so far and returns
// them, or returns ctx's error with what was recorded when ctx ends
// first. done is called again after each new event.
func (l *Log) Wait(ctx context.Context, done func([]runbook.Event) bool) ([]runbook.Event, error) {
	for {
		l.mu.Lock()
		events := slices.Clone(l.events)
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed := l.changed
		l.mu.Unlock()
		if done(events) {
			return events, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return events, fmt.Errorf("wait for events: %w", context.Cause(ctx))
		}
	}
}
