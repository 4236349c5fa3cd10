package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkS3PutObject measures PutObject throughput through the SDK over
// loopback, with a few concurrent clients as a restore's copy workers use.
func BenchmarkS3PutObject(b *testing.B) {
	h := startS3Harness(b, s3Config{}, false)
	c := h.client(b, "us-east-1")
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench-put")}); err != nil {
		b.Fatal(err)
	}
	const workers, perWorker = 4, 250
	body := strings.Repeat("w", 1024)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perWorker {
					key := fmt.Sprintf("models/m%d/%d-%d", w, i, j)
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-put"), Key: &key, Body: strings.NewReader(body)}); err != nil {
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
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*workers*perWorker)/elapsed.Seconds(), "req/s")
}

// BenchmarkS3ListObjectVersions measures ListObjectVersions pages of 1,000
// entries through the SDK over loopback.
func BenchmarkS3ListObjectVersions(b *testing.B) {
	h := startS3Harness(b, s3Config{}, false)
	const keys, versions = 10_000, 2
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := h.svc.createBucket("bench-list", "us-east-1", true, t0); err != nil {
		b.Fatal(err)
	}
	for v := range versions {
		for k := range keys {
			if _, err := h.svc.putObjectAt("bench-list", fmt.Sprintf("models/m%03d/shard-%05d", k%100, k), []byte("x"), nil, t0.Add(time.Duration(v)*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
	c := h.client(b, "us-east-1")
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	pages := 0
	for i := 0; i < b.N; i++ {
		p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String("bench-list"), MaxKeys: aws.Int32(1000)})
		n := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(out.Versions) + len(out.DeleteMarkers)
			pages++
		}
		if n != keys*versions {
			b.Fatalf("listed %d entries, want %d", n, keys*versions)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(pages)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(pages*1000)/elapsed.Seconds(), "entries/s")
}

// BenchmarkS3Memory100kVersions reports the heap held by a seeded model
// bucket of 100,000 versions and its replica.
func BenchmarkS3Memory100kVersions(b *testing.B) {
	for i := 0; i < b.N; i++ {
		o := &Options{Seed: 1, ReplicationLag: 30 * time.Second, PrimaryRegion: "us-east-1", DRRegion: "us-west-2",
			Sizes: EstateSizes{Models: 50, VersionsPerModel: 1000, HistoryDays: 180, ObjectBytes: 2048}}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := newS3Service(o)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		if err := s.seedModels(newRand(1), o, now); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := 0
		s.mu.Lock()
		for _, k := range s.buckets[DefaultNames().ModelBucket].objects {
			n += len(k.versions)
		}
		s.mu.Unlock()
		if n < 100_000 {
			b.Fatalf("seeded %d versions, want at least 100,000", n)
		}
		b.ReportMetric(float64(n), "versions")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(s)
	}
}

// BenchmarkS3ListObjectVersionsServer measures the sandbox's side of a
// 1,000-entry ListObjectVersions page alone (no SDK, no network), paging
// through 100,000 versions.
func BenchmarkS3ListObjectVersionsServer(b *testing.B) {
	s := newS3ServiceConfig(s3Config{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.createBucket("bench-list", "us-east-1", true, t0); err != nil {
		b.Fatal(err)
	}
	const keys, versions = 50_000, 2
	for v := range versions {
		for k := range keys {
			if _, err := s.putObjectAt("bench-list", fmt.Sprintf("models/m%03d/shard-%05d", k%100, k), []byte("x"), nil, t0.Add(time.Duration(v)*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	start := time.Now()
	pages := 0
	for i := 0; i < b.N; i++ {
		q := url.Values{"max-keys": {"1000"}}
		for {
			r := httptest.NewRequest("GET", "/bench-list?versions&"+q.Encode(), nil)
			w := httptest.NewRecorder()
			s.serve(w, r, &call{Service: "s3", Operation: "ListObjectVersions", Now: t0})
			pages++
			body := w.Body.String()
			if !strings.Contains(body, "<IsTruncated>true</IsTruncated>") {
				break
			}
			q.Set("key-marker", between(body, "<NextKeyMarker>", "</NextKeyMarker>"))
			q.Set("version-id-marker", between(body, "<NextVersionIdMarker>", "</NextVersionIdMarker>"))
		}
	}
	elapsed := time.Since(start)
	if pages != b.N*keys*versions/1000 {
		b.Fatalf("%d pages, want %d", pages, b.N*keys*versions/1000)
	}
	b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.Index(s, close)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(open) : j]
}

// BenchmarkS3SaveState reports how long saving 100,000 seeded versions
// (and their replicas) to a data directory takes, and its size.
func BenchmarkS3SaveState(b *testing.B) {
	o := &Options{Seed: 1, ReplicationLag: 30 * time.Second, PrimaryRegion: "us-east-1", DRRegion: "us-west-2",
		Sizes: EstateSizes{Models: 50, VersionsPerModel: 1000, HistoryDays: 180, ObjectBytes: 2048}}
	s := newS3Service(o)
	if err := s.seedModels(newRand(1), o, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var size int
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		if err := s.saveState(&buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
		if i == 0 {
			if err := newS3Service(o).loadState(&buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "state-MiB")
}
