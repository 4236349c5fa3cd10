package main

import (
	"os"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/journal"
)

// The CLI resumes through the run service, so it refuses what the console
// refuses, in the same words (internal/tui's refusal tests assert the
// same sentences).
func TestRunRefusesResumesInTheConsolesWords(t *testing.T) {
	state := t.TempDir()
	src := `variable "token" {
  type      = string
  sensitive = true
}
step "exec" "fail" {
  command = ["sh", "-c", "exit 3"]
}
`
	rb := writeRunbook(t, src)
	code, stdout, stderr := cli(t, t.Context(), "run", rb, "--dry-run", "--var", "token=hunter22", "--state-dir", state)
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	runs, _ := (&journal.Store{Dir: state}).List()
	plan := runs[0].ID
	code, _, stderr = cli(t, t.Context(), "run", "--resume", plan, "--var", "token=hunter22", "--state-dir", state)
	if want := "drconsole run: resume: run " + plan + " was a dry run; there is nothing to resume\n"; code != exitUsage || stderr != want {
		t.Fatalf("resume of a plan: exit %d\n%q, want %q", code, stderr, want)
	}

	code, _, _ = cli(t, t.Context(), "run", rb, "--var", "token=hunter22", "--state-dir", state)
	if code != exitFailed {
		t.Fatalf("run: exit %d", code)
	}
	runs, _ = (&journal.Store{Dir: state}).List()
	failed := ""
	for _, r := range runs {
		if !r.DryRun {
			failed = r.ID
		}
	}
	code, _, stderr = cli(t, t.Context(), "run", "--resume", failed, "--state-dir", state)
	if want := "resume " + failed + ": sensitive variable token not recorded: give it again"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Fatalf("resume without the secret: exit %d\n%s", code, stderr)
	}
	writeFile(t, rb, src+"\n# edited\n")
	code, _, stderr = cli(t, t.Context(), "run", "--resume", failed, "--var", "token=hunter22", "--state-dir", state)
	if want := "drconsole run: resume: runbook " + rb + " has changed since run " + failed + " started"; code != exitUsage || !strings.HasPrefix(stderr, want) {
		t.Fatalf("resume of a changed runbook: exit %d\n%s\nwant %s", code, stderr, want)
	}
	code, _, stderr = cli(t, t.Context(), "run", "--resume", failed, "--dry-run", "--var", "token=hunter22", "--state-dir", state)
	if code != exitUsage || !strings.Contains(stderr, "--resume and --dry-run do not go together") {
		t.Fatalf("resume with --dry-run: exit %d\n%s", code, stderr)
	}
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}
