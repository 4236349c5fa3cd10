package journal

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Redacted replaces a credential in journal records.
const Redacted = "[REDACTED]"

// Redactor removes credentials from events before they are journalled: the
// values of secret-looking environment variables of this process (AWS keys,
// tokens), AWS access key ids, and `password=...`-style assignments. The
// engine already redacts sensitive runbook variables; this is the net under
// everything else a step may log. A nil *Redactor applies the patterns only.
type Redactor struct {
	literals *strings.Replacer
}

// minLiteral is the shortest environment value treated as a secret: shorter
// values ("1", "tty") would redact ordinary words everywhere.
const minLiteral = 8

var (
	accessKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b`)
	// assignment matches "secret_key = value", "password: value",
	// "token=value" and keeps the name, redacting the value.
	assignment = regexp.MustCompile(`(?i)((?:secret|password|passwd|token|api[_-]?key|credential)[a-z_-]*["']?\s*[:=]\s*["']?)([^\s"'\\,;&]{4,})`)
	// bearer matches HTTP authorization headers.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}`)
)

// secretWords are parts of variable names that mark the value as a
// credential.
var secretWords = []string{"SECRET", "PASSWORD", "PASSWD", "TOKEN", "CREDENTIAL", "PRIVATE", "APIKEY", "API_KEY", "ACCESS_KEY", "AUTH", "SESSION", "COOKIE"}

// SecretName reports whether an environment variable's name says it holds
// a credential (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, DB_PASSWORD, ...): the
// one rule for the journal's redaction and for what exec keeps out of it.
func SecretName(name string) bool {
	up := strings.ToUpper(name)
	if strings.HasPrefix(up, "XDG_") {
		return false // XDG_SESSION_ID and friends describe the login, not a credential
	}
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}

// NewRedactor returns a Redactor for the values of the secret-looking
// variables in env (as from os.Environ) and any extra literal secrets.
func NewRedactor(env []string, extra ...string) *Redactor {
	var secrets []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && SecretName(name) && len(value) >= minLiteral {
			secrets = append(secrets, value)
		}
	}
	for _, s := range extra {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		return &Redactor{}
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	secrets = slices.Compact(secrets)
	var pairs []string
	for _, s := range secrets {
		pairs = append(pairs, s, Redacted)
		// The same secret as it appears inside JSON text.
		if b, err := json.Marshal(s); err == nil {
			if enc := string(b[1 : len(b)-1]); enc != s {
				pairs = append(pairs, enc, Redacted)
			}
		}
	}
	return &Redactor{literals: strings.NewReplacer(pairs...)}
}

// String redacts one string. The replacement contains no quote or
// backslash, so redacting JSON text keeps it valid.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil && r.literals != nil {
		s = r.literals.Replace(s)
	}
	s = accessKeyID.ReplaceAllString(s, Redacted)
	s = assignment.ReplaceAllString(s, "${1}"+Redacted)
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	return s
}

// Event returns e with every free-text field redacted.
func (r *Redactor) Event(e runbook.Event) runbook.Event {
	e.Line = r.String(e.Line)
	e.Error = r.String(e.Error)
	e.Reason = r.String(e.Reason)
	e.Outputs = r.rawJSON(e.Outputs)
	if len(e.Changes) > 0 {
		cs := make([]runbook.Change, len(e.Changes))
		for i, c := range e.Changes {
			cs[i] = runbook.Change{Action: c.Action, Target: r.String(c.Target), Detail: r.String(c.Detail)}
		}
		e.Changes = cs
	}
	if e.Drill != nil {
		d := *e.Drill
		d.Config, d.State = r.rawJSON(d.Config), r.rawJSON(d.State)
		e.Drill = &d
	}
	if e.Run != nil {
		info := *e.Run
		if info.Variables != nil {
			vars := make(map[string]string, len(info.Variables))
			for k, v := range info.Variables {
				vars[k] = r.String(v)
			}
			info.Variables = vars
		}
		e.Run = &info
	}
	return e
}

// rawJSON redacts a JSON document, never falling back to the unredacted
// text when the result is no longer valid JSON.
func (r *Redactor) rawJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	red := r.String(string(raw))
	if !json.Valid([]byte(red)) {
		red = `"` + Redacted + `"`
	}
	return json.RawMessage(red)
}
