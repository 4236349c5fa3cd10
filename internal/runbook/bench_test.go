package runbook

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// noopStep returns at once, like `wait 0s`: what is left is the engine.
type noopStep struct{}

func (noopStep) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{"duration": &hcldec.AttrSpec{Name: "duration", Type: cty.String}}
}
func (noopStep) Outputs() cty.Type { return cty.Object(map[string]cty.Type{"waited": cty.String}) }
func (noopStep) Destructive() bool { return false }
func (noopStep) Plan(context.Context, *StepContext, cty.Value) ([]Change, error) {
	return nil, nil
}

var noopOut = cty.ObjectVal(map[string]cty.Value{"waited": cty.StringVal("0s")})

func (noopStep) Apply(context.Context, *StepContext, cty.Value) (cty.Value, error) {
	return noopOut, nil
}

// generateGraph writes n wait steps in layers of 100: each step of a layer
// depends on two steps of the layer before, one by reference and one by
// depends_on, so the scheduler sees both fan-out and joins.
func generateGraph(n int) string {
	var b strings.Builder
	b.WriteString("runbook {\n  parallelism = 8\n}\n")
	const width = 100
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "step \"wait\" \"s%d\" {\n", i)
		if i >= width {
			fmt.Fprintf(&b, "  duration = step.wait.s%d.waited\n", i-width)
			fmt.Fprintf(&b, "  depends_on = [step.wait.s%d]\n", i-width+(i+1)%width-i%width)
		} else {
			b.WriteString("  duration = \"0s\"\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func BenchmarkSchedule10k(b *testing.B) {
	const steps = 10000
	reg := Registry{"wait": noopStep{}}
	src := generateGraph(steps)
	rb := mustParse(b, src, reg)
	if len(rb.Order()) != steps {
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
	sink := SinkFunc(func(e Event) error {
		if e.Kind == StepFinished {
			finished.Add(1)
		}
		return nil
	})
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res := Execute(context.Background(), rb, Options{RunID: "bench", Sink: sink})
		if res.Status != StatusSucceeded {
			b.Fatal(res.Err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled

	if got := finished.Load(); got != int64(steps*b.N) {
		b.Fatalf("%d steps finished; want %d", got, steps*b.N)
	}
	perRun := elapsed / time.Duration(b.N)
	b.ReportMetric(float64(perRun.Nanoseconds())/steps, "ns/step")
	b.ReportMetric(perRun.Seconds()*1000, "ms/run")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

func BenchmarkParse10k(b *testing.B) {
	reg := Registry{"wait": noopStep{}}
	src := []byte(generateGraph(10000))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, diags := Parse(map[string][]byte{"gen.hcl": src}, reg)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
