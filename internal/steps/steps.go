// Package steps holds drconsole's step types, one file per type. Each
// implements runbook.StepType; Registry wires them into the engine.
package steps

import (
	"fmt"
	"net/http"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/zclconf/go-cty/cty"
)

// Deps carries what step types need from outside: HTTP and, later, AWS
// clients. Zero values select sensible defaults.
type Deps struct {
	// HTTPClient is used by http_check; nil means a client with no overall
	// timeout (each probe gets its own deadline).
	HTTPClient *http.Client
}

// Registry returns every step type this package provides, keyed by the name
// written in `step "TYPE" "NAME"`.
func Registry(deps Deps) runbook.Registry {
	client := deps.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return runbook.Registry{
		"wait":       Wait{},
		"exec":       Exec{},
		"http_check": HTTPCheck{Client: client},
	}
}

// str returns the string held by an attribute, or "" when it is null.
func str(cfg cty.Value, name string) string {
	v := cfg.GetAttr(name)
	if v.IsNull() || !v.IsKnown() {
		return ""
	}
	return v.AsString()
}

// known reports whether an attribute's value, and everything inside it, is
// known; in dry-run, values coming from upstream steps are not.
func known(cfg cty.Value, name string) bool {
	return cfg.GetAttr(name).IsWhollyKnown()
}

// duration reads a duration attribute ("90s", "5m"); a null attribute
// yields def. Negative durations are refused.
func duration(cfg cty.Value, name string, def time.Duration) (time.Duration, error) {
	v := cfg.GetAttr(name)
	if v.IsNull() {
		return def, nil
	}
	if !v.IsKnown() {
		return 0, fmt.Errorf("%s is not known yet", name)
	}
	d, err := ParseDuration(v.AsString())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// ParseDuration parses a Go duration string ("1h30m", "250ms") and refuses
// negative values, which no step attribute means.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. \"30s\", \"5m\", \"1h30m\")", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}
