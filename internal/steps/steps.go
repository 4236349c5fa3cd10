// Package steps holds drconsole's step types. Each is one unit, in its
// own file (or files named for it): spec, plan, apply, validation, blast
// radius, drill mode and teardown, and what other packages ask of it
// through runbook's optional interfaces (recovery points, logged request
// parameters). registry.go lists every type; Registry wires them into the
// engine.
package steps

import (
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"
)

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
