package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

// runsView is the journal's history: open a run to see its steps,
// durations, outputs and approvals; resume an unfinished one.
type runsView struct {
	m       *Model
	list    *grid
	runs    []journal.Summary
	gen     int
	loading bool
	open    *runState
	nodes   *grid
	loaded  bool
	// report is the open run's drill measurements (nil: not a drill).
	report *drill.Report
}

func newRuns(m *Model) *runsView {
	return &runsView{
		m: m,
		list: newGrid(
			column{title: "STATUS", width: 13},
			column{title: "RUN", width: 23},
			column{title: "RUNBOOK", min: 12},
			column{title: "STARTED", width: 11},
			column{title: "TOOK", width: 7, right: true},
			column{title: "KIND", width: 4},
		),
		nodes: newGrid(
			column{title: "STATE", width: 10},
			column{title: "NODE", min: 22},
			column{title: "TOOK", width: 7, right: true},
			column{title: "BY / OUTPUTS", min: 10},
		),
	}
}

func (v *runsView) title() string   { return "Runs" }
func (v *runsView) command() string { return "runs" }
func (v *runsView) busy() bool      { return v.loading }
func (v *runsView) keys(e *env) []key.Binding {
	if v.open != nil {
		return []key.Binding{e.keys.Resume, e.keys.Back}
	}
	return []key.Binding{e.keys.Enter, e.keys.Resume, e.keys.Refresh, e.keys.Sort}
}
func (v *runsView) capturing() bool { return false }

func (v *runsView) activate(e *env) tea.Cmd {
	if !v.loaded && !v.loading {
		return v.refresh(e)
	}
	return nil
}

type historyMsg struct {
	gen  int
	runs []journal.Summary
	err  error
}

type openRunMsg struct {
	id     string
	events []runbook.Event
	err    error
}

func (v *runsView) refresh(e *env) tea.Cmd {
	svc := e.opts.Runs
	if svc == nil {
		v.loaded = true
		return nil
	}
	v.gen++
	v.loading = true
	gen := v.gen
	return func() tea.Msg {
		runs, err := svc.History()
		return historyMsg{gen: gen, runs: runs, err: err}
	}
}

// setHistory replaces the listed runs.
func (v *runsView) setHistory(runs []journal.Summary) {
	v.runs, v.loaded = runs, true
	v.list.setSource(len(runs), func(i int) []string {
		s := v.runs[i]
		kind := "run"
		if s.DryRun {
			kind = "plan"
		}
		st := runSummaryState(s)
		took := ""
		if !s.Started.IsZero() && !s.LastEvent.IsZero() {
			took = age(s.LastEvent.Sub(s.Started))
		}
		return []string{st, s.ID, strings.TrimSuffix(filepath.Base(s.RunbookPath), ".hcl"), s.Started.UTC().Format("01-02 15:04"), took, kind}
	})
}

func runSummaryState(s journal.Summary) string {
	if s.Err != nil {
		return "? unreadable"
	}
	switch s.Status {
	case runbook.StatusSucceeded:
		return "✔ succeeded"
	case runbook.StatusFailed:
		return "✖ failed"
	case runbook.StatusRefused:
		return "✖ refused"
	case runbook.StatusCancelled:
		return "✖ cancelled"
	case journal.StatusInterrupted:
		return "! interrupted"
	}
	return "· " + string(s.Status)
}

func (v *runsView) setFilter(f string) {
	if v.open != nil {
		v.nodes.setFilter(f)
	} else {
		v.list.setFilter(f)
	}
}

func (v *runsView) back(e *env) (tea.Cmd, bool) {
	if v.open == nil {
		return nil, false
	}
	v.open = nil
	return nil, true
}

