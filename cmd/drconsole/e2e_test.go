//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
)

// startRun starts `drconsole run ... --output json` and returns the process
// and a channel of the events it prints, closed at end of output.
func startRun(t *testing.T, bin string, args ...string) (*exec.Cmd, <-chan runbook.Event) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--output", "json"}, args...)...)
	cmd.Stderr = &lockedbuf.Buffer{}
	return cmd, startEvents(t, cmd)
}

// startEvents starts cmd, which prints events as JSON lines, and returns a
// channel of the events, closed at end of output. The process is killed
// when the test ends.
func startEvents(t *testing.T, cmd *exec.Cmd) <-chan runbook.Event {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	events := make(chan runbook.Event, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e runbook.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				events <- e
			}
		}
	}()
	return events
}

// awaitEvent reads events until one of kind on node arrives, failing after
// a deadline.
func awaitEvent(t *testing.T, events <-chan runbook.Event, kind runbook.EventKind, node string) runbook.Event {
	t.Helper()
	return awaitMatch(t, events, kind, node, func(runbook.Event) bool { return true })
}

// awaitMatch is awaitEvent with a condition on the event.
func awaitMatch(t *testing.T, events <-chan runbook.Event, kind runbook.EventKind, node string, match func(runbook.Event) bool) runbook.Event {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("output ended before %s %s", kind, node)
			}
			if e.Kind == kind && e.Node == node && match(e) {
				return e
			}
		case <-deadline.C:
			t.Fatalf("no %s %s within the deadline", kind, node)
		}
	}
}

// startRunStderr is startRun with a channel of the lines the process
// writes to stderr.
func startRunStderr(t *testing.T, bin string, args ...string) (*exec.Cmd, <-chan runbook.Event, <-chan string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--output", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	events := startEvents(t, cmd)
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, events, lines
}

func awaitLine(t *testing.T, lines <-chan string, sub string) {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stderr ended before %q", sub)
			}
			if strings.Contains(l, sub) {
				return
			}
		case <-deadline.C:
			t.Fatalf("no %q on stderr within the deadline", sub)
		}
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

