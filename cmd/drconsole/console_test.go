package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

func TestConsoleRefusesWithoutTerminal(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(t.Context(), nil, strings.NewReader(""), &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "not a terminal") || !strings.Contains(errb.String(), "plan") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// tmuxConsole is the real binary running in a detached tmux session.
type tmuxConsole struct {
	t    *testing.T
	tmux string
	sock string
}

func (c *tmuxConsole) cmd(args ...string) string {
	c.t.Helper()
	out, err := exec.Command(c.tmux, append([]string{"-S", c.sock}, args...)...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (c *tmuxConsole) screen() string { return c.cmd("capture-pane", "-p", "-t", "dr") }

// keys sends tmux key names (Enter, Down, C-u) or single characters.
func (c *tmuxConsole) keys(ks ...string) { c.cmd(append([]string{"send-keys", "-t", "dr"}, ks...)...) }

// text sends literal text.
func (c *tmuxConsole) text(s string) { c.cmd("send-keys", "-t", "dr", "-l", s) }

// waitFor polls the screen until match finds something, failing at the
// deadline with the screen.
func (c *tmuxConsole) waitFor(what string, match func(screen string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for {
		s := c.screen()
		if match(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		<-tick.C
	}
}

func (c *tmuxConsole) waitText(s string) string {
	c.t.Helper()
	return c.waitFor(s, func(screen string) bool { return strings.Contains(screen, s) })
}

var gateToken = regexp.MustCompile(`Type (\S+) and press enter to approve`)

// approveGate types the gate's token one key at a time, each after the
// previous one is on screen, as a person does, once the gate takes keys.
func (c *tmuxConsole) approveGate(screen string) {
	c.t.Helper()
	m := gateToken.FindStringSubmatch(screen)
	if m == nil {
		c.t.Fatalf("no token on the gate:\n%s", screen)
	}
	token := m[1]
	c.waitFor("the gate to take keys", func(s string) bool { return !strings.Contains(s, "(wait…)") })
	for i, r := range token {
		c.text(string(r))
		c.waitText("> " + token[:i+len(string(r))] + "█")
	}
	c.keys("Enter")
	c.waitFor("the gate to close", func(s string) bool { return !strings.Contains(s, "Type "+token+" and press") })
}

// TestConsoleFailoverInTmux drives the real binary in a terminal: it opens
// the console on the embedded sandbox, runs model-serving-failover from the
// Runbooks view through its gates by typing their tokens, waits for success
// on screen, and checks the journal and the Fleet view for the scaled DR
// group.
func TestConsoleFailoverInTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required in CI (make test installs it)")
		}
		t.Skip("tmux is not installed")
	}
	bin := buildCLI(t)
	state := t.TempDir()
	books, err := filepath.Abs(filepath.Join("..", "..", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(books, "model-serving-failover.hcl")); err != nil {
		t.Fatalf("runbook missing: %v", err)
	}
	sockDir, err := os.MkdirTemp("", "drc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	c := &tmuxConsole{t: t, tmux: tmux, sock: filepath.Join(sockDir, "s")}
	c.cmd("new-session", "-d", "-s", "dr", "-x", "120", "-y", "40",
		"env TERM=xterm-256color HOME="+state+" "+bin+" --runbooks "+books+" --state-dir "+state)
	t.Cleanup(func() { exec.Command(tmux, "-S", c.sock, "kill-server").Run() })

	c.waitText("SANDBOX")
	c.waitText("✖ ALARM ai-inference-dr-capacity")

	c.keys(":", "r", "b", "Enter")
	c.waitText("model-serving-failover")
	c.keys("/")
	c.text("model-serving-failover")
	c.keys("Enter")
	c.waitText("1/1")
	c.keys("Enter")
	c.waitText("restore_to")
	c.text("2026-11-10T00:00:00Z")
	c.waitText("> 2026-11-10T00:00:00Z█")
	c.keys("Down", "Down", "Down", "C-u")
	c.text("1s")
	c.waitText("> 1s█")
	// The estate's variables follow, filled from the sandbox's names:
	// enter on the last one plans.
	c.keys("Down", "Down", "Down", "Down", "Down", "Down", "Enter")
	c.waitText("plan SUCCEEDED")

	c.keys("x")
	gates := 0
	for done := false; !done; {
		s := c.waitFor("a gate or the end of the run", func(s string) bool {
			return gateToken.MatchString(s) || strings.Contains(s, "run SUCCEEDED") ||
				strings.Contains(s, "run FAILED") || strings.Contains(s, "run REFUSED")
		})
		switch {
		case gateToken.MatchString(s):
			gates++
			c.approveGate(s)
		case strings.Contains(s, "run SUCCEEDED"):
			done = true
		default:
			t.Fatalf("the run did not succeed:\n%s", s)
		}
	}
	if gates < 2 {
		t.Errorf("approved %d gates, want the restore's, the failover gate and the scaling step's", gates)
	}

	// The journal holds the run, with the DR group scaled.
	runs, err := (&journal.Store{Dir: state}).List()
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs: %v, %v", runs, err)
	}
	var id string
	for _, r := range runs {
		if !r.DryRun {
			id = r.ID
			break
		}
	}
	scaled := false
	for _, e := range journalEvents(t, state, id) {
		if e.Kind == runbook.StepFinished && e.Node == "step.asg_scale.serving" {
			var out struct {
				InService int `json:"in_service"`
			}
			if err := json.Unmarshal(e.Outputs, &out); err != nil || out.InService != 4 {
				t.Fatalf("asg_scale outputs %s: %v", e.Outputs, err)
			}
			scaled = true
		}
	}
	if !scaled {
		t.Fatalf("the journal of %s has no finished asg_scale step", id)
	}
	// And the Fleet view reads the group back from the sandbox.
	c.keys("5", "r")
	c.waitFor("the scaled group on the Fleet view", func(s string) bool {
		return regexp.MustCompile(`✔ ready\s+ai-inference-dr\s+dr-fleet\s+us-west-2\s+0\s+4\s+8\s+4`).MatchString(s)
	})
	// q quits at once with no run in progress, and the terminal is handed
	// back: the session ends with the program.
	c.keys("q")
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for exec.Command(c.tmux, "-S", c.sock, "has-session", "-t", "dr").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the console did not quit; screen:\n%s", c.screen())
		}
		<-tick.C
	}
}
