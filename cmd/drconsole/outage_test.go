package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

const outageRunbook = `
runbook {
  unavailable_after = "3s"
}

variable "bucket" {
  type = string
}

variable "restore_to" {
  type = string
}

step "s3_restore" "models" {
  region  = "us-east-1"
  bucket  = var.bucket
  prefix  = "models/"
  to_time = var.restore_to
  timeout = "2h"
}
`

// In real processes: a sandbox whose us-east-1 S3 writes are down fails
// the restore with the region and the service named, leaving a failed,
// resumable journal; once the sandbox answers again (restarted on the same
// data), the resumed run finishes the restore, and a plan of the same
// restore then has nothing left to change.
func TestOutageFailsNamedThenResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	data, state := t.TempDir(), t.TempDir()
	rb := writeRunbook(t, outageRunbook)
	p := startSandboxProc(t, bin, "--data-dir", data, "--fault", "outage:us-east-1,service=s3,op=CopyObject")
	at := time.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)
	args := func(endpoint string) []string {
		return []string{"--target", "sandbox", "--endpoint", endpoint, "--state-dir", state,
			"--var", "bucket=" + sandbox.DefaultNames().ModelBucket, "--var", "restore_to=" + at, "--auto-approve", "--output", "json"}
	}

	out, err := exec.Command(bin, append([]string{"run", rb}, args(p.endpoint)...)...).CombinedOutput()
	if code := exitCode(t, err); code != exitFailed {
		t.Fatalf("run under the outage: exit %d, want %d\n%s", code, exitFailed, out)
	}
	var failed *runbook.Event
	for _, line := range strings.Split(string(out), "\n") {
		var e runbook.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind == runbook.StepFailed {
			failed = &e
		}
	}
	if failed == nil || !strings.Contains(failed.Error, "us-east-1 s3 is not answering") || !strings.Contains(failed.Error, "ServiceUnavailable") {
		t.Fatalf("step_failed %+v\n%s", failed, out)
	}
	runs, err := (&journal.Store{Dir: state}).List()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	id := runs[0].ID
	if r, err := (&journal.Store{Dir: state}).Read(id); err != nil || r.Status != runbook.StatusFailed {
		t.Fatalf("journal of %s: %+v, %v; want failed", id, r, err)
	}

	// The region answers again.
	p.stop(t)
	p = startSandboxProc(t, bin, "--data-dir", data)
	resume := append([]string{"run", "--resume", id}, args(p.endpoint)...)
	// --var flags are recorded by the run; a resume takes its own.
	resume = slicesWithout(resume, "--var")
	if out, err := exec.Command(bin, resume...).CombinedOutput(); exitCode(t, err) != exitOK {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "plan", rb, "--target", "sandbox", "--endpoint", p.endpoint, "--output", "json",
		"--var", "bucket="+sandbox.DefaultNames().ModelBucket, "--var", "restore_to="+at).CombinedOutput()
	if err != nil {
		t.Fatalf("plan after the resume: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var e runbook.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind == runbook.StepPlanned {
			for _, c := range e.Changes {
				if c.Action == "CopyObject" || c.Action == "DeleteObject" {
					t.Errorf("after the resume the restore still plans %s", c)
				}
			}
		}
	}
	if !strings.Contains(string(out), "step_planned") {
		t.Errorf("no plan:\n%s", out)
	}
}

// slicesWithout drops each flag and its value from args.
func slicesWithout(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
