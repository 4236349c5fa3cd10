package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/inventory"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// benchModel is a console at 120x40 with no AWS behind it.
func benchModel() *Model {
	m := New(context.Background(), Options{Now: func() time.Time { return fixedNow }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return m
}

// frames renders n frames and reports the mean time per frame.
func frames(b *testing.B, m *Model, n int, move func(i int)) {
	b.Helper()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		for i := 0; i < n; i++ {
			move(i)
			_ = m.View()
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N*n), "µs/frame")
}

// BenchmarkTimelineView100k renders a key's timeline of 100,000 versions
// while the cursor walks it: only the visible rows are drawn.
func BenchmarkTimelineView100k(b *testing.B) {
	m := benchModel()
	mv := m.views[1].(*modelsView)
	mv.bucket = "ai-model-artifacts"
	m.active = 1
	mv.openTimeline(m.env, "models/llama-ft/model.safetensors", true)
	tl := mv.tl
	tl.streaming = false
	const n = 100000
	tl.versions = make([]inventory.Version, n)
	for i := range tl.versions {
		tl.versions[i] = inventory.Version{
			Key: "models/llama-ft/model.safetensors", VersionID: fmt.Sprintf("v%07d", i),
			LastModified: fixedNow.Add(-time.Duration(i) * time.Minute), Size: int64(1000 + i), IsLatest: i == 0, DeleteMarker: i%97 == 5,
		}
	}
	tl.g.grow(n)
	frames(b, m, 200, func(i int) { tl.g.move(n / 200) })
}

// BenchmarkTimelineFilter100k filters a timeline of 100,000 versions as
// an operator types, one key at a time.
func BenchmarkTimelineFilter100k(b *testing.B) {
	m := benchModel()
	mv := m.views[1].(*modelsView)
	mv.bucket = "ai-model-artifacts"
	m.active = 1
	mv.openTimeline(m.env, "models/", false)
	tl := mv.tl
	tl.streaming = false
	const n = 100000
	tl.versions = make([]inventory.Version, n)
	for i := range tl.versions {
		tl.versions[i] = inventory.Version{Key: fmt.Sprintf("models/m%03d/model.bin", i%500), VersionID: fmt.Sprintf("v%07d", i),
			LastModified: fixedNow.Add(-time.Duration(i) * time.Minute), Size: int64(i)}
	}
	tl.g.grow(n)
	var total time.Duration
	keys := 0
	for b.Loop() {
		start := time.Now()
		for _, f := range []string{"m", "m0", "m04", "m042", "m04", "m0", ""} {
			tl.g.setFilter(f)
			_ = m.View()
			keys++
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(keys), "µs/key")
}

// BenchmarkRunsView1000 renders the journal history with 1,000 runs.
func BenchmarkRunsView1000(b *testing.B) {
	m := benchModel()
	rv := m.views[6].(*runsView)
	m.active = 6
	m.env.opts.Runs = &runner.Service{}
	runs := make([]journal.Summary, 1000)
	for i := range runs {
		runs[i] = journal.Summary{ID: fmt.Sprintf("20261120T%06dZ-abcdef", i), RunbookPath: "runbooks/model-serving-failover.hcl",
			Status: runbook.StatusSucceeded, Started: fixedNow.Add(-time.Duration(i) * time.Hour)}
	}
	rv.setHistory(runs)
	frames(b, m, 200, func(i int) { rv.list.move(5) })
}

// BenchmarkFirstFrame measures what drconsole does before its first full
// frame on the sandbox: start the seeded estate, build the clients and
// the console, read the Overview's data and draw it.
func BenchmarkFirstFrame(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		srv, err := sandbox.New(sandbox.Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Start(context.Background(), "127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL()})
		if err != nil {
			b.Fatal(err)
		}
		m := New(context.Background(), Options{Clients: clients})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		pending := []tea.Cmd{m.Start()}
		for len(pending) > 0 {
			cmd := pending[0]
			pending = pending[1:]
			if cmd == nil {
				continue
			}
			msg := cmd()
			if batch, ok := msg.(tea.BatchMsg); ok {
				pending = append(pending, batch...)
				continue
			}
			_, next := m.Update(msg)
			pending = append(pending, next)
		}
		_ = m.View()
		total += time.Since(start)
		m.Close()
		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-frame")
}
