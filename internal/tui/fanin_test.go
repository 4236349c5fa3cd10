package tui

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/runbook"
)

// TestFaninCoalesces floods the fan-in with progress and log events from
// a busy step: the program gets at most one snapshot per interval, each
// step's latest progress, bounded logs, and the engine is never held up,
// even while the program is not taking messages.
func TestFaninCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []runEventsMsg
		gate := make(chan struct{}) // the program is busy until closed
		send := func(msg tea.Msg) {
			<-gate
			mu.Lock()
			got = append(got, msg.(runEventsMsg))
			mu.Unlock()
		}
		f := NewFanin("run-1", send, 100*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go f.Run(ctx)

		// One second of a busy restore: 10,000 progress updates and
		// 1,000 log lines, emitted while the program does not read.
		start := time.Now()
		for i := 1; i <= 10000; i++ {
			if err := f.Emit(runbook.Event{Kind: runbook.StepProgress, Node: "step.s3_restore.models",
				Progress: &runbook.Progress{Done: int64(i), Total: 10000, Unit: "objects"}}); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 {
				f.Emit(runbook.Event{Kind: runbook.StepLog, Node: "step.s3_restore.models", Line: "copied"})
			}
			if i%100 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if d := time.Since(start); d > 1100*time.Millisecond {
			t.Fatalf("emitting took %s: the engine waited for the program", d)
		}
		close(gate)
		f.Emit(runbook.Event{Kind: runbook.StepFinished, Node: "step.s3_restore.models"})
		time.Sleep(time.Second)
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		if len(got) > 25 {
			t.Errorf("%d snapshots for about 2s of events: not coalesced", len(got))
		}
		var last *runbook.Progress
		logs, dropped, finished := 0, 0, false
		for _, m := range got {
			dropped += m.dropped
			progress := 0
			for _, e := range m.events {
				switch e.Kind {
				case runbook.StepProgress:
					progress++
					last = e.Progress
				case runbook.StepLog:
					logs++
				case runbook.StepFinished:
					finished = true
				}
			}
			if progress > 1 {
				t.Errorf("a snapshot carries %d progress events of one step", progress)
			}
		}
		if last == nil || last.Done != 10000 {
			t.Errorf("last progress %+v, want 10000/10000", last)
		}
		if logs+dropped != 1000 || !finished {
			t.Errorf("logs %d + dropped %d, want 1000; finished %v", logs, dropped, finished)
		}
	})
}
