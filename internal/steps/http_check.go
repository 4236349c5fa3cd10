package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// HTTPCheck probes an endpoint until it answers with the expected status:
//
//	step "http_check" "serving" {
//	  url           = "https://dr.example.com/healthz"
//	  expect_status = 200   # default
//	  within        = "5m"  # default "1m": give up after this long
//	  interval      = "10s" # default "5s": pause between probes
//	}
//
// It outputs the status of the last answer and its latency in milliseconds.
type HTTPCheck struct {
	Client *http.Client
}

// Defaults for http_check's optional attributes, and the longest a single
// probe may take so one hung connection cannot use the whole `within`.
const (
	defaultWithin   = time.Minute
	defaultInterval = 5 * time.Second
	maxProbe        = 30 * time.Second
	// firstProbe is the least time the first probe gets, so a short (or
	// zero) within still waits for one answer on a loaded machine.
	firstProbe = 5 * time.Second
)

var httpCheckOutputs = cty.Object(map[string]cty.Type{
	"status":     cty.Number,
	"latency_ms": cty.Number,
})

// Spec implements runbook.StepType.
func (HTTPCheck) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"url":           &hcldec.AttrSpec{Name: "url", Type: cty.String, Required: true},
		"expect_status": &hcldec.AttrSpec{Name: "expect_status", Type: cty.Number},
		"within":        &hcldec.AttrSpec{Name: "within", Type: cty.String},
		"interval":      &hcldec.AttrSpec{Name: "interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (HTTPCheck) Outputs() cty.Type { return httpCheckOutputs }

// Destructive implements runbook.StepType: a probe only reads.
func (HTTPCheck) Destructive() bool { return false }

type httpCheckConfig struct {
	url      string
	want     int
	within   time.Duration
	interval time.Duration
}

func decodeHTTPCheck(cfg cty.Value) (httpCheckConfig, error) {
	c := httpCheckConfig{want: http.StatusOK}
	c.url = cfgString(cfg, "url")
	if cfgKnown(cfg, "url") {
		u, err := url.Parse(c.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("http_check: url %q must be an absolute http:// or https:// URL", c.url)
		}
	}
	if v := cfg.GetAttr("expect_status"); !v.IsNull() && v.IsKnown() {
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if acc != big.Exact || n < 100 || n > 599 {
			return c, fmt.Errorf("http_check: expect_status %s must be an HTTP status code (100-599)", bf.Text('g', 10))
		}
		c.want = int(n)
	}
	var err error
	if cfgKnown(cfg, "within") {
		if c.within, err = duration(cfg, "within", defaultWithin); err != nil {
			return c, fmt.Errorf("http_check: %w", err)
		}
	}
	if cfgKnown(cfg, "interval") {
		if c.interval, err = duration(cfg, "interval", defaultInterval); err != nil {
			return c, fmt.Errorf("http_check: %w", err)
		}
		if c.interval == 0 {
			return c, errors.New("http_check: interval must be greater than zero")
		}
	}
	return c, nil
}

// Plan implements runbook.StepType. It does not probe: a probe is cheap but
// not always free of side effects on the server, and plan promises none.
func (HTTPCheck) Plan(_ context.Context, _ *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	c, err := decodeHTTPCheck(cfg)
	if err != nil {
		return nil, err
	}
	target := c.url
	if !cfgKnown(cfg, "url") {
		target = "(url known after earlier steps)"
	}
	detail := fmt.Sprintf("until status %d", c.want)
	if cfgKnown(cfg, "within") {
		detail += ", within " + c.within.String()
	}
	return []runbook.Change{{Action: "GET", Target: target, Detail: detail}}, nil
}

// Apply implements runbook.StepType.
func (h HTTPCheck) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	c, err := decodeHTTPCheck(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	if !cfg.IsWhollyKnown() {
		return cty.NilVal, errors.New("http_check: configuration is not known")
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	deadline := time.Now().Add(c.within)
	var last string
	for attempt := 1; ; attempt++ {
		limit := min(time.Until(deadline), maxProbe)
		if attempt == 1 {
			limit = max(limit, min(firstProbe, maxProbe))
		}
		status, latency, err := probe(ctx, client, c.url, limit)
		switch {
		case err == nil && status == c.want:
			return cty.ObjectVal(map[string]cty.Value{
				"status":     cty.NumberIntVal(int64(status)),
				"latency_ms": cty.NumberIntVal(latency.Milliseconds()),
			}), nil
		case ctx.Err() != nil:
			return cty.NilVal, fmt.Errorf("http_check %s: %w", c.url, context.Cause(ctx))
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("status %d", status)
		}
		logLine(sc, "GET %s: %s (attempt %d, want %d)", c.url, last, attempt, c.want)
		if !time.Now().Add(c.interval).Before(deadline) {
			return cty.NilVal, fmt.Errorf("http_check %s: no status %d within %s after %d attempts; last: %s", c.url, c.want, c.within, attempt, last)
		}
		t := time.NewTimer(c.interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return cty.NilVal, fmt.Errorf("http_check %s: %w", c.url, context.Cause(ctx))
		}
	}
}

// probe makes one GET and returns the status and how long the answer took.
func probe(ctx context.Context, client *http.Client, u string, limit time.Duration) (int, time.Duration, error) {
	if limit <= 0 {
		limit = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	latency := time.Since(start)
	// Drain a little so the connection can be reused; a health endpoint
	// that answers with megabytes is not what we are measuring.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, latency, nil
}

// ValidateConfig implements runbook.ConfigValidator.
func (HTTPCheck) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	var errs []runbook.ConfigError
	probe := func(name string) cty.Value {
		// Check one attribute at a time so each error points at its own.
		attrs := map[string]cty.Value{
			"url":           cty.UnknownVal(cty.String),
			"expect_status": cty.NullVal(cty.Number),
			"within":        cty.NullVal(cty.String),
			"interval":      cty.NullVal(cty.String),
		}
		attrs[name] = cfg.GetAttr(name)
		return cty.ObjectVal(attrs)
	}
	for _, name := range []string{"url", "expect_status", "within", "interval"} {
		if _, err := decodeHTTPCheck(probe(name)); err != nil {
			errs = append(errs, runbook.ConfigError{Attr: name, Summary: "Invalid " + name, Detail: err.Error() + "."})
		}
	}
	return errs
}

// DrillPlan implements runbook.Drillable: a probe only reads.
func (HTTPCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}
