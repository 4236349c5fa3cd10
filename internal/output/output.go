// Package output prints a run's events for people and machines: text
// progress lines, JSON (one event per line), JUnit XML, and the plan. Each
// printer is a runbook.Sink; those that report where steps and gates stand
// read it from runbook.RunState, the fold every consumer of events shares,
// and keep only what they print.
package output

import (
	"fmt"
	"strings"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Format is an --output value.
type Format string

// The output formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
)

// formats lists the accepted --output values.
var formats = []Format{FormatText, FormatJSON, FormatJUnit}

// ParseFormat checks an --output value.
func ParseFormat(s string) (Format, error) {
	for _, f := range formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("invalid output format %q: use one of %s", s, strings.Join(names, ", "))
}

// Multi sends each event to every sink in turn; the first error stops the
// event there and is returned, so a failing journal stops the run.
func Multi(sinks ...runbook.Sink) runbook.Sink {
	return runbook.SinkFunc(func(e runbook.Event) error {
		for _, s := range sinks {
			if s == nil {
				continue
			}
			if err := s.Emit(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// BestEffort returns a sink that never fails: a printer whose terminal or
// pipe went away must not stop a recovery that the journal still records.
func BestEffort(s runbook.Sink) runbook.Sink {
	return runbook.SinkFunc(func(e runbook.Event) error {
		_ = s.Emit(e)
		return nil
	})
}

// Filter returns a sink that passes each event through f before s.
func Filter(s runbook.Sink, f func(runbook.Event) runbook.Event) runbook.Sink {
	return runbook.SinkFunc(func(e runbook.Event) error { return s.Emit(f(e)) })
}