func readLog(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func journalEvents(t *testing.T, state, id string) []runbook.Event {
	t.Helper()
	f, err := os.Open((&journal.Store{Dir: state}).Path(id))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []runbook.Event
	dec := json.NewDecoder(f)
	for {
		var e runbook.Event
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

// TestBinary drives the real binary: it kills it with SIGKILL while a step
// is running and resumes the run (the steps that finished before the crash
// must not run again), interrupts it once and twice, and answers a gate on a
// pseudo-terminal.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)

	t.Run("sigkill then resume", func(t *testing.T) {
		work, state := t.TempDir(), t.TempDir()
		src, err := os.ReadFile("testdata/resume.hcl")
		if err != nil {
			t.Fatal(err)
		}
		rbPath := filepath.Join(t.TempDir(), "resume.hcl")
		if err := os.WriteFile(rbPath, src, 0o600); err != nil {
			t.Fatal(err)
		}

		cmd, events := startRun(t, bin, rbPath, "--state-dir", state, "--var", "dir="+work)
		start := awaitEvent(t, events, runbook.RunStarted, "")
		id := start.RunID
		// The command has logged and is waiting: the journal shows it started.
		awaitMatch(t, events, runbook.StepLog, "step.exec.block", func(e runbook.Event) bool { return e.Line == "stdout: waiting" })
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if got := readLog(t, work); got != "first\nsecond\nblock\n" {
			t.Fatalf("log before resume = %q", got)
		}
		run, err := (&journal.Store{Dir: state}).Read(id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != journal.StatusInterrupted || len(run.Resume.Finished) != 2 {
			t.Fatalf("journal after kill: status %s, finished %v", run.Status, run.Resume.Finished)
		}

		// A changed runbook is refused.
		if err := os.WriteFile(rbPath, append(src, []byte("\n# edited\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "run", "--resume", id, "--state-dir", state).CombinedOutput()
		if code := exitCode(t, err); code != exitUsage || !strings.Contains(string(out), "has changed since run "+id) {
			t.Fatalf("resume of a changed runbook: exit %d\n%s", code, out)
		}
		if err := os.WriteFile(rbPath, src, 0o600); err != nil {
			t.Fatal(err)
		}

		// Let the blocking command through, and resume.
		if err := os.WriteFile(filepath.Join(work, "go"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		resume := exec.Command(bin, "run", "--resume", id, "--state-dir", state, "--output", "json")
		out, err = resume.CombinedOutput()
		if code := exitCode(t, err); code != exitOK {
			t.Fatalf("resume: exit %d\n%s", code, out)
		}
		// block ran twice: it had not finished when the process was killed.
		if got := readLog(t, work); got != "first\nsecond\nblock\nblock\nlast\n" {
			t.Errorf("log after resume = %q, want first and second once", got)
		}

		evs := journalEvents(t, state, id)
		var starts int
		var resumed bool
		for _, e := range evs {
			switch {
			case e.Kind == runbook.RunStarted:
				starts++
				if starts == 2 {
					resumed = e.Run != nil && e.Run.ResumedFrom == id
				}
			case starts == 2 && e.Kind == runbook.StepStarted && (e.Node == "step.exec.first" || e.Node == "step.exec.second"):
				t.Errorf("resumed run started %s again", e.Node)
			case starts == 2 && e.Kind == runbook.StepFinished && e.Node == "step.exec.first" && !strings.Contains(e.Reason, "finished in run "+id):
				t.Errorf("step.exec.first finished again: %+v", e)
			}
		}
		if starts != 2 || !resumed {
			t.Errorf("journal has %d run_started records, resumed_from set: %v", starts, resumed)
		}
		last := evs[len(evs)-1]
		if last.Kind != runbook.RunFinished || last.Status != runbook.StatusSucceeded || !strings.Contains(string(last.Outputs), `"first_exit":0`) {
			t.Errorf("last record = %+v", last)
		}

		// A finished run has nothing to resume.
		out, err = exec.Command(bin, "run", "--resume", id, "--state-dir", state).CombinedOutput()
		if code := exitCode(t, err); code != exitUsage || !strings.Contains(string(out), "already succeeded") {
			t.Errorf("resume of a finished run: exit %d\n%s", code, out)
		}
	})

	t.Run("sigint cancels cleanly", func(t *testing.T) {
		work, state := t.TempDir(), t.TempDir()
		rbPath, _ := filepath.Abs("testdata/resume.hcl")
		cmd, events := startRun(t, bin, rbPath, "--state-dir", state, "--var", "dir="+work)
		id := awaitEvent(t, events, runbook.RunStarted, "").RunID
		awaitMatch(t, events, runbook.StepLog, "step.exec.block", func(e runbook.Event) bool { return e.Line == "stdout: waiting" })
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		fin := awaitEvent(t, events, runbook.RunFinished, "")
		if code := exitCode(t, cmd.Wait()); code != exitCancelled {
			t.Errorf("exit %d, want %d", code, exitCancelled)
		}
		if fin.Status != runbook.StatusCancelled {
			t.Errorf("run_finished = %+v", fin)
		}
		run, err := (&journal.Store{Dir: state}).Read(id)
		if err != nil || run.Status != runbook.StatusCancelled {
			t.Errorf("journal: %+v, %v", run, err)
		}
	})

	t.Run("gate on a terminal", func(t *testing.T) { testGateOnTerminal(t, bin) })

	t.Run("second sigint exits at once", func(t *testing.T) {
		work, state := t.TempDir(), t.TempDir()
		// Let the orphaned command finish once the test is done.
		t.Cleanup(func() { _ = os.WriteFile(filepath.Join(work, "go"), nil, 0o600) })
		rbPath, _ := filepath.Abs("testdata/stubborn.hcl")
		cmd, events, stderr := startRunStderr(t, bin, rbPath, "--state-dir", state, "--var", "dir="+work)
		id := awaitEvent(t, events, runbook.RunStarted, "").RunID
		awaitMatch(t, events, runbook.StepLog, "step.exec.stubborn", func(e runbook.Event) bool { return e.Line == "stdout: waiting" })
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		// The command ignores SIGTERM: the run waits for it to stop.
		awaitLine(t, stderr, "stopping cleanly")
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, cmd.Wait()); code != exitCancelled {
			t.Errorf("exit %d, want %d", code, exitCancelled)
		}
		run, err := (&journal.Store{Dir: state}).Read(id)
		if err != nil || run.Status != journal.StatusInterrupted {
			t.Errorf("journal after a hard exit: %+v, %v", run, err)
		}
	})
}
