package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/testutil/estatetest"
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
// It types no faster than a person either: keys closer together than
// anyone types are taken for a paste.
func (c *tmuxConsole) approveGate(screen string) {
	c.t.Helper()
	m := gateToken.FindStringSubmatch(screen)
	if m == nil {
		c.t.Fatalf("no token on the gate:\n%s", screen)
	}
	token := m[1]
	c.waitFor("the gate to take keys", func(s string) bool { return !strings.Contains(s, "(wait…)") })
	// typed is when the next key may go: a person's pace, slower than
	// the console's auto-repeat window too, after whatever came before.
	typed := time.NewTimer(50 * time.Millisecond)
	for i, r := range token {
		<-typed.C
		c.text(string(r))
		typed.Reset(50 * time.Millisecond)
		c.waitText("> " + token[:i+len(string(r))] + "█")
	}
	<-typed.C
	c.keys("Enter")
	c.waitFor("the gate to close", func(s string) bool { return !strings.Contains(s, "Type "+token+" and press") })
}

// pasteToken sends the gate's token as a paste without bracketed-paste
// markers arrives, in one write, and checks it does not fill the token.
func (c *tmuxConsole) pasteToken(screen string) {
	c.t.Helper()
	token := gateToken.FindStringSubmatch(screen)[1]
	c.waitFor("the gate to take keys", func(s string) bool { return !strings.Contains(s, "(wait…)") })
	c.text(token)
	c.waitFor("the paste to be ignored", func(s string) bool { return strings.Contains(s, "paste ignored") && strings.Contains(s, "> █") })
}

// TestConsoleFailoverInTmux drives the real binary in a terminal: it opens
// the console on a sandbox estate, runs model-serving-failover from the
// Runbooks view through its gates by typing their tokens, waits for success
// on screen, and checks the journal and the Fleet view for the scaled DR
// group. It does so on the embedded sandbox, and on an estate named like a
// company's, both ways the README offers to rehearse on one: the embedded
// sandbox seeded with --sandbox-names, and a `drconsole sandbox --names`
// process the console is pointed at with --endpoint, the names given by
// --var-file as an operator gives them. There the screens show the
// estate's names, and neither they nor the journal show a default sandbox
// name.
func TestConsoleFailoverInTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required in CI (make test installs it)")
		}
		t.Skip("tmux is not installed")
	}
	bin := buildCLI(t)
	books, err := filepath.Abs(filepath.Join("..", "..", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(books, "model-serving-failover.hcl")); err != nil {
		t.Fatalf("runbook missing: %v", err)
	}
	// acme writes the variables file of the acme estate, as `drconsole
	// sandbox --names acme.vars --print-vars` would, and its names.
	acme := func(t *testing.T) (string, sandbox.Names) {
		vars, err := sandbox.EstateVars(sandbox.Options{Names: estatetest.AcmeNames()})
		if err != nil {
			t.Fatal(err)
		}
		names, err := sandbox.ParseNames(vars, "acme.vars")
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "acme.vars")
		writeFile(t, file, string(vars))
		return file, names
	}
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		consoleFailover(t, tmux, bin, books, sandbox.DefaultNames())
	})
	t.Run("embedded-acme", func(t *testing.T) {
		t.Parallel()
		file, names := acme(t)
		consoleFailover(t, tmux, bin, books, names, "--sandbox-names", file)
	})
	t.Run("served-acme", func(t *testing.T) {
		t.Parallel()
		file, names := acme(t)
		// The embedded sandbox's estate, with shorter waits: on two cores
		// go test runs this case only once an embedded one has finished.
		p := startSandboxProc(t, bin, "--names", file, "--seed", strconv.FormatInt(consoleSandbox().Seed, 10),
			"--warmup", "1s", "--snapshot-duration", "1s")
		consoleFailover(t, tmux, bin, books, names, "--target", "sandbox", "--endpoint", p.endpoint, "--var-file", file)
	})
}

