package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what the test reads and writes
// (the operator's side) and what the process gets as its terminal.
func openPTY(t *testing.T) (operator, terminal *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	return m, s
}

// readUntil reads the operator's side of the terminal until it has shown
// want. The process writes the prompt, so the read returns without polling.
func readUntil(t *testing.T, r *os.File, want string) string {
	t.Helper()
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), want) {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("terminal closed before %q; saw:\n%s", want, seen.String())
		}
		seen.Write(buf[:n])
	}
	return seen.String()
}

// testGateOnTerminal runs the binary on a pseudo-terminal and answers the
// gate's prompt as an operator would.
func testGateOnTerminal(t *testing.T, bin string) {
	rbPath, _ := filepath.Abs(smoke)
	for _, tt := range []struct {
		answer string
		code   int
		kind   runbook.EventKind
	}{
		{"proceed", exitOK, runbook.GateApproved},
		// An empty line and a wrong word only ask again; no refuses.
		{"\nyes\nno", exitRefused, runbook.GateRefused},
	} {
		t.Run(tt.answer, func(t *testing.T) {
			operator, terminal := openPTY(t)
			state := t.TempDir()
			cmd := exec.Command(bin, "run", rbPath, "--state-dir", state, "--output", "json")
			cmd.Stdin, cmd.Stderr = terminal, terminal
			cmd.Env = append(os.Environ(), "USER=alice")
			var stdout lockedbuf.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			shown := readUntil(t, operator, `Type "proceed" to approve, or "no" to refuse`)
			if !strings.Contains(shown, "gate.proceed needs approval") || !strings.Contains(shown, `Greeted with "hello from drconsole"`) {
				t.Errorf("prompt:\n%s", shown)
			}
			if _, err := operator.WriteString(tt.answer + "\n"); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, cmd.Wait()); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, stdout.String())
			}
			runs, err := (&journal.Store{Dir: state}).List()
			if err != nil || len(runs) != 1 {
				t.Fatalf("runs %v, %v", runs, err)
			}
			var found bool
			for _, e := range journalEvents(t, state, runs[0].ID) {
				if e.Kind == tt.kind && e.Node == "gate.proceed" {
					found = true
					if e.Actor != "alice" {
						t.Errorf("decided by %q, want alice", e.Actor)
					}
				}
			}
			if !found {
				t.Errorf("no %s for gate.proceed in the journal", tt.kind)
			}
		})
	}
}
