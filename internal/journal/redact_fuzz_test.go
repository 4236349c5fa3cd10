package journal

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
)

// FuzzRedact checks that redacting an event's outputs keeps them valid JSON
// and removes the secret wherever it appears.
func FuzzRedact(f *testing.F) {
	f.Add("plain output", "s3cr3t-token-value")
	f.Add(`password="abc123456" and "quotes" \ back`, `we"ird\secret<>&`)
	f.Add("AKIAIOSFODNN7EXAMPLE", "x")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if !utf8.ValidString(text) || !utf8.ValidString(secret) {
			return // events carry UTF-8 text: exec output is made valid before it is logged
		}
		r := NewRedactor([]string{"MY_SECRET=" + secret})
		out, err := json.Marshal(map[string]string{"stdout": text + secret + text})
		if err != nil {
			return
		}
		e := r.Event(runbook.Event{Kind: runbook.StepFinished, Outputs: out, Line: text + secret})
		if !json.Valid(e.Outputs) {
			t.Fatalf("outputs no longer JSON: %s", e.Outputs)
		}
		if len(secret) >= redact.MinEnvValue && !strings.Contains(redact.Marker, secret) {
			var got map[string]string
			if err := json.Unmarshal(e.Outputs, &got); err == nil && strings.Contains(got["stdout"], secret) {
				t.Errorf("secret %q survives in %q", secret, got["stdout"])
			}
			if strings.Contains(e.Line, secret) {
				t.Errorf("secret %q survives in line %q", secret, e.Line)
			}
		}
	})
}
