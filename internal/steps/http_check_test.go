package steps

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func httpCfg(url string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{
		"url":           cty.StringVal(url),
		"expect_status": cty.NullVal(cty.Number),
		"within":        cty.NullVal(cty.String),
		"interval":      cty.NullVal(cty.String),
	}
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

// TestHTTPCheckRealServer probes a real server over loopback.
func TestHTTPCheckRealServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	h := Registry(Deps{HTTPClient: srv.Client()})["http_check"]

	out, err := h.Apply(t.Context(), nil, httpCfg(srv.URL+"/healthz", map[string]cty.Value{"expect_status": cty.NumberIntVal(204)}))
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := out.GetAttr("status").AsBigFloat().Int64(); status != 204 {
		t.Errorf("status = %d", status)
	}
	if out.GetAttr("latency_ms").IsNull() {
		t.Error("no latency")
	}

	var rec logRecorder
	_, err = h.Apply(t.Context(), rec.ctx(), httpCfg(srv.URL+"/missing", map[string]cty.Value{"within": cty.StringVal("0s")}))
	if err == nil || !strings.Contains(err.Error(), "no status 200") || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(rec.all(), "status 404 (attempt 1, want 200)") {
		t.Errorf("logs = %q", rec.all())
	}
}

// handlerClient serves requests in-process, so the probe loop runs inside a
// synctest bubble where time is fake.
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHTTPCheckRetriesUntilHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var calls atomic.Int32
		h := HTTPCheck{Client: handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Unhealthy for the first 25 seconds.
			if time.Since(start) < 25*time.Second {
				calls.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			calls.Add(1)
		}))}
		_, err := h.Apply(t.Context(), nil, httpCfg("http://dr.example/healthz", map[string]cty.Value{"interval": cty.StringVal("10s")}))
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 30*time.Second {
			t.Errorf("healthy after %s, want 30s (probes at 0, 10, 20, 30s)", got)
		}
		if calls.Load() != 4 {
			t.Errorf("%d probes, want 4", calls.Load())
		}
	})
}

func TestHTTPCheckGivesUpWithin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		h := HTTPCheck{Client: handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}))}
		_, err := h.Apply(t.Context(), nil, httpCfg("http://dr.example/", map[string]cty.Value{"within": cty.StringVal("1m")}))
		if err == nil || !strings.Contains(err.Error(), "within 1m0s after 12 attempts; last: status 502") {
			t.Errorf("err = %v", err)
		}
		if got := time.Since(start); got != 55*time.Second {
			t.Errorf("gave up after %s, want 55s (the last probe that fits)", got)
		}
	})
}

func TestHTTPCheckCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 7*time.Second)
		defer cancel()
		h := HTTPCheck{Client: handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}))}
		_, err := h.Apply(ctx, nil, httpCfg("http://dr.example/", nil))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestHTTPCheckBadInput(t *testing.T) {
	h := HTTPCheck{}
	for _, tt := range []struct {
		cfg  cty.Value
		want string
	}{
		{httpCfg("ftp://x/", nil), "must be an absolute http"},
		{httpCfg("/healthz", nil), "must be an absolute http"},
		{httpCfg("http://x/", map[string]cty.Value{"expect_status": cty.NumberIntVal(42)}), "expect_status 42"},
		{httpCfg("http://x/", map[string]cty.Value{"expect_status": cty.NumberFloatVal(200.5)}), "expect_status 200.5"},
		{httpCfg("http://x/", map[string]cty.Value{"within": cty.StringVal("a while")}), `within: invalid duration "a while"`},
		{httpCfg("http://x/", map[string]cty.Value{"interval": cty.StringVal("0s")}), "interval must be greater than zero"},
	} {
		if _, err := h.Plan(t.Context(), nil, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Plan(%#v) err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	changes, err := h.Plan(t.Context(), nil, httpCfg("https://dr.example/healthz", nil))
	if err != nil || changes[0].String() != "GET https://dr.example/healthz until status 200, within 1m0s" {
		t.Errorf("plan = %v, %v", changes, err)
	}
	changes, err = h.Plan(t.Context(), nil, httpCfg("x", map[string]cty.Value{"url": cty.UnknownVal(cty.String)}))
	if err != nil || changes[0].Target != "(url known after earlier steps)" {
		t.Errorf("plan with unknown url = %v, %v", changes, err)
	}
}
