package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
)

// The console resumes through the run service, so it refuses what
// `drconsole run --resume` refuses, in the same words (the CLI's tests
// assert the same sentences).

// leakyRunbook echoes its sensitive token, fails with it in the error and
// asks a gate whose prompt holds it.
const leakyRunbook = `variable "token" {
  type      = string
  sensitive = true
}

gate "go" {
  prompt = "Use ${var.token}?"
}

step "exec" "leak" {
  command    = ["sh", "-c", "echo \"token is $0\"; echo \"failed with $0\" >&2; exit 4", var.token]
  depends_on = [gate.go]
}
`

// planned opens runbook name in the console, fills its variable form
// (an empty value keeps the field as it is) and plans it.
func planned(h *harness, name string, values ...string) {
	h.t.Helper()
	openRunbook(h, name)
	h.waitScreen("Variables")
	for i, v := range values {
		if i > 0 {
			h.keys("tab")
		}
		if v != "" {
			h.keys("ctrl+u")
			h.typeText(v)
		}
	}
	h.keys("enter")
	h.waitScreen("plan SUCCEEDED")
}

// cancelledRun plans and runs the secret runbook from the console and
// cancels it, returning the run id.
func cancelledRun(t *testing.T, h *harness) string {
	t.Helper()
	planned(h, "secret", "", "hunter22")
	h.clock.Advance(time.Second)
	h.keys("x")
	h.waitScreen("run in progress")
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	return h.m.run.id
}

func TestConsoleRefusesToResumeAChangedRunbook(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.hcl")
	if err := os.WriteFile(path, []byte(secretRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	id := cancelledRun(t, h)
	if err := os.WriteFile(path, []byte(secretRunbook+"\n# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.keys("7")
	h.waitScreen("✖ cancelled")
	h.keys("R")
	abs, _ := filepath.Abs(path)
	want := "resume: runbook " + abs + " has changed since run " + id + " started"
	h.waitFor("the refusal", func() bool { return strings.HasPrefix(h.m.status, want) && h.m.isErr })
	if h.m.run.active() {
		t.Fatal("a changed runbook was resumed")
	}
	r, err := h.m.env.opts.Runs.Store.Read(id)
	if err != nil || r.Resumes != 0 {
		t.Fatalf("the refused resume touched the journal: %+v %v", r, err)
	}
}

func TestConsoleRefusesToResumeAPlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.hcl"), []byte(secretRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	planned(h, "secret", "", "hunter22")
	id := h.m.run.id
	h.keys("7")
	h.waitScreen("plan")
	h.keys("R")
	want := "resume: run " + id + " was a dry run; there is nothing to resume"
	h.waitFor("the refusal", func() bool { return h.m.status == want && h.m.isErr })
	if h.m.run.id != id || h.m.run.active() || !h.m.run.dry {
		t.Fatal("a plan was resumed into a run")
	}
}

func TestConsoleRunKeepsSensitiveValuesOutOfTheJournal(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "leaky.hcl"), []byte(leakyRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	planned(h, "leaky", "hunter22")
	h.clock.Advance(time.Second)
	h.keys("x")
	h.waitScreen("Type go")
	h.clock.Advance(5 * time.Second)
	approve(h, "go")
	h.waitScreen("run FAILED")
	id := h.m.run.id
	b, err := os.ReadFile(filepath.Join(h.m.env.opts.StateDir, id, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter22") {
		t.Fatalf("the journal holds the sensitive value:\n%s", b)
	}
	if !strings.Contains(string(b), "token is (sensitive)") {
		t.Fatalf("the journal lacks the step's masked output:\n%s", b)
	}
	if strings.Contains(h.screen(), "hunter22") {
		t.Fatalf("the screen shows the sensitive value:\n%s", h.screen())
	}
}

// TestConsoleVariableErrorsSpeakTheConsolesWords: a value the form cannot
// use is named as the form's field, never as a command-line flag, and no
// "<nil>" stands in for a missing source position.
func TestConsoleVariableErrorsSpeakTheConsolesWords(t *testing.T) {
	dir := t.TempDir()
	src := "variable \"max\" {\n  type = number\n}\n\nstep \"wait\" \"pause\" {\n  duration = \"1s\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "numbers.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	openRunbook(h, "numbers")
	h.waitScreen("Variables")
	h.typeText("abc")
	h.keys("enter")
	h.waitFor("the variable error", func() bool { return h.m.isErr && strings.Contains(h.m.status, "max") })
	if !strings.Contains(h.m.status, "field max") || strings.Contains(h.m.status, "--var") || strings.Contains(h.m.status, "<nil>") {
		t.Fatalf("variable error in the console: %q", h.m.status)
	}
}
