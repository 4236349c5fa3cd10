package tui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runner"
)

// TestAnswersReachOnlyTheViewThatAsked puts two views of the same kind
// behind the root, both waiting for the same kind of answer with the same
// generation: each answer changes the view that asked for it and no
// other, whichever view is on screen.
func TestAnswersReachOnlyTheViewThatAsked(t *testing.T) {
	store, err := journal.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := New(context.Background(), Options{Now: func() time.Time { return fixedNow }, Runs: &runner.Service{Store: store}})
	defer m.Close()
	first, second := newRuns(), newRuns()
	m.views = []view{first, second}
	askFirst, askSecond := m.switchTo(0), m.switchTo(1)
	if askFirst == nil || askSecond == nil || !first.loading || !second.loading || first.gen != second.gen {
		t.Fatalf("both views should be reading the journal with the same generation: %+v %+v", first, second)
	}

	// The first view is not on screen; its answer still reaches it alone.
	m.Update(askFirst())
	if first.loading || !first.loaded {
		t.Fatal("the view that asked did not take its answer")
	}
	if !second.loading || second.loaded {
		t.Fatal("the answer reached a view that did not ask for it")
	}
	m.Update(askSecond())
	if second.loading || !second.loaded {
		t.Fatal("the second view did not take its own answer")
	}
}

// TestRunIsPreparedOffTheLoop: the run service checks a run in a command,
// so a slow check (here the target's preflight) never holds the console;
// the run goes live when the answer comes back, and no second run starts
// meanwhile.
func TestRunIsPreparedOffTheLoop(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, 120, 40, func(o *Options) {
		if o.Runs != nil {
			o.Runs.Preflight = func(ctx context.Context) error {
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	})
	rb, _, err := h.m.env.opts.Runs.Load(filepath.Join("testdata", "runbooks", "scale-dr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	plan := startRunMsg{rb: rb, vars: []string{"reason=routing"}, dry: true}

	asked := make(chan tea.Cmd, 1)
	go func() {
		_, cmd := h.m.Update(plan)
		asked <- cmd
	}()
	var prepare tea.Cmd
	select {
	case prepare = <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("Update waited for the run service")
	}
	if prepare == nil || h.m.run != nil || !h.m.preparing {
		t.Fatalf("the run went live before the service prepared it (run %v)", h.m.run)
	}
	h.send(plan)
	h.settle()
	if h.m.status != "a run is already in progress: wait for it or cancel it (ctrl+x)" || !h.m.isErr {
		t.Fatalf("a second run was not refused while the first was prepared: status %q", h.m.status)
	}

	close(release)
	h.run(prepare)
	h.waitFor("the plan to succeed", func() bool { return h.m.run != nil && h.m.run.Status == "succeeded" })
	if h.m.preparing || h.m.run.path != rb.Path || !h.m.run.dry {
		t.Fatalf("live run %+v (preparing %v), want the plan of %s", h.m.run, h.m.preparing, rb.Path)
	}
}
