package pitr

import (
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPlanner plans 1,000,000 versions (200,000 keys of 5 versions,
// half of them changed since T) fed in pages of 1,000, as ListObjectVersions
// returns them, and reports the listing rate and the peak heap while
// planning: flat, since the planner holds one key at a time.
func BenchmarkPlanner(b *testing.B) {
	const keys, perKey, pageLen = 200_000, 5, 1000
	T := at(100)
	page := make([]Entry, 0, pageLen)
	etags := make([]string, perKey)
	for v := range etags {
		etags[v] = `"0123456789abcdef0123456789abcde` + strconv.Itoa(v) + `"`
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	b.ReportAllocs()
	var peak, base uint64
	var elapsed time.Duration
	for b.Loop() {
		runtime.GC()
		base = heap()
		p, err := New(Options{At: T, SourcePrefix: "models/"})
		if err != nil {
			b.Fatal(err)
		}
		var writes int64
		emit := func(d Decision) error {
			if d.Action != Keep {
				writes++
			}
			return nil
		}
		start := time.Now()
		buf := make([]byte, 0, 64)
		for k := range keys {
			buf = append(buf[:0], "models/checkpoint-"...)
			digits := strconv.Itoa(k)
			for range 8 - len(digits) {
				buf = append(buf, '0')
			}
			buf = append(buf, digits...)
			key := string(append(buf, ".safetensors"...))
			// Changed keys have their newest version after T.
			h := 99
			if k%2 == 0 {
				h = 104
			}
			for v := range perKey {
				page = append(page, Entry{
					Key: key, VersionID: strconv.Itoa(v), IsLatest: v == 0,
					LastModified: at(h - v), Size: 1 << 20, ETag: etags[v],
				})
				if len(page) == pageLen {
					if err := p.Feed(page, emit); err != nil {
						b.Fatal(err)
					}
					page = page[:0]
					peak = max(peak, heap())
				}
			}
		}
		if err := p.Feed(page, emit); err != nil {
			b.Fatal(err)
		}
		if err := p.Close(emit); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		if writes != keys/2 {
			b.Fatalf("%d writes, want %d", writes, keys/2)
		}
	}
	b.ReportMetric(float64(keys*perKey*b.N)/elapsed.Seconds(), "versions/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(int64(peak)-int64(base))/(1<<20), "heap-growth-MiB")
}