func (v *runsView) update(e *env, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case historyMsg:
		if msg.gen != v.gen {
			return nil
		}
		v.loading = false
		if msg.err != nil {
			v.loaded = true
			return status(msg.err.Error(), true)
		}
		v.setHistory(msg.runs)
		return nil
	case resumeMsg:
		return v.resume(e, msg)
	case openRunMsg:
		v.loading = false
		if msg.err != nil {
			return status(msg.err.Error(), true)
		}
		r := newRunState(nil, false)
		r.id = msg.id
		for _, ev := range msg.events {
			r.apply(ev)
		}
		v.open = r
		v.nodes.top()
		v.nodes.setSource(len(r.nodes), func(i int) []string {
			n := r.nodes[i]
			took := ""
			if !n.started.IsZero() && !n.finished.IsZero() {
				took = age(n.finished.Sub(n.started))
			}
			extra := n.outputs
			if n.actor != "" {
				extra = "by " + n.actor
			}
			if n.err != "" {
				extra = n.err
			}
			return []string{ansiStrip(nodeGlyph(&e.st, n.state)), n.addr, took, extra}
		})
		return nil
	}
	k, isKey := msg.(tea.KeyPressMsg)
	g := v.list
	if v.open != nil {
		g = v.nodes
	}
	if listKeys(e, g, msg) || !isKey {
		return nil
	}
	switch {
	case key.Matches(k, e.keys.Enter) && v.open == nil:
		i := v.list.selected()
		if i < 0 || e.opts.Runs == nil {
			return nil
		}
		id, svc := v.runs[i].ID, e.opts.Runs
		v.loading = true
		return func() tea.Msg {
			evs, err := svc.Events(id)
			return openRunMsg{id: id, events: evs, err: err}
		}
	case key.Matches(k, e.keys.Resume):
		id, isDrill := "", false
		if v.open != nil {
			id, isDrill = v.open.id, v.report != nil
		} else if i := v.list.selected(); i >= 0 {
			id, isDrill = v.runs[i].ID, v.runs[i].Drill
		}
		if id == "" || e.opts.Runs == nil {
			return nil
		}
		if isDrill {
			return status("a drill is not resumed: open it and press T to finish its teardown", true)
		}
		svc := e.opts.Runs
		return func() tea.Msg { return checkResume(svc, id) }
	}
	return nil
}

// resumeMsg is what a resume needs, read off the loop: the runbook and
// the variables the run recorded.
type resumeMsg struct {
	id       string
	rb       *runbook.Runbook
	recorded map[string]string
	missing  []string
	drill    bool
	err      error
}

func checkResume(svc RunService, id string) tea.Msg {
	evs, err := svc.Events(id)
	if err != nil {
		return resumeMsg{id: id, err: err}
	}
	msg := resumeMsg{id: id}
	path := ""
	for _, ev := range evs {
		if ev.Kind == runbook.RunStarted && ev.Run != nil {
			path, msg.recorded, msg.drill = ev.Run.RunbookPath, ev.Run.Variables, ev.Run.Drill != nil
			break
		}
	}
	if msg.drill || path == "" {
		return msg
	}
	msg.rb, msg.err = svc.Load(path)
	if msg.err == nil {
		_, msg.missing = ResumeVars(msg.rb, msg.recorded, nil)
	}
	return msg
}

// resume starts the resume checked by msg, or asks for the sensitive
// variables the journal could not keep.
func (v *runsView) resume(e *env, msg resumeMsg) tea.Cmd {
	switch {
	case msg.drill:
		return status("a drill is not resumed: open it and press T to finish its teardown", true)
	case msg.err != nil && msg.rb == nil && msg.recorded != nil:
		return status(fmt.Sprintf("resume %s: the variable form cannot be shown: %v", msg.id, msg.err), true)
	case msg.err != nil:
		return status(fmt.Sprintf("resume %s: %v", msg.id, msg.err), true)
	case len(msg.missing) > 0:
		for i, vw := range v.m.views {
			if rv, ok := vw.(*runbooksView); ok {
				cmd := rv.openResume(e, msg)
				if rv.level == 1 {
					v.m.active = i
					return tea.Batch(cmd, status("resume "+msg.id+": give the sensitive variables again", false))
				}
				return cmd
			}
		}
		return status(fmt.Sprintf("resume %s: the variable form cannot be shown to ask for %s", msg.id, strings.Join(msg.missing, ", ")), true)
	}
	cmd := v.m.startRun(nil, nil, false, msg.id)
	if r := v.m.run; r != nil && r.id == msg.id && r.active() {
		return tea.Batch(cmd, v.m.showRun())
	}
	return cmd
}

func (v *runsView) render(e *env, w, h int) string {
	st := &e.st
	if e.opts.Runs == nil {
		return st.title.Render("Runs") + "\n" + st.dim.Render("  no journal configured")
	}
	if v.open == nil {
		head := st.title.Render("Runs") + " (journal)  " + v.list.position() + "  " + filterNote(v.list)
		if !v.loaded {
			return head + "\n" + st.dim.Render("  reading the journal…")
		}
		return head + "\n" + v.list.view(st, w, h-1)
	}
	r := v.open
	var b strings.Builder
	el := ""
	if !r.started.IsZero() && !r.ended.IsZero() {
		el = " in " + age(r.ended.Sub(r.started))
	}
	fmt.Fprintf(&b, "%s  %s  %s%s\n", st.title.Render(strings.TrimSuffix(filepath.Base(r.path), ".hcl")), r.id, runStatusText(st, r), el)
	if r.err != "" {
		b.WriteString(st.statusErr.Render(cell("✖ "+r.err, w, false)) + "\n")
	}
	if r.outputs != "" && r.outputs != "null" {
		b.WriteString(cell("outputs "+r.outputs, w, false) + "\n")
	}
	used := strings.Count(b.String(), "\n")
	return b.String() + v.nodes.view(st, w, h-used)
}
