package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/runbook"
)

// nodeState is a step or gate of a run as the console shows it: what its
// events tell, and where it sits in the graph.
type nodeState struct {
	*runbook.NodeState
	deps  []string // the graph edges: what this node waits for
	depth int      // longest chain of dependencies before it
}

// maxNodeLogs bounds the lines kept per node on screen.
const maxNodeLogs = 500

// runState is a run the console started or resumed, or one it reads
// from the journal.
type runState struct {
	runbook.RunState
	id string
	// nodes are the run's nodes in its order, with their place in the
	// graph (the Runs view sorts them in the graph's order).
	nodes []*nodeState
	// path, dry and drill are what the console asked for, until
	// run_started says what runs.
	path    string
	dry     bool
	drill   bool
	dropped int
	cancel  context.CancelFunc
	release context.CancelFunc // stops the event flow once the result is in
	fanin   *Fanin
	live    bool
	// report is a finished drill's measurements.
	report *drill.Report
}

func newRunState(rb *runbook.Runbook, dry bool) *runState {
	r := &runState{dry: dry}
	r.KeepLogs = maxNodeLogs
	if rb != nil {
		r.path = rb.Path
		placed := map[string]*nodeState{}
		// Order is topological, so each node's dependencies are placed
		// before it.
		for _, gn := range rb.Order() {
			n := &nodeState{NodeState: r.Node(gn.Addr), deps: gn.Deps}
			for _, d := range n.deps {
				if dn, ok := placed[d]; ok {
					n.depth = max(n.depth, dn.depth+1)
				}
			}
			placed[gn.Addr] = n
			r.nodes = append(r.nodes, n)
		}
	}
	return r
}

// runbookPath, isDry and isDrill say what runs: as run_started recorded
// it, else as the console asked.
func (r *runState) runbookPath() string {
	if r.Info != nil {
		return r.Info.RunbookPath
	}
	return r.path
}

func (r *runState) isDry() bool {
	if r.Info != nil {
		return r.Info.DryRun
	}
	return r.dry
}

func (r *runState) isDrill() bool {
	if r.Info != nil {
		return r.Info.Drill != nil
	}
	return r.drill
}

func (r *runState) active() bool { return r.live && r.Status == "" }

// waitingAt is the gate (or confirmed step) the live run waits at, "" when
// it waits for no one.
func (r *runState) waitingAt() string {
	if !r.active() {
		return ""
	}
	for _, n := range r.nodes {
		if n.Status == runbook.NodeWaiting {
			return n.Node
		}
	}
	return ""
}

func (r *runState) stop() {
	if r.cancel != nil {
		r.cancel()
	}
}

// apply folds one event into the state.
func (r *runState) apply(e runbook.Event) {
	r.Apply(e)
	for _, n := range r.Nodes()[len(r.nodes):] {
		r.nodes = append(r.nodes, &nodeState{NodeState: n})
	}
}

// teardownLog is the teardown's actions and failures, one line each.
func (r *runState) teardownLog() []string {
	var out []string
	for _, s := range r.Teardown.Steps {
		if s.Failed {
			out = append(out, "✖ "+s.Node+": "+clean(s.Error))
		} else {
			out = append(out, "↺ "+s.Node+": "+clean(s.Action.String()))
		}
	}
	return out
}

// tornDown is how the teardown ended: "" while it has not, "finished", or
// "incomplete: " and what is left.
func (r *runState) tornDown() string {
	switch r.Teardown.Status {
	case "":
		return ""
	case runbook.StatusSucceeded:
		return "finished"
	}
	return "incomplete: " + clean(r.Teardown.Err)
}

// problem is the error, refusal or skip reason the node's state is about.
func problem(n *runbook.NodeState) string {
	switch n.Status {
	case runbook.NodeFailed, runbook.NodeRetrying:
		return n.Error
	case runbook.NodeSkipped, runbook.NodeRefused:
		return n.Reason
	}
	return ""
}

// logLines renders the newest k of the node's log lines (all for k < 0).
func logLines(n *runbook.NodeState, k int) []string {
	logs := n.Logs
	if k >= 0 && len(logs) > k {
		logs = logs[len(logs)-k:]
	}
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.Time.UTC().Format("15:04:05") + " " + clean(l.Line)
	}
	return out
}

// stateWord is the console's word for a node status.
func stateWord(s runbook.NodeStatus) string {
	if s == runbook.NodeSucceeded {
		return "done"
	}
	return string(s)
}

// nodeGlyph renders a node status with a glyph and the word.
// stateGlyph is nodeGlyph for a node's whole state: a step the run's
// cancellation stopped reads cancelled, not failed.
func stateGlyph(st *styles, n *runbook.NodeState) string {
	if n.Status == runbook.NodeFailed && n.Cancelled {
		return st.warn.Render("⊘ cancel  ")
	}
	return nodeGlyph(st, n.Status)
}

func nodeGlyph(st *styles, s runbook.NodeStatus) string {
	switch s {
	case runbook.NodeSucceeded:
		return st.ok.Render("✔ done    ")
	case runbook.NodeApproved:
		return st.ok.Render("✔ approved")
	case runbook.NodeRunning:
		return st.warn.Render("▶ running ")
	case runbook.NodeRetrying:
		return st.warn.Render("↻ retrying")
	case runbook.NodeWaiting:
		return st.bad.Render("⚠ WAITING ")
	case runbook.NodeFailed:
		return st.bad.Render("✖ FAILED  ")
	case runbook.NodeRefused:
		return st.bad.Render("✖ refused ")
	case runbook.NodeSkipped:
		return st.dim.Render("⤼ skipped ")
	case runbook.NodePlanned:
		return "≡ planned "
	}
	return st.dim.Render("· pending ")
}

func runStatusText(st *styles, r *runState) string {
	what := "run"
	switch {
	case r.isDrill() && r.isDry():
		what = "drill plan"
	case r.isDrill():
		what = "drill"
	case r.isDry():
		what = "plan"
	}
	switch r.Status {
	case "":
		if r.live {
			return st.warn.Render("▶ " + what + " in progress")
		}
		if r.isDrill() {
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
	return string(r.Status)
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
			if r.Status == "" {
				r.Status = res.Status
			}
			if res.Err != nil && res.Status != runbook.StatusSucceeded {
				m.setStatus(errorText(res.Err), true)
			}
		}
		r.report = msg.done.report
		if msg.done.err != nil {
			m.setStatus(errorText(msg.done.err), true)
		}
		return tea.Batch(address(viewRuns, m.history.refresh(m.env)), m.estateChanged(r.isDry()))
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
	n, ok := r.Lookup(g.node)
	// Only an end closes the modal: a snapshot older than the question
	// (the node still pending) must not.
	ended := ok && n.Status.Ended()
	if !r.active() || ended {
		m.modal = nil
		m.setStatus("gate "+g.node+" closed: "+describeGateEnd(n, r), n != nil && n.Status != runbook.NodeApproved)
	}
}

func describeGateEnd(n *runbook.NodeState, r *runState) string {
	switch {
	case n != nil && n.Status == runbook.NodeRefused && n.Reason != "":
		return "refused (" + n.Reason + ")"
	case n != nil && n.Status != runbook.NodeWaiting:
		return stateWord(n.Status)
	case r.Status != "":
		return "the run " + string(r.Status)
	}
	return "the run ended"
}
