package runbook

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// expectation is read from the comments that open each malformed runbook
// in testdata/invalid:
//
//	# want: SUMMARY at LINE:COLUMN
//	# detail: TEXT THE DETAIL CONTAINS
type expectation struct {
	summary   string
	line, col int
	detail    string
}

func readExpectation(t *testing.T, src []byte) expectation {
	t.Helper()
	var e expectation
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# want: "):
			rest := strings.TrimPrefix(line, "# want: ")
			i := strings.LastIndex(rest, " at ")
			if i < 0 {
				t.Fatalf("bad want line %q", line)
			}
			e.summary = rest[:i]
			if _, err := fmt.Sscanf(rest[i+4:], "%d:%d", &e.line, &e.col); err != nil {
				t.Fatalf("bad position in %q: %v", line, err)
			}
		case strings.HasPrefix(line, "# detail: "):
			e.detail = strings.TrimPrefix(line, "# detail: ")
		}
	}
	if e.summary == "" {
		t.Fatal("no # want: line")
	}
	return e
}

func TestMalformedRunbooks(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			reg, _, _ := testRegistry()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := readExpectation(t, src)
			rb, diags := Load(path, reg)
			if !diags.HasErrors() {
				t.Fatalf("no error; want %q", want.summary)
			}
			var got *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Summary == want.summary {
					got = d
					break
				}
			}
			if got == nil {
				t.Fatalf("want %q; got %s", want.summary, diagList(diags))
			}
			if got.Subject == nil {
				t.Fatalf("%q has no source range", got.Summary)
			}
			if got.Subject.Filename != path || got.Subject.Start.Line != want.line || got.Subject.Start.Column != want.col {
				t.Errorf("%q at %s:%d:%d; want %s:%d:%d", got.Summary, got.Subject.Filename,
					got.Subject.Start.Line, got.Subject.Start.Column, path, want.line, want.col)
			}
			if !strings.Contains(got.Detail, want.detail) {
				t.Errorf("detail %q does not contain %q", got.Detail, want.detail)
			}

			// The writer names file:line:column and shows the source line.
			var buf bytes.Buffer
			if err := rb.NewDiagnosticWriter(&buf, false, 0).WriteDiagnostic(got); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			loc := fmt.Sprintf("%s line %d", path, want.line)
			if !strings.Contains(out, loc) {
				t.Errorf("writer output lacks %q:\n%s", loc, out)
			}
			srcLine := strings.Split(string(src), "\n")[want.line-1]
			if !strings.Contains(out, strings.TrimSpace(srcLine)) {
				t.Errorf("writer output lacks the source line %q:\n%s", srcLine, out)
			}

			// Nothing runs from a runbook with errors.
			res := Execute(t.Context(), rb, Options{AutoApprove: true})
			if res.Status != StatusFailed || res.Err == nil {
				t.Errorf("Execute ran a runbook with errors: %+v", res)
			}
		})
	}
}

func diagList(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "\n  %s", d.Error())
	}
	return b.String()
}

func TestDiagnosticsAcrossFiles(t *testing.T) {
	reg, _, _ := testRegistry()
	dir := t.TempDir()
	if err := writeFile(dir, "a.hcl", "step \"wait\" \"a\" {}\n"); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(dir, "b.hcl", "\n\nstep \"wait\" \"a\" {}\n"); err != nil {
		t.Fatal(err)
	}
	rb, diags := Load(dir, reg)
	if len(diags) != 1 || diags[0].Summary != "Duplicate step" {
		t.Fatalf("diagnostics %s", diagList(diags))
	}
	d := diags[0]
	if want := filepath.Join(dir, "b.hcl"); d.Subject.Filename != want || d.Subject.Start.Line != 3 {
		t.Errorf("subject %s", d.Subject)
	}
	if !strings.Contains(d.Detail, filepath.Join(dir, "a.hcl")+":1,1") {
		t.Errorf("detail %q does not point at the first declaration", d.Detail)
	}
	var plain, color bytes.Buffer
	_ = rb.NewDiagnosticWriter(&plain, false, 80).WriteDiagnostics(diags)
	_ = rb.NewDiagnosticWriter(&color, true, 80).WriteDiagnostics(diags)
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(color.String(), "\x1b[") {
		t.Errorf("colour: plain %q, color %q", plain.String(), color.String())
	}
}

func TestRetryBlockDefaults(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
step "echo" "a" {
  retry {}
}`, reg)
	st, diags := rb.Node("step.echo.a").evalSettings(&hcl.EvalContext{Functions: functions(nil)})
	if diags.HasErrors() || st.attempts != DefaultRetryAttempts || st.backoff != DefaultBackoff {
		t.Errorf("settings %+v, %v", st, diags)
	}
}
