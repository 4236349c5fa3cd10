package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
)

const secretRunbook = `runbook {
  description = "A long wait that needs a secret"
}

variable "label" {
  type    = string
  default = "nightly"
}

variable "token" {
  type      = string
  sensitive = true
}

step "wait" "long" {
  duration = "1h"
}
`

// TestResumeAsksForSensitiveVariables cancels a run of a runbook with a
// sensitive variable, then resumes it from Runs: the form asks for the
// secret again (the others pre-filled), and the resumed run goes on.
func TestResumeAsksForSensitiveVariables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.hcl"), []byte(secretRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	openRunbook(h, "secret")
	h.waitScreen("Variables")
	h.keys("ctrl+u")
	h.typeText("weekly")
	h.keys("tab")
	h.typeText("hunter22")
	if strings.Contains(h.screen(), "hunter22") {
		t.Fatalf("the form shows a sensitive value:\n%s", h.screen())
	}
	h.keys("enter")
	h.waitScreen("plan SUCCEEDED")
	h.clock.Advance(time.Second)
	h.keys("x")
	h.waitScreen("run in progress")
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	id := h.m.run.id

	// The engine refuses a resume without the secret, with the reason.
	_, err := h.m.env.opts.Runs.PrepareResume(context.Background(), runner.ResumeRequest{RunID: id})
	if err == nil || !strings.Contains(err.Error(), "sensitive variable token not recorded") {
		t.Fatalf("resume without the secret: %v", err)
	}

	h.keys("7")
	h.waitScreen("✖ cancelled")
	h.keys("R")
	h.waitScreen("give them again")
	scr := h.screen()
	if !strings.Contains(scr, "> weekly") || !strings.Contains(scr, "enter resume") {
		t.Fatalf("resume form is not pre-filled with the recorded values:\n%s", scr)
	}
	h.keys("enter")
	h.waitScreen("variable token is required")
	h.typeText("hunter22")
	h.keys("enter")
	h.waitScreen("run in progress")
	if h.m.run.id != id {
		t.Fatalf("resumed %q, want %q", h.m.run.id, id)
	}
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	evs, err := h.m.env.opts.Runs.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	var starts []*runbook.RunInfo
	for _, e := range evs {
		if e.Kind == runbook.RunStarted {
			starts = append(starts, e.Run)
		}
	}
	if len(starts) != 2 || starts[1].Variables["label"] != "weekly" || starts[1].Variables["token"] != "(sensitive)" {
		t.Fatalf("run_started records: %+v", starts)
	}
	b, err := os.ReadFile(filepath.Join(h.m.env.opts.StateDir, id, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter22") {
		t.Fatal("the journal holds the sensitive value")
	}
}
