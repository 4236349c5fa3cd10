package journal

import (
	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
)

// Redactor removes credentials from events before they are journalled or
// printed: the values of secret-looking environment variables of this
// process (AWS keys, tokens), literal secrets such as sensitive variables'
// values, and whatever redact's patterns match (access key ids,
// `password=...`-style assignments, bearer headers). The engine already
// masks sensitive runbook variables; this is the net under everything else
// a step may log. A nil *Redactor applies the patterns only.
type Redactor struct {
	r *redact.Redactor
}

// NewRedactor returns a Redactor for the values of the secret-looking
// variables in env (as from os.Environ) and any extra literal secrets, as
// redact.New builds it.
func NewRedactor(env []string, extra ...string) *Redactor {
	return &Redactor{r: redact.New(env, extra...)}
}

// redactor is the redact.Redactor behind r; nil (the patterns only) for a
// nil r.
func (r *Redactor) redactor() *redact.Redactor {
	if r == nil {
		return nil
	}
	return r.r
}

// String redacts one string.
func (r *Redactor) String(s string) string { return r.redactor().String(s) }

// Event returns e with every free-text field redacted.
func (r *Redactor) Event(e runbook.Event) runbook.Event { return e.Redact(r.redactor()) }
