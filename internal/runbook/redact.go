package runbook

import (
	"github.com/drconsole/drconsole/internal/redact"
	"github.com/zclconf/go-cty/cty"
)

// Redact returns e with r applied to every free-text field: the line, the
// error and the reason, each change's action, target and detail, the
// outputs, a drill step's configuration and state, and the run's
// variables. The engine masks sensitive variables' values this way before
// an event leaves it; the journal and the printers mask credentials the
// same way where they write events. e itself is left as it was.
func (e Event) Redact(r *redact.Redactor) Event {
	e.Line, e.Error, e.Reason = r.String(e.Line), r.String(e.Error), r.String(e.Reason)
	if len(e.Changes) > 0 {
		cs := make([]Change, len(e.Changes))
		for i, c := range e.Changes {
			cs[i] = Change{Action: r.String(c.Action), Target: r.String(c.Target), Detail: r.String(c.Detail)}
		}
		e.Changes = cs
	}
	e.Outputs = r.JSON(e.Outputs)
	if e.Drill != nil {
		d := *e.Drill
		d.Config, d.State = r.JSON(d.Config), r.JSON(d.State)
		e.Drill = &d
	}
	if e.Run != nil && e.Run.Variables != nil {
		info := *e.Run
		info.Variables = make(map[string]string, len(e.Run.Variables))
		for k, v := range e.Run.Variables {
			info.Variables[k] = r.String(v)
		}
		e.Run = &info
	}
	return e
}

// collectStrings gathers the string leaves of a sensitive value so they
// can be masked wherever a step echoes them; redact leaves out the ones
// too short to be worth masking.
func collectStrings(v cty.Value, out *[]string) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch {
	case v.Type() == cty.String:
		*out = append(*out, v.AsString())
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			collectStrings(e, out)
		}
	}
}

// redact masks sensitive variables' values in s, for error texts that
// leave the engine other than through an event.
func (r *run) redact(s string) string { return r.sensitive.String(s) }
