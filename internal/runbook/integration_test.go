package runbook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
)

// The engine with the real wait and exec step types: a dry-run plans the
// command without running it, a run runs it and feeds its output on.
func TestWithRealStepTypes(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	src := `
variable "marker" { type = string }
step "wait" "settle" {
  duration = "0s"
}
step "exec" "touch" {
  command    = ["sh", "-c", "echo created > \"$0\" && echo done", var.marker]
  depends_on = [step.wait.settle]
}
step "exec" "echo" {
  command = ["echo", "first said ${trimspace(step.exec.touch.stdout)}"]
}
output "said" { value = trimspace(step.exec.echo.stdout) }
`
	reg := steps.Registry(steps.Deps{})
	rb, diags := runbook.Parse(map[string][]byte{"main.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vars, diags := rb.ResolveVars(runbook.VarInputs{Flags: []string{"marker=" + marker}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}

	sink := &eventlog.Log{}
	res := runbook.Execute(t.Context(), rb, runbook.Options{RunID: "dry", DryRun: true, Vars: vars, Sink: sink})
	if res.Status != runbook.StatusSucceeded {
		t.Fatal(res.Err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("dry-run ran the command: %v", err)
	}
	planned := sink.Changes(runbook.StepPlanned)
	if len(planned) != 3 || !strings.Contains(strings.Join(planned, "\n"), "step.exec.touch") {
		t.Errorf("planned %q", planned)
	}

	res = runbook.Execute(t.Context(), rb, runbook.Options{RunID: "real", Vars: vars})
	if res.Status != runbook.StatusSucceeded {
		t.Fatal(res.Err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the run did not run the command: %v", err)
	}
	if got := res.Outputs["said"].AsString(); got != "first said done" {
		t.Errorf("output %q", got)
	}
}
