package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Text prints a run as progress lines for a person: one line per event
// that matters, each with a glyph and a word (never colour alone), and a
// summary with the runbook's outputs at the end. It writes plain lines, so
// it suits terminals and CI logs alike.
type Text struct {
	mu sync.Mutex
	w  io.Writer
	palette

	run runbook.RunState
	// decile is the tenth of each step's progress printed last.
	decile map[string]int64
	// printed is when a line was last written, on the clock the
	// heartbeat reads.
	printed time.Time
}

// NewText returns a text printer. color adds ANSI colours; pass false when
// w is not a terminal or NO_COLOR is set.
func NewText(w io.Writer, color bool) *Text {
	return &Text{w: w, palette: palette(color), decile: map[string]int64{}}
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// palette paints text with ANSI codes when on, and leaves it plain when
// off.
type palette bool

func (on palette) paint(code, s string) string {
	if !on {
		return s
	}
	return code + s + ansiReset
}

// Emit implements runbook.Sink.
func (t *Text) Emit(e runbook.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.run.Apply(e)
	var b strings.Builder
	ts := t.paint(ansiDim, e.Time.Local().Format("15:04:05"))
	line := func(glyph, word, color, rest string) {
		fmt.Fprintf(&b, "%s %s %-8s %s\n", ts, t.paint(color, glyph), t.paint(color, word), rest)
	}
	switch e.Kind {
	case runbook.RunStarted:
		rest := "run " + t.paint(ansiBold, e.RunID)
		if e.Run != nil {
			rest += " of " + e.Run.RunbookPath
			var notes []string
			if e.Run.DryRun {
				notes = append(notes, "dry-run")
			}
			if e.Run.ResumedFrom != "" {
				notes = append(notes, "resuming "+e.Run.ResumedFrom)
			}
			if e.Run.Parallelism > 0 {
				notes = append(notes, fmt.Sprintf("parallelism %d", e.Run.Parallelism))
			}
			if e.Run.Target != "" {
				notes = append(notes, "target "+e.Run.Target)
			}
			if len(notes) > 0 {
				rest += " (" + strings.Join(notes, ", ") + ")"
			}
		}
		line("▶", "start", ansiCyan, rest)
	case runbook.StepPlanned:
		if len(e.Changes) == 0 {
			line("·", "plan", ansiCyan, e.Node+": no changes")
		}
		for _, c := range e.Changes {
			line("·", "plan", ansiCyan, e.Node+": "+c.String())
		}
	case runbook.StepStarted:
		delete(t.decile, e.Node)
		rest := e.Node
		if e.Attempt > 1 {
			rest += fmt.Sprintf(" (attempt %d)", e.Attempt)
		}
		line("▶", "run", ansiCyan, rest)
	case runbook.StepProgress:
		if p := e.Progress; p != nil {
			// Plain lines cannot redraw: print at each tenth and at the end.
			d := int64(-1)
			if p.Total > 0 {
				d = p.Done * 10 / p.Total
			}
			if last, ok := t.decile[e.Node]; ok && last == d && p.Done != p.Total {
				return nil
			}
			t.decile[e.Node] = d
			line("…", "progress", ansiDim, e.Node+": "+progressText(p))
		}
	case runbook.StepLog:
		// One event may carry several lines (a step groups records written
		// while the journal syncs): each gets the prefix, so every printed
		// line says which step it came from.
		for _, l := range strings.Split(strings.TrimRight(e.Line, "\n"), "\n") {
			fmt.Fprintf(&b, "%s   %s %s\n", ts, t.paint(ansiDim, e.Node+" │"), l)
		}
	case runbook.StepRetried:
		if e.Call != "" {
			line("↻", "retry", ansiYellow, fmt.Sprintf("%s: %s failed: %s; retrying the call", e.Node, e.Call, e.Error))
			break
		}
		line("↻", "retry", ansiYellow, fmt.Sprintf("%s: attempt %d failed: %s; next attempt in %s", e.Node, e.Attempt, e.Error, e.Delay.Round(time.Millisecond)))
	case runbook.StepFinished:
		rest := e.Node
		switch {
		case e.Reason != "":
			rest += " (" + e.Reason + ")"
		case e.Duration > 0:
			rest += " in " + roundDuration(e.Duration)
		}
		line("✓", "done", ansiGreen, rest)
	case runbook.StepFailed:
		line("✗", "FAILED", ansiRed, e.Node+": "+e.Error)
	case runbook.StepSkipped:
		line("-", "skip", ansiDim, e.Node+": "+e.Reason)
	case runbook.GateAsked:
		rest := e.Node
		if e.Line != "" {
			rest += ": " + e.Line
		}
		if e.Reason != "" {
			rest += " (" + e.Reason + ")"
		}
		line("?", "gate", ansiYellow, rest)
	case runbook.GateApproved:
		rest := e.Node + " approved"
		if e.Actor != "" {
			rest += " by " + e.Actor
		}
		if e.Reason != "" {
			rest += " (" + e.Reason + ")"
		}
		line("✓", "approve", ansiGreen, rest)
	case runbook.GateRefused:
		line("✗", "REFUSED", ansiRed, e.Node+": "+e.Reason)
	case runbook.StepDrilled:
		for _, c := range e.Changes {
			line("⇢", "drill", ansiCyan, e.Node+": "+c.String())
		}
	case runbook.TeardownStarted:
		line("▶", "teardown", ansiCyan, "undoing what the drill created")
	case runbook.TeardownAction:
		for _, c := range e.Changes {
			line("↺", "undo", ansiGreen, e.Node+": "+c.String())
		}
	case runbook.TeardownFailed:
		line("✗", "FAILED", ansiRed, "teardown of "+e.Node+": "+e.Error)
	case runbook.TeardownFinished:
		if e.Status == runbook.StatusSucceeded {
			line("✓", "teardown", ansiGreen, "finished: nothing the drill created is left")
		} else {
			line("✗", "TEARDOWN", ansiRed, "incomplete: "+e.Error)
		}
	case runbook.RunFinished:
		word, color, glyph := strings.ToUpper(string(e.Status)), ansiRed, "✗"
		if e.Status == runbook.StatusSucceeded {
			color, glyph = ansiGreen, "✓"
		}
		rest := fmt.Sprintf("run %s in %s: %d done, %d skipped, %d failed", e.Status, roundDuration(e.Duration),
			t.run.Count(runbook.NodeSucceeded), t.run.Count(runbook.NodeSkipped), t.run.Count(runbook.NodeFailed))
		if refused := t.run.Count(runbook.NodeRefused); refused > 0 {
			rest += fmt.Sprintf(", %d refused", refused)
		}
		line(glyph, word, color, rest)
		if e.Error != "" {
			fmt.Fprintf(&b, "%s   %s\n", ts, e.Error)
		}
		for _, kv := range renderOutputs(e.Outputs) {
			fmt.Fprintf(&b, "%s   output %s\n", ts, kv)
		}
	default:
		return nil
	}
	if b.Len() == 0 {
		return nil
	}
	t.printed = time.Now()
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return fmt.Errorf("print %s event: %w", e.Kind, err)
	}
	return nil
}

