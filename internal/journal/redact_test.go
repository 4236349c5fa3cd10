package journal

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
)

func TestRedactor(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	r := NewRedactor([]string{"AWS_SECRET_ACCESS_KEY=" + secret, "HOME=/home/op", `WEIRD_PASSWORD=a"b<c>d&e\f`})
	// The rules themselves are redact's, and tested there.
	for in, want := range map[string]string{
		"key is " + secret:             "key is (sensitive)",
		"id AKIAIOSFODNN7EXAMPLE used": "id (sensitive) used",
		"session on /home/op":          "session on /home/op",
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}

	outputs, _ := json.Marshal(map[string]string{"stdout": "AWS secret " + secret + " and " + `a"b<c>d&e\f`})
	e := r.Event(runbook.Event{
		Kind: runbook.StepFinished, Outputs: outputs, Line: secret, Error: secret, Reason: secret,
		Changes: []runbook.Change{{Action: "exec", Target: secret, Detail: secret}},
		Run:     &runbook.RunInfo{Variables: map[string]string{"k": secret}},
	})
	b, _ := json.Marshal(e)
	if strings.Contains(string(b), "EXAMPLEKEY") || strings.Contains(string(b), `c\u003ed`) {
		t.Errorf("secret in %s", b)
	}
	if !json.Valid(e.Outputs) {
		t.Errorf("outputs no longer JSON: %s", e.Outputs)
	}
}

func TestWriterRedacts(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	const secret = "s3cr3t-session-token-value"
	w, err := s.Create("20261122T164500Z-0000aa", NewRedactor([]string{"AWS_SESSION_TOKEN=" + secret}))
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(started(""))
	_ = w.Emit(event(runbook.StepLog, "step.exec.a", func(e *runbook.Event) { e.Line = "stdout: " + secret }))
	_ = w.Close()
	b, _ := os.ReadFile(s.Path("20261122T164500Z-0000aa"))
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), redact.Marker) {
		t.Errorf("journal = %s", b)
	}
}
