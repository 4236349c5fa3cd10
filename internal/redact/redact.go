// Package redact keeps credentials out of what drconsole writes: journal
// records, printed events, the console. It has one marker, one rule for
// secret-looking names and one set of secret patterns, so every place that
// masks a value masks it the same way.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Marker replaces a secret wherever one is masked. It holds no quote or
// backslash, so masking JSON text keeps it valid, and it is what the
// runbook language promises for sensitive values.
const Marker = "(sensitive)"

// Minimum lengths of the values treated as secrets: masking every "1" or
// "tty" would garble every record while protecting nothing a credential
// looks like.
const (
	// MinEnvValue is the shortest value of a secret-looking environment
	// variable that is masked.
	MinEnvValue = 8
	// MinLiteral is the shortest literal secret (a sensitive variable's
	// value) that is masked.
	MinLiteral = 4
)

var (
	// accessKeyID matches AWS access key ids: user and session keys, role
	// and user ids.
	accessKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b`)
	// assignment matches "secret_key = value", "password: value",
	// "token=value" and keeps the name, masking the value.
	assignment = regexp.MustCompile(`(?i)((?:secret|password|passwd|token|api[_-]?key|credential)[a-z_-]*["']?\s*[:=]\s*["']?)([^\s"'\\,;&]{4,})`)
	// bearer matches HTTP authorization headers; the whitespace after the
	// scheme is kept as written.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[a-z0-9._~+/=-]{8,}`)
)

// secretWords are parts of variable names that mark the value as a
// credential.
var secretWords = []string{"SECRET", "PASSWORD", "PASSWD", "TOKEN", "CREDENTIAL", "PRIVATE", "APIKEY", "API_KEY", "ACCESS_KEY", "AUTH", "SESSION", "COOKIE"}

// SecretName reports whether a variable's name says it holds a credential
// (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, DB_PASSWORD, ...): the one rule for
// which environment values are masked and which of a command's environment
// entries are never shown.
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

// HasKeyID reports whether s holds an AWS access key id, whatever it is
// called.
func HasKeyID(s string) bool { return accessKeyID.MatchString(s) }

// Redactor masks secrets in text and JSON: literal secrets it was given,
// and, unless it was built by Literals, whatever the secret patterns
// match (access key ids, password=... assignments, bearer headers). A nil
// *Redactor applies the patterns only. A Redactor is immutable and safe
// for concurrent use.
type Redactor struct {
	literals []string // longest first, no duplicates
	replacer *strings.Replacer
	patterns bool
}

// New returns a Redactor for the values of the secret-looking variables in
// env (as from os.Environ, each of MinEnvValue bytes or more), the given
// literal secrets (each of MinLiteral bytes or more), and the patterns.
func New(env []string, literals ...string) *Redactor {
	var secrets []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && SecretName(name) && len(value) >= MinEnvValue {
			secrets = append(secrets, value)
		}
	}
	return build(true, secrets, literals)
}

// Literals returns a Redactor that masks only the given secrets (each of
// MinLiteral bytes or more) and applies no pattern: for a caller that knows
// which values are secret and must leave everything else as written.
func Literals(literals ...string) *Redactor {
	return build(false, nil, literals)
}

// With returns a Redactor that also masks literals (each of MinLiteral
// bytes or more).
func (r *Redactor) With(literals ...string) *Redactor {
	if r == nil {
		return New(nil, literals...)
	}
	return build(r.patterns, r.literals, literals)
}

func build(patterns bool, secrets, literals []string) *Redactor {
	secrets = slices.Clone(secrets)
	for _, s := range literals {
		if len(s) >= MinLiteral {
			secrets = append(secrets, s)
		}
	}
	r := &Redactor{patterns: patterns}
	if len(secrets) == 0 {
		return r
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	r.literals = slices.Compact(secrets)
	var pairs []string
	for _, s := range r.literals {
		pairs = append(pairs, s, Marker)
		// The same secret as it appears inside JSON text a step printed.
		if b, err := json.Marshal(s); err == nil {
			if enc := string(b[1 : len(b)-1]); enc != s {
				pairs = append(pairs, enc, Marker)
			}
		}
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r
}

// String masks the secrets in s.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil && r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	if r == nil || r.patterns {
		s = maskPatterns(s)
	}
	return s
}

func maskPatterns(s string) string {
	s = accessKeyID.ReplaceAllString(s, Marker)
	s = assignment.ReplaceAllString(s, "${1}"+Marker)
	s = bearer.ReplaceAllString(s, "${1}${2}"+Marker)
	return s
}

// JSON masks the secrets in the strings (keys and values) of a JSON
// document and returns valid JSON, in the same order, compact. With the
// patterns it also masks values that the document's own names mark as
// secret ({"token": "..."}). A document that is not JSON comes back as the
// marker, never as the text it was.
func (r *Redactor) JSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || (r != nil && r.replacer == nil && !r.patterns) {
		return raw
	}
	out, err := r.rewrite(raw)
	if err != nil {
		return json.RawMessage(`"` + Marker + `"`)
	}
	if r == nil || r.patterns {
		// The assignment pattern sees a name and its value together only in
		// the document's text; its replacement holds no quote, so the text
		// stays JSON unless a match ran past a string, and then the masked
		// strings alone stand.
		if masked := maskPatterns(string(out)); json.Valid([]byte(masked)) {
			return json.RawMessage(masked)
		}
	}
	return out
}

// rewrite re-encodes a JSON document token by token, each string masked.
// Working on the decoded strings finds a secret however the document
// escaped it.
func (r *Redactor) rewrite(raw json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		n      int // values (and keys) written so far
	}
	var stack []frame
	out := make([]byte, 0, len(raw)+16)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read JSON: %w", err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out = append(out, byte(d))
			continue
		}
		if len(stack) > 0 {
			f := &stack[len(stack)-1]
			switch {
			case f.n == 0:
			case f.object && f.n%2 == 1:
				out = append(out, ':')
			default:
				out = append(out, ',')
			}
			f.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out = append(out, byte(v))
			stack = append(stack, frame{object: v == '{'})
		case string:
			b, err := json.Marshal(r.String(v))
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		case json.Number:
			out = append(out, v...)
		case bool:
			if v {
				out = append(out, "true"...)
			} else {
				out = append(out, "false"...)
			}
		case nil:
			out = append(out, "null"...)
		}
	}
	return out, nil
}
