package awsx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/testutil/pipenet"
)

// watchBubble runs fn with clients on a sandbox served over in-memory
// connections inside a synctest bubble, so the SDK's backoff and the
// watch's bound run on the fake clock.
func watchBubble(t *testing.T, fn func(t *testing.T, srv *sandbox.Server, c *Clients)) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := sandbox.New(sandbox.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ln := pipenet.New()
		hs := &http.Server{Handler: srv}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		c, err := New(Options{
			SandboxEndpoint: "http://sandbox.test", Retry: RetryStandard, MaxAttempts: 8, MaxBackoff: 20 * time.Second,
			HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				tr.DialContext = ln.Dial
				tr.DisableKeepAlives = true
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, srv, c)
	})
}

// retries collects what a watch hears.
type retries struct {
	mu  sync.Mutex
	all []Retry
}

func (r *retries) add(x Retry) { r.mu.Lock(); r.all = append(r.all, x); r.mu.Unlock() }

// A region that answers every attempt with 503 is given up on once it has
// failed for the bound, not after every round of every key: the context
// ends with the region, the service and the last error, and each retry
// was heard with its reason.
func TestWatchGivesUpOnARegionThatStoppedAnswering(t *testing.T) {
	watchBubble(t, func(t *testing.T, srv *sandbox.Server, c *Clients) {
		srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultOutage, Region: "us-east-1"}})
		var heard retries
		const bound = 2 * time.Minute
		ctx, cancel := WithWatch(t.Context(), &Watch{Unavailable: bound, Retried: heard.add})
		defer cancel()
		s3c, err := c.S3(ctx, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		calls := 0
		// A step's loop: each key's call retried by the SDK, then the
		// next key, for as long as the context lasts.
		for ctx.Err() == nil && calls < 1000 {
			calls++
			_, _ = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
		}
		took := time.Since(start)
		var ue *UnavailableError
		if !errors.As(context.Cause(ctx), &ue) {
			t.Fatalf("after %d calls in %s the context ended with %v, want an UnavailableError", calls, took, context.Cause(ctx))
		}
		if ue.Region != "us-east-1" || ue.Service != "s3" || ue.For < bound || ue.Failures < 2 {
			t.Errorf("unavailable %+v", ue)
		}
		if msg := ue.Error(); !strings.Contains(msg, "us-east-1 s3 is not answering") || !strings.Contains(msg, "503") {
			t.Errorf("message %q: want region, service and the last failure", msg)
		}
		// Within the bound plus one backoff: the watch ends the wait too.
		if took < bound || took > bound+20*time.Second {
			t.Errorf("gave up after %s, want between %s and %s", took, bound, bound+20*time.Second)
		}
		heard.mu.Lock()
		defer heard.mu.Unlock()
		if len(heard.all) == 0 || heard.all[0].Call() != "s3 HeadObject in us-east-1" || heard.all[0].Throttled {
			t.Fatalf("retries heard: %+v", heard.all)
		}
		// Another region's calls were never counted against it.
		sts2, err := c.STS(t.Context(), "us-west-2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sts2.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("us-west-2 outside the watch: %v", err)
		}
	})
}

// Throttling is an answer: a service that throttles every other attempt
// is slow, not gone, and the watch never gives up on it; each throttled
// retry is heard as one.
func TestWatchTellsThrottlingFromAnOutage(t *testing.T) {
	watchBubble(t, func(t *testing.T, srv *sandbox.Server, c *Clients) {
		srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultThrottle, Service: "s3", Rate: 0.5}})
		var heard retries
		ctx, cancel := WithWatch(t.Context(), &Watch{Unavailable: time.Second, Retried: heard.add})
		defer cancel()
		s3c, err := c.S3(ctx, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			_, _ = s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
		}
		if err := context.Cause(ctx); err != nil {
			t.Fatalf("throttling ended the watch: %v", err)
		}
		heard.mu.Lock()
		defer heard.mu.Unlock()
		if len(heard.all) == 0 {
			t.Fatal("no throttled retry heard")
		}
		for _, r := range heard.all {
			if !r.Throttled || !strings.Contains(r.Reason, "SlowDown") {
				t.Errorf("retry %+v: want a throttled SlowDown", r)
			}
		}
	})
}

// One answer in between resets the count: failures must be consecutive.
func TestWatchCountsOnlyConsecutiveFailures(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := WithWatch(context.Background(), &Watch{Unavailable: time.Minute, Now: func() time.Time { return clock }})
	defer cancel()
	w := watchOf(ctx)
	fail := errors.New("connection reset")
	for i := range 10 {
		w.attempt("us-east-1", "s3", fail)
		clock = clock.Add(50 * time.Second)
		if i%2 == 1 {
			w.attempt("us-east-1", "s3", nil) // answered
		}
		w.attempt("us-west-2", "s3", nil)
	}
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("alternating failures ended the watch: %v", err)
	}
	w.attempt("us-east-1", "s3", fail)
	clock = clock.Add(61 * time.Second)
	w.attempt("us-east-1", "s3", context.Canceled) // the caller's, not the service's
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("a cancelled attempt counted: %v", err)
	}
	w.attempt("us-east-1", "s3", fail)
	var ue *UnavailableError
	if !errors.As(context.Cause(ctx), &ue) || ue.Failures != 2 || ue.For != 61*time.Second {
		t.Fatalf("cause %v, want two failures over 61s", context.Cause(ctx))
	}
}

// countingGate is an AttemptGate that counts what passes.
type countingGate struct {
	mu                   sync.Mutex
	inflight, most, seen int
	throttled            int
}

func (g *countingGate) Acquire(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight++
	g.seen++
	g.most = max(g.most, g.inflight)
	return nil
}

func (g *countingGate) Release(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	if err != nil && strings.Contains(err.Error(), "SlowDown") {
		g.throttled++
	}
}

// A rate-limited service throttles only what goes over its limit: a client
// that sends faster is throttled, each attempt passing the context's gate
// with its outcome, and one that has slowed down is not throttled at all.
func TestAttemptGateSeesEveryAttempt(t *testing.T) {
	watchBubble(t, func(t *testing.T, srv *sandbox.Server, c *Clients) {
		srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultThrottle, Service: "s3", PerSecond: 2}})
		var heard retries
		ctx, cancel := WithWatch(t.Context(), &Watch{Retried: heard.add})
		defer cancel()
		g := &countingGate{}
		ctx = WithAttemptGate(ctx, g)
		s3c, err := c.S3(ctx, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
				t.Fatalf("rate-limited call failed: %v", err)
			}
		}
		heard.mu.Lock()
		n := len(heard.all)
		heard.mu.Unlock()
		if n == 0 || g.throttled != n || g.seen != 10+n || g.most != 1 || g.inflight != 0 {
			t.Fatalf("%d throttled retries; the gate saw %d attempts, %d throttled, at most %d at once, %d left in flight",
				n, g.seen, g.throttled, g.most, g.inflight)
		}
		before := len(srv.Requests())
		for range 5 {
			time.Sleep(time.Second)
			if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(srv.Requests()) - before; got != 5 || g.throttled != n {
			t.Fatalf("at one call a second: %d requests for 5 calls, %d more throttled; want none throttled", got, g.throttled-n)
		}
	})
}
