package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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

// A start that is refused leaves the state directory as it was: not
// created when it did not exist, its run listing unchanged when it did.
func TestRefusedStartsLeaveNoRunDirectory(t *testing.T) {
	needsVar := writeRunbook(t, `variable "target" {
  type = string
}
step "exec" "echo" {
  command = ["echo", var.target]
}
`)
	missing := filepath.Join(t.TempDir(), "missing.hcl")
	refusals := func(state string) [][]string {
		return [][]string{
			{"run", missing, "--state-dir", state},                                   // the runbook cannot be read
			{"run", needsVar, "--state-dir", state},                                  // a variable is missing
			{"run", needsVar, "--var", "nope=1", "--var", "x", "--state-dir", state}, // a bad --var
			{"run", "--resume", "20261122T164500Z-0000aa", "--state-dir", state},     // no such run
			{"drill", missing, "--state-dir", state},
		}
	}
	fresh := filepath.Join(t.TempDir(), "state")
	for _, args := range refusals(fresh) {
		if code, _, stderr := cli(t, t.Context(), args...); code != exitUsage {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v made the state directory: %v", args, err)
		}
	}

	state := t.TempDir()
	if code, _, stderr := cli(t, t.Context(), "run", needsVar, "--var", "target=x", "--state-dir", state); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	before := listing(t, state)
	runs, _ := (&journal.Store{Dir: state}).List()
	// The run in progress in another process: its journal is locked.
	held, err := (&journal.Store{Dir: state}).Append(runs[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, args := range append(refusals(state), []string{"run", "--resume", runs[0].ID, "--state-dir", state}) {
		if code, _, stderr := cli(t, t.Context(), args...); code != exitUsage {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if after := listing(t, state); after != before {
			t.Fatalf("%v changed the state directory:\n%s\nwas\n%s", args, after, before)
		}
	}
}

// listing is every path under dir.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(paths, "\n")
}

// A state directory others may write to is used, with a warning on
// stderr that says how to fix it; drconsole does not change its mode.
func TestStateDirWritableByOthersIsWarned(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o777); err != nil {
		t.Fatal(err)
	}
	rb := writeRunbook(t, `step "exec" "echo" {
  command = ["echo", "hi"]
}
`)
	want := "drconsole: warning: state directory " + state + " is writable by others (mode 0777)"
	for _, args := range [][]string{{"run", rb, "--state-dir", state}, {"runs", "--state-dir", state}} {
		code, _, stderr := cli(t, t.Context(), args...)
		if code != exitOK || !strings.Contains(stderr, want) || !strings.Contains(stderr, "chmod 700") {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	if st, _ := os.Stat(state); st.Mode().Perm() != 0o777 {
		t.Errorf("mode changed to %04o", st.Mode().Perm())
	}
	if code, _, stderr := cli(t, t.Context(), "runs", "--state-dir", t.TempDir()); code != exitOK || strings.Contains(stderr, "warning") {
		t.Errorf("a 0700 state directory: exit %d\n%s", code, stderr)
	}
}