// progressText is a progress report as the lines show it: "1200/2000
// objects".
func progressText(p *runbook.Progress) string {
	s := fmt.Sprintf("%d", p.Done)
	if p.Total > 0 {
		s += fmt.Sprintf("/%d", p.Total)
	}
	if p.Unit != "" {
		s += " " + p.Unit
	}
	return s
}

// HeartbeatAfter is how long text output may stay quiet during a run
// before a heartbeat says what the run waits for.
const HeartbeatAfter = 30 * time.Second

// Heartbeat prints, each time nothing has been printed for quiet while a
// run goes on, a line for every step running or waiting to retry and
// every gate waiting for an answer: what it is, for how long, and the
// step's latest progress. Progress prints only at each tenth and a long
// wait prints nothing, so a CI log would otherwise look like a hung run.
// The lines are this printer's own: the journal and the json stream never
// see them. stop ends the heartbeat and returns once it has.
func (t *Text) Heartbeat(quiet time.Duration) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		timer := time.NewTimer(quiet)
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-timer.C:
			}
			timer.Reset(t.beat(quiet))
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-ended
	}
}

// beat prints the heartbeat when the output has been quiet for quiet, and
// returns how long to wait before looking again.
func (t *Text) beat(quiet time.Duration) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if wait := t.printed.Add(quiet).Sub(now); wait > 0 {
		return wait
	}
	if t.run.Events == 0 || t.run.Status != "" {
		return quiet // no run yet, or it has ended
	}
	var b strings.Builder
	ts := t.paint(ansiDim, now.Local().Format("15:04:05"))
	for _, n := range t.run.Nodes() {
		var word, rest string
		switch n.Status {
		case runbook.NodeRunning:
			word, rest = "running", n.Node
			if n.Attempt > 1 {
				rest += fmt.Sprintf(" (attempt %d)", n.Attempt)
			}
			rest += " for " + roundDuration(now.Sub(n.Began))
			if n.Progress != nil {
				rest += ": " + progressText(n.Progress)
			}
		case runbook.NodeRetrying:
			word = "retrying"
			rest = fmt.Sprintf("%s for %s: waiting to start attempt %d", n.Node, roundDuration(now.Sub(n.Began)), n.Attempt+1)
		case runbook.NodeWaiting:
			word, rest = "waiting", "at "+n.Node+" for "+roundDuration(now.Sub(n.Began))
			if a, ok := runbook.ParseAddress(n.Node); ok && a.Kind == runbook.KindStep {
				rest += " (its confirmation)"
			}
		default:
			continue
		}
		fmt.Fprintf(&b, "%s %s %-8s %s\n", ts, t.paint(ansiDim, "…"), t.paint(ansiDim, word), rest)
	}
	if b.Len() == 0 {
		return quiet
	}
	t.printed = now
	// A printer's failure never stops a recovery; the next event's
	// write reports a terminal that went away.
	_, _ = io.WriteString(t.w, b.String())
	return quiet
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// renderOutputs turns run_finished's outputs object into "name = value"
// lines, sorted by name.
func renderOutputs(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return []string{string(raw)}
	}
	var out []string
	for k, v := range m {
		var buf bytes.Buffer
		if json.Compact(&buf, v) != nil {
			buf.Reset()
			buf.Write(v)
		}
		out = append(out, k+" = "+buf.String())
	}
	slices.Sort(out)
	return out
}
