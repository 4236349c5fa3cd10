package runbook

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// minSecretLen is the shortest sensitive string the engine masks in
// events: masking every "a" or "12" would garble every record while
// protecting nothing a credential looks like.
const minSecretLen = 4

// collectStrings gathers the string leaves of a sensitive value so they
// can be masked wherever a step echoes them.
func collectStrings(v cty.Value, out *[]string) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch {
	case v.Type() == cty.String:
		if s := v.AsString(); len(s) >= minSecretLen {
			*out = append(*out, s)
		}
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			collectStrings(e, out)
		}
	}
}

func (r *run) redact(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "(sensitive)")
	}
	return s
}

// redactEvent masks sensitive variables' values wherever a step or an
// expression copied them into an event: errors, log lines, prompts, planned
// changes and outputs.
func (r *run) redactEvent(e *Event) {
	if len(r.secrets) == 0 {
		return
	}
	e.Error, e.Reason, e.Line = r.redact(e.Error), r.redact(e.Reason), r.redact(e.Line)
	if len(e.Changes) > 0 {
		cs := make([]Change, len(e.Changes))
		for i, c := range e.Changes {
			cs[i] = Change{Action: r.redact(c.Action), Target: r.redact(c.Target), Detail: r.redact(c.Detail)}
		}
		e.Changes = cs
	}
	if len(e.Outputs) > 0 {
		e.Outputs = r.redactJSON(e.Outputs)
	}
	if e.Drill != nil && len(e.Drill.Config) > 0 {
		d := *e.Drill
		d.Config = r.redactJSON(d.Config)
		e.Drill = &d
	}
}

// redactJSON masks secrets inside the strings of a JSON document, keeping
// it valid JSON.
func (r *run) redactJSON(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return json.RawMessage(`"(unreadable outputs)"`)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return r.redact(x)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(doc))
	if err != nil {
		return json.RawMessage(`"(unreadable outputs)"`)
	}
	return out
}
