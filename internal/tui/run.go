package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/runbook"
)

// nodeState is what the console knows about one step or gate of a run.
type nodeState struct {
	addr     string
	deps     []string // the graph edges: what this node waits for
	depth    int      // longest chain of dependencies before it
	state    string   // pending, running, waiting, done, failed, skipped, approved, refused, retrying
	started  time.Time
	finished time.Time
	attempt  int
	progress *runbook.Progress
	changes  []runbook.Change
	logs     []string
	err      string
	outputs  string
	actor    string
	// drilled is what a drill redirects (step_drilled).
	drilled []runbook.Change
}

// maxNodeLogs bounds the lines kept per node on screen.
const maxNodeLogs = 500

// runState is a run the console started or resumed, or one it reads
// from the journal.
type runState struct {
	id      string
	path    string
	dry     bool
	nodes   []*nodeState
	byAddr  map[string]*nodeState
	status  runbook.RunStatus // "" while active
	err     string
	started time.Time
	ended   time.Time
	outputs string
	dropped int
	cancel  context.CancelFunc
	release context.CancelFunc // stops the event flow once the result is in
	fanin   *Fanin
	live    bool
	// drill: the run is a drill. teardown lists its teardown's actions
	// and failures as they happen; tornDown is how the teardown ended
	// ("" while it has not).
	drill    bool
	teardown []string
	tornDown string
	// report is a finished drill's measurements.
	report *drill.Report
}

func newRunState(rb *runbook.Runbook, dry bool) *runState {
	r := &runState{byAddr: map[string]*nodeState{}, dry: dry}
	if rb != nil {
		r.path = rb.Path
		for _, n := range rb.Order() {
			r.node(n.Addr).deps = n.Deps
		}
		// Order is topological, so each node's dependencies are placed
		// before it.
		for _, n := range r.nodes {
			for _, d := range n.deps {
				if dn, ok := r.byAddr[d]; ok {
					n.depth = max(n.depth, dn.depth+1)
				}
			}
		}
	}
	return r
}

func (r *runState) node(addr string) *nodeState {
	if n, ok := r.byAddr[addr]; ok {
		return n
	}
	n := &nodeState{addr: addr, state: "pending"}
	r.byAddr[addr] = n
	r.nodes = append(r.nodes, n)
	return n
}

func (r *runState) active() bool { return r.live && r.status == "" }

func (r *runState) stop() {
	if r.cancel != nil {
		r.cancel()
	}
}

// apply folds one event into the state.
func (r *runState) apply(e runbook.Event) {
	var n *nodeState
	if e.Node != "" {
		n = r.node(e.Node)
	}
	switch e.Kind {
	case runbook.RunStarted:
		if r.started.IsZero() {
			r.started = e.Time
		}
		if e.Run != nil {
			r.path, r.dry, r.drill = e.Run.RunbookPath, e.Run.DryRun, e.Run.Drill != nil
		}
		r.status, r.err = "", ""
	case runbook.StepPlanned:
		n.changes = e.Changes
		if n.state == "pending" {
			n.state = "planned"
		}
	case runbook.StepStarted:
		n.state, n.started, n.attempt, n.err = "running", e.Time, e.Attempt, ""
	case runbook.StepProgress:
		n.progress = e.Progress
	case runbook.StepLog:
		n.logs = append(n.logs, e.Time.UTC().Format("15:04:05")+" "+clean(e.Line))
		if len(n.logs) > maxNodeLogs {
			n.logs = n.logs[len(n.logs)-maxNodeLogs:]
		}
	case runbook.StepRetried:
		n.state, n.err = "retrying", e.Error
	case runbook.StepFinished:
		n.state, n.finished, n.outputs = "done", e.Time, string(e.Outputs)
		if n.started.IsZero() {
			n.started = e.Time.Add(-e.Duration)
		}
	case runbook.StepFailed:
		n.state, n.finished, n.err = "failed", e.Time, e.Error
	case runbook.StepSkipped:
		n.state, n.err = "skipped", e.Reason
	case runbook.GateAsked:
		if r.dry {
			// A plan passes gates without asking: show what they guard.
			n.state, n.changes = "planned", e.Changes
			break
		}
		n.state, n.started, n.changes = "waiting", e.Time, e.Changes
	case runbook.GateApproved:
		n.state, n.finished, n.actor = "approved", e.Time, e.Actor
	case runbook.GateRefused:
		n.state, n.finished, n.actor, n.err = "refused", e.Time, e.Actor, e.Reason
	case runbook.RunFinished:
		r.status, r.ended, r.err, r.outputs = e.Status, e.Time, e.Error, string(e.Outputs)
	case runbook.StepDrilled:
		n.drilled = append(n.drilled, e.Changes...)
	case runbook.TeardownStarted:
		r.tornDown = ""
	case runbook.TeardownAction:
		for _, c := range e.Changes {
			r.teardown = append(r.teardown, "↺ "+e.Node+": "+clean(c.String()))
		}
	case runbook.TeardownFailed:
		r.teardown = append(r.teardown, "✖ "+e.Node+": "+clean(e.Error))
	case runbook.TeardownFinished:
		r.tornDown = "finished"
		if e.Status != runbook.StatusSucceeded {
			r.tornDown = "incomplete: " + clean(e.Error)
		}
	}
}

