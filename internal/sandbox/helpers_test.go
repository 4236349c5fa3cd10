package sandbox_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// t0 is the fixed start of the sandbox clock in these tests; time moves
// only through AdvanceClock.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

type env struct {
	t   *testing.T
	srv *sandbox.Server
	cfg aws.Config
	ctx context.Context
}

func start(t *testing.T, o sandbox.Options) *env {
	t.Helper()
	if o.Clock == nil {
		o.Clock = fixedClock
	}
	srv, cfg := sandboxtest.Start(t, o)
	cfg.Retryer = fastRetryer
	return &env{t: t, srv: srv, cfg: cfg, ctx: context.Background()}
}

// fastRetryer is the SDK's standard retryer without backoff delays or the
// client-side retry quota, so retried faults cost no wall time.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

// region returns a config for another region.
func (e *env) region(r string) aws.Config {
	c := e.cfg.Copy()
	c.Region = r
	return c
}

// noRetry returns a config whose clients try once.
func (e *env) noRetry() aws.Config {
	c := e.cfg.Copy()
	c.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return c
}

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if _, err := e.srv.AdvanceClock(d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) s3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantCode asserts an API error with the code and, when status != 0, the
// HTTP status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %q (%v), want %q", ae.ErrorCode(), err, code)
	}
	if status != 0 {
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Fatalf("error %v: want HTTP status %d", err, status)
		}
	}
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	return httpDo(t, http.MethodGet, url, "")
}

func httpDo(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	return httpSend(t, method, url, body, nil)
}

// admin calls the admin endpoint as a program of the operator's does:
// with the token, and JSON.
func (e *env) admin(method, path, body string) (*http.Response, string) {
	e.t.Helper()
	return httpSend(e.t, method, e.srv.URL()+"/_sandbox/"+path, body, http.Header{
		"Authorization": {"Bearer " + e.srv.AdminToken()}, "Content-Type": {"application/json"}})
}

// httpSend sends a request with headers h.
func httpSend(t *testing.T, method, url, body string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := readAll(&b, resp); err != nil {
		t.Fatal(err)
	}
	return resp, b.String()
}

func readAll(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }

// signedDo sends a request signed for service in the config's region, for
// the protocols the pinned SDK does not speak (EFS, CloudWatch's query
// protocol), and returns the response with its body read.
func signedDo(t *testing.T, e *env, method, service, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	creds := must(e.cfg.Credentials.Retrieve(e.ctx))(t)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(e.ctx, creds, req, hex.EncodeToString(sum[:]), service, e.cfg.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := awshttp.NewBuildableClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
