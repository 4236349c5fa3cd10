package runbook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/redact"
)

func TestEventRedactCoversEveryFreeTextField(t *testing.T) {
	const secret = "s3cr3t-value"
	raw := json.RawMessage(`{"v":"` + secret + `"}`)
	e := Event{
		Kind: StepDrilled, Node: "step.exec.a", Line: secret, Error: secret, Reason: secret,
		Changes: []Change{{Action: secret, Target: secret, Detail: secret}},
		Outputs: raw,
		Drill:   &DrillRecord{Type: "exec", Config: raw, State: raw},
		Run:     &RunInfo{RunbookPath: "a.hcl", Variables: map[string]string{"k": "is " + secret}},
	}
	before, _ := json.Marshal(e)
	got := e.Redact(redact.Literals(secret))
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), secret) {
		t.Errorf("secret in %s", b)
	}
	if n := strings.Count(string(b), redact.Marker); n != 10 {
		t.Errorf("%d markers in %s, want 10", n, b)
	}
	if got.Node != e.Node || got.Run.RunbookPath != "a.hcl" || got.Drill.Type != "exec" {
		t.Errorf("redaction changed more than text: %s", b)
	}
	if after, _ := json.Marshal(e); string(after) != string(before) {
		t.Errorf("the event redacted was changed: %s", after)
	}
}
