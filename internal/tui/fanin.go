package tui

import (
	"context"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Fanin is the one path from the engine to the program. Emit never
// blocks: it appends to a buffer and wakes the forwarder, which sends the
// batch gathered since the last send, at most once per interval. Progress
// events replace earlier progress of the same step, and log lines beyond
// a bound are dropped from the batch (the journal keeps them all), so a
// busy restore neither floods the program nor waits for it.
type Fanin struct {
	mu       sync.Mutex
	runID    string
	batch    []runbook.Event
	progress map[string]int // node -> index of its progress event in batch
	logs     int
	dropped  int
	wake     chan struct{}
	send     func(tea.Msg)
	interval time.Duration
	// sending is held from taking a batch to having sent it, so that a
	// Flush returns only once every batch taken before it has been sent:
	// the run's end, sent after a Flush, then never overtakes its last
	// events.
	sending sync.Mutex
}

// maxLogsPerBatch bounds the log lines one snapshot carries.
const maxLogsPerBatch = 200

// runEventsMsg is one coalesced snapshot of a run's events.
type runEventsMsg struct {
	runID   string
	events  []runbook.Event
	dropped int // log lines left out of this snapshot
}

// NewFanin returns a fan-in for run runID that sends snapshots with send
// (tea.Program.Send) at most every interval (0: 100ms).
func NewFanin(runID string, send func(tea.Msg), interval time.Duration) *Fanin {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	return &Fanin{runID: runID, progress: map[string]int{}, wake: make(chan struct{}, 1), send: send, interval: interval}
}

// Emit implements runbook.Sink.
func (f *Fanin) Emit(e runbook.Event) error {
	f.mu.Lock()
	switch {
	case e.Kind == runbook.StepProgress:
		if i, ok := f.progress[e.Node]; ok {
			f.batch[i] = e
		} else {
			f.progress[e.Node] = len(f.batch)
			f.batch = append(f.batch, e)
		}
	case e.Kind == runbook.StepLog && f.logs >= maxLogsPerBatch:
		f.dropped++
	default:
		if e.Kind == runbook.StepLog {
			f.logs++
		}
		f.batch = append(f.batch, e)
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return nil
}

// take empties the buffer.
func (f *Fanin) take() runEventsMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := runEventsMsg{runID: f.runID, events: f.batch, dropped: f.dropped}
	f.batch, f.logs, f.dropped = nil, 0, 0
	clear(f.progress)
	return m
}

// Drain returns what is buffered now, for the final snapshot after the
// run ended.
func (f *Fanin) Drain() runEventsMsg { return f.take() }

// Flush sends what is buffered now, after any batch being sent, and
// returns once it is sent.
func (f *Fanin) Flush() {
	f.sending.Lock()
	defer f.sending.Unlock()
	if m := f.take(); len(m.events) > 0 || m.dropped > 0 {
		f.send(m)
	}
}

// Run forwards snapshots until ctx ends.
func (f *Fanin) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		f.Flush()
		t := time.NewTimer(f.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
