package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

// esc clears a committed filter before it goes back, whatever level the
// filter was set at; a view with nothing to filter says so instead of
// opening a filter line that does nothing.
func TestEscClearsACommittedFilterFirst(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("8")
	h.waitScreen("API calls")
	h.keys("/", "s", "t", "s", "enter")
	h.waitScreen("filter: sts")
	h.waitScreen(`filtered by "sts": esc clears it`)
	h.keys("esc")
	if s := h.screen(); strings.Contains(s, "filter: sts") || !strings.Contains(s, "filter cleared") {
		t.Fatalf("esc left the filter on:\n%s", s)
	}

	h.keys("1")
	h.waitScreen("Overview")
	h.keys("/")
	if s := h.screen(); !strings.Contains(s, "nothing to filter here") || strings.Contains(lastLine(s), "/█") {
		t.Fatalf("/ on the Overview:\n%s", s)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// The footer offers only keys that work where the operator is: none of
// the global ones while a field takes what is typed, and no change to the
// estate in a read-only console; help lists every key of the view.
func TestKeysOfferedWhereTheyWork(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	openRunbook(h, "scale-dr")
	h.waitScreen("Variables")
	if foot := lastLine(h.screen()); strings.Contains(foot, "/ filter") || strings.Contains(foot, "q quit") {
		t.Errorf("footer while typing in a field: %q", foot)
	}
	h.keys("esc", "7")
	h.waitScreen("Runs")
	h.keys("?")
	for _, want := range []string{"R ", "resume", "T ", "finish teardown"} {
		if !strings.Contains(h.screen(), want) {
			t.Errorf("help of Runs lacks %q:\n%s", want, h.screen())
		}
	}
	h.keys("esc", "6", "?")
	for _, want := range []string{"run the runbook planned", "ctrl+x", "cancel run"} {
		if !strings.Contains(h.screen(), want) {
			t.Errorf("help of Runbooks lacks %q:\n%s", want, h.screen())
		}
	}

	ro := newHarness(t, 120, 40, func(o *Options) { o.ReadOnly = true })
	ro.keys("7")
	ro.waitScreen("Runs")
	ro.keys("?")
	if s := ro.screen(); strings.Contains(s, "resume") || strings.Contains(s, "finish teardown") {
		t.Errorf("read-only help offers changes:\n%s", s)
	}
	ro.keys("esc", "2", "?")
	if s := ro.screen(); strings.Contains(s, "roll back") {
		t.Errorf("read-only help offers a roll back:\n%s", s)
	}
}

// A step the run's cancellation stopped reads cancelled, not failed.
func TestCancelledStepGlyph(t *testing.T) {
	st := newStyles()
	n := &runbook.NodeState{Status: runbook.NodeFailed, Cancelled: true, Error: "cancelled"}
	if g := ansiStrip(stateGlyph(&st, n)); !strings.Contains(g, "cancel") || strings.Contains(g, "FAILED") {
		t.Fatalf("cancelled step glyph %q", g)
	}
	n.Cancelled = false
	if g := ansiStrip(stateGlyph(&st, n)); !strings.Contains(g, "FAILED") {
		t.Fatalf("failed step glyph %q", g)
	}
}

// The Runs list says what each run was and did: a drill's plan is a plan,
// and a roll back or restore the console wrote names what it acted on.
func TestRunsListSaysWhatEachRunDid(t *testing.T) {
	for _, c := range []struct {
		s          journal.Summary
		kind, what string
	}{
		{journal.Summary{RunbookPath: "/r/gameday.hcl", Drill: true, DryRun: true}, "plan", "gameday"},
		{journal.Summary{RunbookPath: "/r/gameday.hcl", Drill: true}, "drill", "gameday"},
		{journal.Summary{RunbookPath: "/s/console-rollback.hcl", Variables: map[string]string{"bucket": "b", "key": "models/a.bin", "version_id": "3HL4kqtJlcpXroDTDmJ"}},
			"run", "roll back models/a.bin ← 3HL4kqtJlcpX"},
		{journal.Summary{RunbookPath: "/s/console-restore.hcl", Variables: map[string]string{"vault": "v", "recovery_point_arn": "arn:aws:ec2:us-east-1::snapshot/snap-0abc"}},
			"run", "restore snap-0abc from v"},
	} {
		if got := runKind(c.s); got != c.kind {
			t.Errorf("kind of %+v: %q, want %q", c.s, got, c.kind)
		}
		if got := runWhat(c.s.RunbookPath, c.s.Variables); got != c.what {
			t.Errorf("what of %+v: %q, want %q", c.s, got, c.what)
		}
	}
}

// A form whose plan is refused stays open and says why by its fields, in
// full, instead of showing an earlier run.
func TestRefusedPlanKeepsTheForm(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	openScaleRunbook(h) // an earlier plan, still the live run
	h.keys("esc")
	h.waitScreen("Variables")
	h.keys("up", "ctrl+u") // desired is not a number: the plan is refused
	h.typeText("many")
	h.keys("down", "enter")
	h.waitFor("the refusal in the form", func() bool { return strings.Contains(h.screen(), "✖ ") && strings.Contains(h.screen(), "Variables") })
	if s := h.screen(); strings.Contains(s, "plan SUCCEEDED") {
		t.Fatalf("a refused plan shows the earlier run:\n%s", s)
	}
}

// `:` commands take any prefix that names one command, tab completes
// them, and an ambiguous prefix lists what it could be.
func TestCommandsByPrefix(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys(":", "v", "o", "enter")
	h.waitScreen("[Volumes]")
	h.keys(":", "r", "e", "p", "l", "enter")
	h.waitScreen("[Replication]")
	h.keys(":", "r", "u", "n", "enter")
	if s := h.screen(); !strings.Contains(s, ":run is ambiguous: runbooks, runs") {
		t.Fatalf("ambiguous prefix:\n%s", s)
	}
	h.keys(":", "f", "tab")
	if foot := lastLine(h.screen()); !strings.Contains(foot, ":fleet") {
		t.Fatalf("tab did not complete :f: %q", foot)
	}
	h.keys("enter")
	h.waitScreen("[Fleet]")
}

// An error the status line has to cut says so, and E shows it whole.
func TestCutErrorsReadWholeWithE(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	h.keys(":", "z", "z", "z", "enter")
	h.waitScreen("(E: in full)")
	h.keys("E")
	h.waitScreen("Latest error")
	if s := strings.Join(strings.Fields(h.screen()), " "); !strings.Contains(s, ":volumes") {
		t.Fatalf("the whole error is not in the panel:\n%s", h.screen())
	}
}

// Sorting by a state column puts the worst first.
func TestStateSortsWorstFirst(t *testing.T) {
	rows := [][]string{{"✔ done"}, {"✖ FAILED"}, {"· pending"}, {"⚠ WAITING"}, {"▶ running"}}
	g := newGrid(column{title: "STATE", width: 10})
	g.setSource(len(rows), func(i int) []string { return rows[i] })
	g.cycleSort()
	var got []string
	for pos := range g.len() {
		got = append(got, rows[g.at(pos)][0])
	}
	want := []string{"✖ FAILED", "⚠ WAITING", "▶ running", "· pending", "✔ done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sorted %q, want %q", got, want)
	}
}

// What was typed into a runbook's form is there when it opens again.
func TestFormKeepsWhatWasTyped(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	openRunbook(h, "scale-dr")
	h.waitScreen("Variables")
	h.keys("down")
	h.typeText("typed-once")
	h.keys("esc")
	h.keys("esc") // clears the list's filter
	openRunbook(h, "scale-dr")
	h.waitScreen("> typed-once")
}

func TestRelativeTimes(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
		err  bool
	}{
		{"now", now, true, false},
		{"-1h", now.Add(-time.Hour), true, false},
		{"-2d", now.Add(-48 * time.Hour), true, false},
		{"-1d12h", now.Add(-36 * time.Hour), true, false},
		{"+30m", now.Add(30 * time.Minute), true, false},
		{"2026-11-19T00:00:00Z", time.Time{}, false, false},
		{"-soon", time.Time{}, false, true},
		{"-", time.Time{}, false, true},
	} {
		got, ok, err := relativeTime(c.in, now)
		if ok != c.ok || (err != nil) != c.err || ok && !got.Equal(c.want) {
			t.Errorf("relativeTime(%q) = %v, %v, %v", c.in, got, ok, err)
		}
	}
	for _, n := range []string{"restore_to", "to_time", "incident_at"} {
		if !isTimeField(n) {
			t.Errorf("%s is a time field", n)
		}
	}
	if isTimeField("bucket") {
		t.Error("bucket is not a time field")
	}
}

