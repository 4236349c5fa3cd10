package steps_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/steps"
)

// benchKeys is the prefix size of BenchmarkS3Restore: 10,000 keys unless
// DRCONSOLE_BENCH_KEYS says otherwise (for a quick look).
func benchKeys(b *testing.B) int {
	if s := os.Getenv("DRCONSOLE_BENCH_KEYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("DRCONSOLE_BENCH_KEYS=%q: want a number of keys, at least 2", s)
		}
		return n
	}
	return 10000
}

// writeAll runs put for 0..n-1 on 32 goroutines.
func writeAll(b *testing.B, n int, put func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := put(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// liveHeap is the heap the last garbage collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeap samples the live heap until stop is closed and returns the
// highest value seen. The live heap, unlike the heap in use, leaves out
// garbage waiting for the next collection.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, liveHeap())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// benchmarkRestore writes keys × 5 versions, half of the keys changed after
// T (two of their five versions), and restores the prefix to T once per
// iteration (on a fresh store), reporting restore time, objects per
// second, writes per changed key and the restore's peak heap.
func benchmarkRestore(b *testing.B, newBackend func(testing.TB) *backend) {
	keys := benchKeys(b)
	for range b.N {
		b.StopTimer()
		be := newBackend(b)
		ctx := context.Background()
		const bucket, prefix = "bench-models", "models/"
		if _, err := be.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			b.Fatal(err)
		}
		enableVersioningB(b, be.client, bucket)
		key := func(i int) string { return fmt.Sprintf("%smodel-%03d/shard-%05d.bin", prefix, i%100, i) }
		body := func(i, v int) string { return fmt.Sprintf("key %d version %d %s", i, v, strings.Repeat("w", 200)) }
		put := func(i, v int) error {
			_, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key(i)), Body: strings.NewReader(body(i, v))})
			return err
		}
		tick := func() {
			if be.srv != nil {
				if _, err := be.srv.AdvanceClock(time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		}
		for v := 1; v <= 3; v++ {
			writeAll(b, keys, func(i int) error { return put(i, v) })
			tick()
		}
		// Odd keys get all five versions before T, even keys two after.
		for v := 4; v <= 5; v++ {
			writeAll(b, keys/2, func(j int) error { return put(2*j+1, v) })
			tick()
		}
		at := time.Now().UTC()
		if be.srv != nil {
			at = be.srv.Now()
		}
		time.Sleep(5 * time.Millisecond) // a real clock must move past T
		tick()
		for v := 4; v <= 5; v++ {
			writeAll(b, (keys+1)/2, func(j int) error { return put(2*j, v) })
			tick()
		}
		changed := int64((keys + 1) / 2)

		// drconsole's own client stack (adaptive retries, connection pool),
		// counting the attempts of every write it sends.
		var attempts atomic.Int64
		clients, err := awsx.New(awsx.Options{Target: awsx.TargetAWS, Endpoint: aws.ToString(be.cfg.BaseEndpoint),
			Region: be.cfg.Region, Credentials: be.cfg.Credentials,
			Observer: awsx.ObserverFunc(func(c awsx.Call) {
				if !awsx.IsRead(c.Service, c.Operation) {
					attempts.Add(int64(c.Attempts))
				}
			})})
		if err != nil {
			b.Fatal(err)
		}
		step := &steps.S3Restore{Clients: clients}
		cfg := stepConfig(step.Spec(), map[string]cty.Value{
			"bucket": cty.StringVal(bucket), "prefix": cty.StringVal(prefix), "to_time": cty.StringVal(at.Format(time.RFC3339Nano)),
			"concurrency": cty.NumberIntVal(64),
		})
		// Log lines go to a file synced on every line, as the engine's
		// journal does.
		journal, err := os.Create(filepath.Join(b.TempDir(), "journal.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		sc := (&recorder{}).context(false)
		sc.Log = func(line string) {
			if _, err := journal.WriteString(line + "\n"); err != nil {
				b.Error(err)
			}
			if err := journal.Sync(); err != nil {
				b.Error(err)
			}
		}
		runtime.GC()
		base := liveHeap()
		stop := make(chan struct{})
		peak := peakHeap(stop)
		b.StartTimer()
		start := time.Now()
		out, err := step.Apply(ctx, sc, cfg)
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		journal.Close()
		if err != nil {
			b.Fatal(err)
		}
		got := outputsOf(b, out)
		if got["copied"] != changed {
			b.Fatalf("restore copied %d, want %d", got["copied"], changed)
		}
		w := attempts.Load()
		b.ReportMetric(elapsed.Seconds(), "restore-s")
		b.ReportMetric(float64(keys)/elapsed.Seconds(), "keys/s")
		b.ReportMetric(float64(changed)/elapsed.Seconds(), "copies/s")
		b.ReportMetric(float64(w)/float64(changed), "writes/changed-key")
		// Above the live heap before the restore (which, on the sandbox,
		// holds the store too).
		b.ReportMetric(float64(max(<-peak, base)-base)/(1<<20), "peak-live-heap-MiB")
		b.StartTimer()
	}
}

func enableVersioningB(b *testing.B, c *s3.Client, bucket string) {
	b.Helper()
	if _, err := c.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkS3Restore restores a prefix of 10,000 keys with five versions
// each, half of them changed since T, on the sandbox and on MinIO.
func BenchmarkS3Restore(b *testing.B) {
	b.Run("sandbox", func(b *testing.B) { benchmarkRestore(b, sandboxBackend) })
	b.Run("minio", func(b *testing.B) { benchmarkRestore(b, minioBackend) })
}
