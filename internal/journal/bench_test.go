package journal

import (
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

// BenchmarkEmit measures what journalling costs a run: each record is
// written and synced to disk before the engine goes on.
func BenchmarkEmit(b *testing.B) {
	s, err := OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.Create("20261122T164500Z-0000aa", NewRedactor(nil))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	const perOp = 200
	e := runbook.Event{Time: time.Now(), RunID: "20261122T164500Z-0000aa", Kind: runbook.StepLog, Node: "step.exec.a", Line: "stdout: copying models/a.bin"}
	start := time.Now()
	for b.Loop() {
		for range perOp {
			if err := w.Emit(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	n := float64(b.N * perOp)
	elapsed := time.Since(start)
	b.ReportMetric(elapsed.Seconds()*1e6/n, "µs/record")
	b.ReportMetric(n/elapsed.Seconds(), "records/s")
}
