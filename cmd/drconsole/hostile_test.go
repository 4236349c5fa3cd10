package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Input that is not a runbook is refused with exit 2 and a short, telling
// report, whatever it is.
func TestValidateHostileInput(t *testing.T) {
	binary := writeRunbook(t, "")
	if err := os.WriteFile(binary, append([]byte("step \"wait\" \"a\" {}\n\x7fELF\x00\x01"), make([]byte, 200<<10)...), 0o600); err != nil {
		t.Fatal(err)
	}
	var many strings.Builder
	for i := range 50 {
		fmt.Fprintf(&many, "step \"wait\" \"s%d\" {\n  duration = \"soon\"\n}\n", i)
	}
	for _, c := range []struct {
		name, path string
		want       []string
	}{
		{"empty", os.DevNull, []string{"error: No steps", "(1 error)"}},
		{"binary", binary, []string{binary + ":2:5: error: Not a text file", "a NUL byte at 2:5", "(1 error)"}},
		{"deep", writeRunbook(t, "step \"wait\" \"a\" {\n  duration = "+strings.Repeat("(", 100000)+"\"1s\"\n}\n"),
			[]string{":2:", "error: Expression nested too deeply", "(1 error)"}},
		{"many", writeRunbook(t, many.String()), []string{":2:14: error: Invalid duration", "and 30 more diagnostics", "(50 errors)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, t.Context(), "validate", c.path)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s%s", code, exitUsage, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%.2000s", w, stderr)
				}
			}
			if n := strings.Count(stderr, ": error: "); n > runbook.MaxShownDiagnostics {
				t.Errorf("%d diagnostics printed", n)
			}
		})
	}
}

// An empty runbook is refused by plan and run too, not run as a success.
func TestRunRefusesEmptyRunbook(t *testing.T) {
	for _, args := range [][]string{
		{"plan", os.DevNull},
		{"run", os.DevNull, "--state-dir", t.TempDir(), "--auto-approve"},
	} {
		code, stdout, stderr := cli(t, t.Context(), args...)
		if code != exitUsage || !strings.Contains(stderr, "error: No steps") {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}