// consoleFailover opens the console with args on a sandbox estate named
// names and runs the failover through it.
func consoleFailover(t *testing.T, tmux, bin, books string, names sandbox.Names, args ...string) {
	replaced := estatetest.ReplacedDefaults(names)
	// screens checks that the screen names none of the defaults the
	// estate's names replace.
	screens := func(s string) string {
		t.Helper()
		for _, d := range replaced {
			if strings.Contains(s, d) {
				t.Errorf("the screen shows the sandbox's %q:\n%s", d, s)
			}
		}
		return s
	}
	state := t.TempDir()
	sockDir, err := os.MkdirTemp("", "drc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	c := &tmuxConsole{t: t, tmux: tmux, sock: filepath.Join(sockDir, "s")}
	c.cmd("new-session", "-d", "-s", "dr", "-x", "120", "-y", "40",
		"env TERM=xterm-256color HOME="+state+" "+bin+" --runbooks "+books+" --state-dir "+state+" "+strings.Join(args, " "))
	t.Cleanup(func() { exec.Command(tmux, "-S", c.sock, "kill-server").Run() })

	c.waitText("SANDBOX")
	c.waitText("✖ ALARM " + names.AlarmDRCapacity)
	screens(c.waitFor("the estate on the Overview", func(s string) bool {
		return strings.Contains(s, names.ModelBucket+" → "+names.ReplicaBucket) &&
			regexp.MustCompile(`idle\s+`+regexp.QuoteMeta(names.DRGroup)+`\s`).MatchString(s)
	}))

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
	// The estate's variables follow, filled from the sandbox's names or
	// the variables file: enter on the last one plans.
	c.keys("Down", "Down", "Down", "Down", "Down", "Down", "Enter")
	screens(c.waitText("plan SUCCEEDED"))

	c.keys("x")
	gates := 0
	for done := false; !done; {
		s := c.waitFor("a gate or the end of the run", func(s string) bool {
			return gateToken.MatchString(s) || strings.Contains(s, "run SUCCEEDED") ||
				strings.Contains(s, "run FAILED") || strings.Contains(s, "run REFUSED")
		})
		screens(s)
		switch {
		case gateToken.MatchString(s):
			gates++
			if gates == 1 {
				c.pasteToken(s)
			}
			c.approveGate(s)
		case strings.Contains(s, "run SUCCEEDED"):
			done = true
		default:
			t.Fatalf("the run did not succeed:\n%s", s)
		}
	}
	// One ask per decision: the restore's, and the failover gate's, which
	// shows the scaling step's plan and so confirms it.
	if gates != 2 {
		t.Errorf("approved %d gates, want the restore's and the failover gate's", gates)
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
	for _, r := range runs {
		j, err := os.ReadFile((&journal.Store{Dir: state}).Path(r.ID))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(j), `"model_bucket":"`+names.ModelBucket+`"`) {
			t.Errorf("the journal of %s does not record model_bucket %s", r.ID, names.ModelBucket)
		}
		for _, d := range replaced {
			if strings.Contains(string(j), d) {
				t.Errorf("the journal of %s names the sandbox's %q", r.ID, d)
			}
		}
	}
	// And the Fleet view, read on the Overview before the run, reads the
	// group back from the sandbox on entry, without r: the run's end made
	// it stale.
	entered := time.Now()
	c.keys("5")
	screens(c.waitFor("the scaled group on the Fleet view", func(s string) bool {
		return regexp.MustCompile(`✔ ready\s+`+regexp.QuoteMeta(names.DRGroup)+`\s+dr-fleet\s+`+regexp.QuoteMeta(names.DRRegion)+`\s+0\s+4\s+8\s+4`).MatchString(s) &&
			strings.Contains(s, "as of ")
	}))
	// Not the 30-second refresh's doing.
	if took := time.Since(entered); took > 10*time.Second {
		t.Errorf("Fleet showed the scaled group %s after it was entered, want it read on entry", took.Round(time.Second))
	}
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
