package runbook_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// noopStep returns at once and has an output, so the generated graph can
// also wire steps together by reference: what is left is the engine alone.
type noopStep struct{}

func (noopStep) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{"duration": &hcldec.AttrSpec{Name: "duration", Type: cty.String}}
}
func (noopStep) Outputs() cty.Type { return cty.Object(map[string]cty.Type{"waited": cty.String}) }
func (noopStep) Destructive() bool { return false }
func (noopStep) Plan(context.Context, *runbook.StepContext, cty.Value) ([]runbook.Change, error) {
	return nil, nil
}

var noopOut = cty.ObjectVal(map[string]cty.Value{"waited": cty.StringVal("0s")})

func (noopStep) Apply(context.Context, *runbook.StepContext, cty.Value) (cty.Value, error) {
	return noopOut, nil
}

// generateGraph writes n wait steps in layers of 100: each step of a layer
// depends on two steps of the layer before, so the scheduler sees both
// fan-out and joins. With byRef, one of the two edges is a reference to the
// earlier step's output (implicit), the other a depends_on (explicit).
func generateGraph(n int, byRef bool) string {
	var b strings.Builder
	b.WriteString("runbook {\n  parallelism = 8\n}\n")
	const width = 100
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "step \"wait\" \"s%d\" {\n", i)
		switch {
		case i < width:
			b.WriteString("  duration = \"0s\"\n")
		case byRef:
			fmt.Fprintf(&b, "  duration = step.wait.s%d.waited\n", i-width)
			fmt.Fprintf(&b, "  depends_on = [step.wait.s%d]\n", i-width+(i+1)%width-i%width)
		default:
			b.WriteString("  duration = \"0s\"\n")
			fmt.Fprintf(&b, "  depends_on = [step.wait.s%d, step.wait.s%d]\n", i-width, i-width+(i+1)%width-i%width)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// BenchmarkSchedule10k is the engine's scheduling overhead: 10,000 steps
// that return at once.
func BenchmarkSchedule10k(b *testing.B) {
	benchSchedule(b, runbook.Registry{"wait": noopStep{}}, true)
}

// BenchmarkScheduleWait10k is the same graph of the real `wait 0s` steps.
func BenchmarkScheduleWait10k(b *testing.B) {
	benchSchedule(b, steps.Registry(steps.Deps{}), false)
}

func benchSchedule(b *testing.B, reg runbook.Registry, byRef bool) {
	const n = 10000
	rb, diags := runbook.Parse(map[string][]byte{"gen.hcl": []byte(generateGraph(n, byRef))}, reg)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if len(rb.Order()) != n {
		b.Fatalf("order has %d steps", len(rb.Order()))
	}

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		// Sampling the heap while the run goes gives its peak, which one
		// reading after the run would miss.
		defer close(sampled)
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	var finished atomic.Int64
	sink := runbook.SinkFunc(func(e runbook.Event) error {
		if e.Kind == runbook.StepFinished {
			finished.Add(1)
		}
		return nil
	})
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res := runbook.Execute(context.Background(), rb, runbook.Options{RunID: "bench", Registry: reg, Sink: sink})
		if res.Status != runbook.StatusSucceeded {
			b.Fatal(res.Err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled

	if got := finished.Load(); got != int64(n*b.N) {
		b.Fatalf("%d steps finished; want %d", got, n*b.N)
	}
	perRun := elapsed / time.Duration(b.N)
	b.ReportMetric(float64(perRun.Nanoseconds())/n, "ns/step")
	b.ReportMetric(perRun.Seconds()*1000, "ms/run")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

func BenchmarkParse10k(b *testing.B) {
	reg := runbook.Registry{"wait": noopStep{}}
	src := []byte(generateGraph(10000, true))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, diags := runbook.Parse(map[string][]byte{"gen.hcl": src}, reg)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
