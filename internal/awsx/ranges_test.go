package awsx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// history writes a random version history into a fresh sandbox bucket:
// keys under src/ (and a few under dst/ for restores into another prefix),
// on a clock that steps a second per write. It returns the writable S3
// client and a time in the middle of the history.
func history(t testing.TB, keys, writesPerKey int, faults ...sandbox.Fault) (*s3.Client, *Clients, time.Time) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true, Clock: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}})
	c := sandboxClients(t, srv, cfg, false)
	ctx := context.Background()
	s3c, err := c.S3(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("models")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("models"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, uint64(keys)))
	total := keys * writesPerKey
	var mid time.Time
	for i := range total {
		mu.Lock()
		now = now.Add(time.Second)
		if i == total/2 {
			mid = now
		}
		mu.Unlock()
		key := fmt.Sprintf("src/%s-%05d", []string{"ckpt", "cfg", "tok ü+%"}[i%keys%3], i%keys)
		if r.IntN(10) == 0 {
			key = "dst/" + strings.TrimPrefix(key, "src/")
		}
		if r.IntN(4) == 0 {
			_, err = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("models"), Key: aws.String(key)})
		} else {
			_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String(key),
				Body: strings.NewReader(fmt.Sprint(r.IntN(3)))})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(faults) > 0 {
		srv.SetFaults(faults)
	}
	return s3c, c, mid
}

// sequential plans with one planner over one listing.
func sequential(t testing.TB, s3c *s3.Client, o pitr.Options, target func(pitr.Range) pitr.Cursor) []pitr.Decision {
	if target != nil {
		o.Target = target(pitr.Range{})
	}
	p, err := pitr.New(o)
	if err != nil {
		t.Fatal(err)
	}
	var ds []pitr.Decision
	emit := func(d pitr.Decision) error { ds = append(ds, d); return nil }
	err = ListVersions(context.Background(), s3c, VersionListing{Bucket: "models", Prefix: o.SourcePrefix},
		func(page []pitr.Entry) error { return p.Feed(page, emit) })
	if err == nil {
		err = p.Close(emit)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestRangePlanMatchesOnePlanner(t *testing.T) {
	s3c, _, T := history(t, 120, 4)
	ctx := t.Context()
	for _, into := range []string{"", "dst/"} {
		t.Run("into "+into, func(t *testing.T) {
			o := pitr.Options{At: T, SourcePrefix: "src/"}
			var target func(pitr.Range) pitr.Cursor
			if into != "" {
				o.TargetPrefix = into
				target = func(r pitr.Range) pitr.Cursor {
					return VersionCursor(ctx, s3c, VersionListing{Bucket: "models", Prefix: into, MaxKeys: 9, Range: r})
				}
			}
			want := sequential(t, s3c, o, target)
			var mu sync.Mutex
			var got []pitr.Decision
			rp := RangePlan{Client: s3c, Bucket: "models", Prefix: "src/", PageSize: 7, Options: o, Workers: 3, KeysPerRange: 11}
			if target != nil {
				rp.Target = func(_ context.Context, r pitr.Range) pitr.Cursor { return target(r) }
			}
			st, err := rp.Run(ctx, func(d pitr.Decision) error {
				mu.Lock()
				got = append(got, d)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b pitr.Decision) int { return strings.Compare(a.TargetKey, b.TargetKey) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("ranges planned differently\n got %v\nwant %v", got, want)
			}
			if st.Keys != int64(len(want)) || st.Writes() == 0 || st.Keeps == 0 {
				t.Fatalf("stats %+v for %d decisions", st, len(want))
			}
		})
	}
}

func TestRangePlanStopsOnError(t *testing.T) {
	s3c, _, T := history(t, 60, 2)
	stop := errors.New("stop")
	var calls int
	var mu sync.Mutex
	_, err := RangePlan{Client: s3c, Bucket: "models", Prefix: "src/", Options: pitr.Options{At: T}, Workers: 2, KeysPerRange: 5}.
		Run(t.Context(), func(pitr.Decision) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return stop
		})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want stop", err)
	}
	if _, err := (RangePlan{}).Run(t.Context(), nil); err == nil {
		t.Fatal("a plan without a client ran")
	}
	if err := KeyRanges(t.Context(), s3c, "models", "", 0, nil); err == nil {
		t.Fatal("zero keys per range accepted")
	}
}

// BenchmarkRangePlan lists and plans 2,000 keys of 5 writes each on the
// sandbox with 50 ms added to every listing request (a distant store's
// round trip), with one planner and with key ranges listed four at a time.
func BenchmarkRangePlan(b *testing.B) {
	lat := []sandbox.Fault{
		{Service: "s3", Operation: "ListObjectVersions", Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond},
		{Service: "s3", Operation: "ListObjectsV2", Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond},
	}
	s3c, _, T := history(b, 2000, 5, lat...)
	o := pitr.Options{At: T, SourcePrefix: "src/"}
	b.Run("sequential", func(b *testing.B) {
		var n int
		start := time.Now()
		for b.Loop() {
			n += len(sequential(b, s3c, o, nil))
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "keys/s")
	})
	b.Run("ranges", func(b *testing.B) {
		var n int64
		start := time.Now()
		for b.Loop() {
			st, err := RangePlan{Client: s3c, Bucket: "models", Prefix: "src/", Options: o, Workers: 4, KeysPerRange: 400}.
				Run(context.Background(), func(pitr.Decision) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			n += st.Keys
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "keys/s")
	})
}
