package drill

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCriticalPath measures the critical path of a wide, deep graph:
// 100 layers of 20 parallel steps, each waiting for three steps of the
// layer before.
func BenchmarkCriticalPath(b *testing.B) {
	const layers, width = 100, 20
	var nodes []PathNode
	for l := range layers {
		for w := range width {
			n := PathNode{Addr: fmt.Sprintf("step.wait.l%d_%d", l, w), Duration: time.Duration((l*7+w*13)%50) * time.Millisecond}
			if l > 0 {
				for k := range 3 {
					n.Deps = append(n.Deps, fmt.Sprintf("step.wait.l%d_%d", l-1, (w+k*5)%width))
				}
			}
			nodes = append(nodes, n)
		}
	}
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		_, t, err := CriticalPath(nodes)
		if err != nil {
			b.Fatal(err)
		}
		total = t
	}
	b.ReportMetric(float64(len(nodes)), "nodes")
	b.ReportMetric(total.Seconds(), "path-s")
}
