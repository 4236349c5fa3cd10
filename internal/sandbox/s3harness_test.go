package sandbox

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeClock is a settable clock for time-driven behaviour.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// s3Harness serves one s3Service on loopback the way the server core
// routes to it: region from the SigV4 scope, operation from identify.
type s3Harness struct {
	svc   *s3Service
	srv   *httptest.Server
	clock *fakeClock
	reqs  atomic.Int64
	// chunked counts requests whose body came aws-chunked.
	chunked atomic.Int64
}

func startS3Harness(t testing.TB, cfg s3Config, tls bool) *s3Harness {
	t.Helper()
	h := &s3Harness{svc: newS3ServiceConfig(cfg), clock: newFakeClock()}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.reqs.Add(1)
		if hasToken(r.Header.Get("Content-Encoding"), "aws-chunked") {
			h.chunked.Add(1)
		}
		c := &call{Service: "s3", Region: scopeRegion(r), RequestID: "REQ" + strconv.FormatInt(n, 10), Now: h.clock.Now()}
		op, mut, err := h.svc.identify(r)
		if err != nil {
			h.svc.writeError(w, r, c, &apiError{Status: 400, Code: "InvalidRequest", Message: err.Error()})
			return
		}
		c.Operation, c.Mutating = op, mut
		h.svc.serve(w, r, c)
	})
	if tls {
		h.srv = httptest.NewTLSServer(handler)
	} else {
		h.srv = httptest.NewServer(handler)
	}
	t.Cleanup(h.srv.Close)
	return h
}

func scopeRegion(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		_, after, ok := strings.Cut(a, "Credential=")
		if ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 {
		return parts[2]
	}
	return ""
}

// client returns an SDK client for region, path-style unless virtual.
func (h *s3Harness) client(t testing.TB, region string, opts ...func(*s3.Options)) *s3.Client {
	t.Helper()
	hc := awshttp.NewBuildableClient()
	if h.srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(h.srv.Certificate())
		hc = hc.WithTransportOptions(func(tr *http.Transport) {
			tr.TLSClientConfig.RootCAs = pool
		})
	}
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSANDBOXTEST", "secret", ""),
		HTTPClient:   hc,
		BaseEndpoint: aws.String(h.srv.URL),
		// What config.LoadDefaultConfig resolves: checksums whenever the
		// operation supports them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	}}, opts...)...)
}

// virtualClient addresses buckets as <bucket>.localhost, dialling the
// harness whatever the host.
func (h *s3Harness) virtualClient(t testing.TB, region string) *s3.Client {
	t.Helper()
	addr := h.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}
	})
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSANDBOXTEST", "secret", ""),
		HTTPClient:   hc,
		BaseEndpoint: aws.String("http://localhost:" + port),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
}