// glyph renders a node state with a glyph and the word.
func nodeGlyph(st *styles, s string) string {
	switch s {
	case "done":
		return st.ok.Render("✔ done    ")
	case "approved":
		return st.ok.Render("✔ approved")
	case "running":
		return st.warn.Render("▶ running ")
	case "retrying":
		return st.warn.Render("↻ retrying")
	case "waiting":
		return st.bad.Render("⚠ WAITING ")
	case "failed":
		return st.bad.Render("✖ FAILED  ")
	case "refused":
		return st.bad.Render("✖ refused ")
	case "skipped":
		return st.dim.Render("⤼ skipped ")
	case "planned":
		return "≡ planned "
	}
	return st.dim.Render("· pending ")
}

func runStatusText(st *styles, r *runState) string {
	what := "run"
	switch {
	case r.drill && r.dry:
		what = "drill plan"
	case r.drill:
		what = "drill"
	case r.dry:
		what = "plan"
	}
	switch r.status {
	case "":
		if r.live {
			return st.warn.Render("▶ " + what + " in progress")
		}
		if r.drill {
			return st.bad.Render("✖ drill interrupted (T in Runs finishes its teardown)")
		}
		return st.bad.Render("✖ interrupted (resume with R in Runs)")
	case runbook.StatusSucceeded:
		return st.ok.Render("✔ " + what + " SUCCEEDED")
	case runbook.StatusFailed:
		return st.bad.Render("✖ " + what + " FAILED")
	case runbook.StatusRefused:
		return st.bad.Render("✖ " + what + " REFUSED at a gate")
	case runbook.StatusCancelled:
		return st.bad.Render("✖ " + what + " CANCELLED")
	}
	return string(r.status)
}

// progressBar draws done/total in width columns with the figures.
func progressBar(p *runbook.Progress, width int) string {
	if p == nil || p.Total <= 0 {
		return ""
	}
	frac := min(max(float64(p.Done)/float64(p.Total), 0), 1)
	full := int(frac * float64(width))
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + fmt.Sprintf("] %d/%d %s", p.Done, p.Total, p.Unit)
}

// runMsg is everything about a run the root handles.
type runMsg struct {
	events *runEventsMsg
	done   *runDone
}

type runDone struct {
	id  string
	res *runbook.Result
	// report is a drill's; err a drill's failure to start, tear down or
	// write its report.
	report *drill.Report
	err    error
}

// handleRun folds run messages into the active run.
func (m *Model) handleRun(msg runMsg) tea.Cmd {
	switch {
	case msg.events != nil && m.run != nil && msg.events.runID == m.run.id:
		for _, e := range msg.events.events {
			m.run.apply(e)
		}
		m.run.dropped += msg.events.dropped
		m.closeStaleGate()
	case msg.done != nil && m.run != nil && msg.done.id == m.run.id:
		r := m.run
		if r.fanin != nil {
			for _, e := range r.fanin.Drain().events {
				r.apply(e)
			}
		}
		r.live = false
		if r.cancel != nil {
			r.cancel()
		}
		if r.release != nil {
			r.release()
		}
		m.closeStaleGate()
		if res := msg.done.res; res != nil {
			if r.status == "" {
				r.status = res.Status
			}
			if res.Err != nil && res.Status != runbook.StatusSucceeded {
				m.setStatus(res.Err.Error(), true)
			}
		}
		r.report = msg.done.report
		if msg.done.err != nil {
			m.setStatus(msg.done.err.Error(), true)
		}
		return address(viewRuns, m.history.refresh(m.env))
	}
	return nil
}

// closeStaleGate closes a gate's modal once the engine no longer waits
// for it: the gate timed out, or the run ended or was cancelled.
func (m *Model) closeStaleGate() {
	g, r := m.modal, m.run
	if g == nil || g.node == "" || r == nil {
		return
	}
	n, ok := r.byAddr[g.node]
	// Only an end closes the modal: a snapshot older than the question
	// (the node still pending) must not.
	ended := ok && (n.state == "approved" || n.state == "refused" || n.state == "done" || n.state == "failed" || n.state == "skipped")
	if !r.active() || ended {
		m.modal = nil
		m.setStatus("gate "+g.node+" closed: "+describeGateEnd(n, r), n != nil && n.state != "approved")
	}
}

func describeGateEnd(n *nodeState, r *runState) string {
	switch {
	case n != nil && n.state == "refused" && n.err != "":
		return "refused (" + n.err + ")"
	case n != nil && n.state != "waiting":
		return n.state
	case r.status != "":
		return "the run " + string(r.status)
	}
	return "the run ended"
}
