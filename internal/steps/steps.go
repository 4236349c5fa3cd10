// Package steps holds drconsole's step types, one file per type. Each
// implements runbook.StepType; Registry wires them into the engine.
package steps

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// Deps carries what step types need from outside: HTTP and AWS
// clients. Zero values select sensible defaults.
type Deps struct {
	// HTTPClient is used by http_check; nil means a client with no overall
	// timeout (each probe gets its own deadline).
	HTTPClient *http.Client
	// AWS builds the AWS step types' clients (read-only ones in dry-run).
	// Nil still registers the AWS types, so runbooks using them validate,
	// but their Plan and Apply fail with NoAWSError's message.
	AWS awsx.ClientSource
	// NoAWSError says why AWS is nil, e.g. the target could not be
	// configured.
	NoAWSError error
}

// Registry returns every step type this package provides, keyed by the name
// written in `step "TYPE" "NAME"`.
func Registry(deps Deps) runbook.Registry {
	client := deps.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	aws := deps.AWS
	if aws == nil {
		err := deps.NoAWSError
		if err == nil {
			err = errors.New("no AWS target is configured")
		}
		aws = awsx.Unavailable(err)
	}
	reg := runbook.Registry{
		"wait":       Wait{},
		"exec":       Exec{},
		"http_check": HTTPCheck{Client: client},
	}
	maps.Copy(reg, AWSTypes(aws))
	maps.Copy(reg, S3Types(aws))
	return reg
}

// UsesAWS reports whether the step type named typ calls AWS.
func UsesAWS(typ string) bool {
	_, aws := AWSTypes(nil)[typ]
	_, s3 := S3Types(nil)[typ]
	return aws || s3
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