// enter on a version opens its detail alone, whole and wrapped; esc goes
// back to the timeline, and the side pane grows with the window.
func TestVersionDetailOpensWhole(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("2", "enter", "enter", "enter", "down", "enter")
	h.waitScreen("WRITTEN")
	h.waitScreen("git-commit: ")
	h.keys("enter")
	h.waitFor("the whole detail", func() bool { return !strings.Contains(h.screen(), "WRITTEN") })
	s := h.screen()
	if !strings.Contains(s, "git-commit: ") || !strings.Contains(s, "metrics: ") {
		t.Fatalf("full detail:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "metrics: ") && strings.HasSuffix(strings.TrimRight(l, " "), "…") {
			t.Fatalf("the full detail cuts a line: %q", l)
		}
	}
	h.keys("esc")
	h.waitScreen("WRITTEN")
}

// enter on an API call shows it whole: every parameter, the request id,
// the error; esc goes back to the list.
func TestAPICallOpensWhole(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	h.keys("8")
	h.waitScreen("API calls")
	h.keys("enter")
	h.waitScreen("request id ")
	if s := h.screen(); !strings.Contains(s, " in us-") || strings.Contains(s, "TIME") {
		t.Fatalf("call detail:\n%s", s)
	}
	h.keys("esc")
	h.waitScreen("API calls")
}

// enter on a step of an opened run shows it whole: its outputs, who
// answered it, its changes and log.
func TestRunStepOpensWhole(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	openScaleRunbook(h)
	h.keys("7")
	h.waitScreen("plan")
	h.keys("enter")
	h.waitScreen("STATE")
	h.keys("enter")
	h.waitFor("the step whole", func() bool { return !strings.Contains(h.screen(), "STATE") })
	if s := h.screen(); !strings.Contains(s, "step.wait.settle") {
		t.Fatalf("step detail:\n%s", s)
	}
	h.keys("esc")
	h.waitScreen("STATE")
}

// enter on a volume shows it whole: its tags, attachments and snapshots.
func TestVolumeOpensWhole(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	h.keys("9")
	h.waitScreen("EBS volumes")
	h.waitScreen("vol-")
	h.keys("enter")
	h.waitScreen("Volume vol-")
	if s := h.screen(); !strings.Contains(s, "tag ") || !strings.Contains(s, "snapshot") {
		t.Fatalf("volume detail:\n%s", s)
	}
	h.keys("esc")
	h.waitScreen("EBS volumes")
}
