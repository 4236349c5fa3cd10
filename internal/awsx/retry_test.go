package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/testutil/pipenet"
)

// throttler answers SlowDown to the first n requests, then an empty
// listing, and records when (on the bubble's clock) each request came.
type throttler struct {
	mu    sync.Mutex
	n     int
	times []time.Time
}

func (h *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.times = append(h.times, time.Now())
	throttle := h.n > 0
	h.n--
	h.mu.Unlock()
	if throttle {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		return
	}
	fmt.Fprint(w, `<ListVersionsResult><Name>models</Name><IsTruncated>false</IsTruncated></ListVersionsResult>`)
}

// inBubble runs fn with S3 clients (options o) wired to h over
// in-memory connections, inside a synctest bubble.
func inBubble(t *testing.T, o Options, h http.Handler, fn func(t *testing.T, s3c *s3.Client)) {
	synctest.Test(t, func(t *testing.T) {
		ln := pipenet.New()
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		o.SandboxEndpoint = "http://sandbox.test"
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.DialContext = ln.Dial
			tr.DisableKeepAlives = true
		})
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		s3c, err := c.S3(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s3c)
	})
}

func list(s3c *s3.Client) error {
	_, err := s3c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String("models")})
	return err
}

// Throttled calls back off exponentially with jitter, within MaxBackoff,
// and give up after MaxAttempts; all on the fake clock. Only the standard
// mode runs here: the adaptive mode's client-side rate limiter can compute
// a zero wait and spin until the wall clock moves, which a fake clock
// never does (TestRetryer checks that mode is wired).
func TestRetryBackoffOnFakeClock(t *testing.T) {
	for _, mode := range []RetryMode{RetryStandard} {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			h := &throttler{n: 4}
			inBubble(t, Options{Retry: mode, MaxAttempts: 5, MaxBackoff: 3 * time.Second}, h, func(t *testing.T, s3c *s3.Client) {
				start := time.Now()
				if err := list(s3c); err != nil {
					t.Fatalf("four SlowDowns then success: %v", err)
				}
				if len(h.times) != 5 {
					t.Fatalf("%d attempts, want 5", len(h.times))
				}
				for i := 1; i < len(h.times); i++ {
					gap := h.times[i].Sub(h.times[i-1])
					if gap <= 0 || gap > 3*time.Second {
						t.Errorf("attempt %d waited %s, more than MaxBackoff", i+1, gap)
					}
				}
				if d := time.Since(start); d <= 0 || d > 4*3*time.Second {
					t.Errorf("four retries took %s", d)
				}
				h.n = 10
				if err := list(s3c); err == nil {
					t.Fatal("a call throttled past MaxAttempts succeeded")
				}
				if len(h.times) != 10 {
					t.Fatalf("%d attempts in all, want 10", len(h.times))
				}
			})
		})
	}
}

// S3 can answer 200 with an error document, and a page can be cut off in
// transit. The lister has both retried rather than read as a listing that
// ended.
func TestListingErrorWithStatus200(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`)
			return
		}
		if calls == 3 {
			// A page cut off in transit: fewer bytes than announced.
			w.Header().Set("Content-Length", "4096")
			fmt.Fprint(w, `<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>a</Key>`)
			return
		}
		fmt.Fprint(w, `<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>a</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>`+
			`<LastModified>2026-03-01T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>1</Size></Version></ListVersionsResult>`)
	})
	inBubble(t, Options{Retry: RetryStandard, MaxAttempts: 3}, h, func(t *testing.T, s3c *s3.Client) {
		p := NewVersionPaginator(s3c, VersionListing{Bucket: "models"})
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 1 || page[0].Key != "a" || calls != 2 || p.HasMorePages() {
			t.Fatalf("page %v after %d requests", page, calls)
		}
		p = NewVersionPaginator(s3c, VersionListing{Bucket: "models"})
		if page, err = p.NextPage(t.Context()); err != nil {
			t.Fatalf("after a page cut off in transit: %v", err)
		}
		if len(page) != 1 || calls != 4 {
			t.Fatalf("page %v after %d requests", page, calls)
		}
	})
}

// TestListingOutOfS3sOrderIsRefused: a store that lists a key's versions
// first and its delete markers after (so the newest entry is not first)
// is refused with the key named, not planned from.
func TestListingOutOfS3sOrderIsRefused(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<ListVersionsResult><IsTruncated>false</IsTruncated>`+
			`<Version><Key>r/extra.bin</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><LastModified>2026-03-01T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>1</Size></Version>`+
			`<DeleteMarker><Key>r/extra.bin</Key><VersionId>d1</VersionId><IsLatest>true</IsLatest><LastModified>2026-03-01T11:00:00.000Z</LastModified></DeleteMarker>`+
			`</ListVersionsResult>`)
	})
	inBubble(t, Options{Retry: RetryStandard, MaxAttempts: 1}, h, func(t *testing.T, s3c *s3.Client) {
		_, err := NewVersionPaginator(s3c, VersionListing{Bucket: "models"}).NextPage(t.Context())
		if !errors.Is(err, pitr.ErrOrder) || !strings.Contains(err.Error(), `"r/extra.bin"`) || !strings.Contains(err.Error(), "out of S3's order") {
			t.Fatalf("out-of-order listing: %v", err)
		}
	})
}
