package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
)

// runsView is the journal's history: open a run to see its steps,
// durations, outputs and approvals; resume an unfinished one.
type runsView struct {
	list    *grid
	runs    []journal.Summary
	gen     int
	loading bool
	open    *runState
	nodes   *grid
	loaded  bool
	// report is the open run's drill measurements (nil: not a drill).
	report *drill.Report
	// tearing: a teardown of the open drill is under way.
	tearing bool
	// confirming is the resume checked and waiting for a y (nil: none).
	confirming *resumeMsg
	// step shows one step of the open run whole (enter): its outputs,
	// error, changes and log.
	step *pager
}

// teardownMsg is one event of a teardown the Runs view started, or
// (event nil) its end. next reads what follows an event.
type teardownMsg struct {
	id     string
	event  *runbook.Event
	report *drill.Report
	err    error
	next   tea.Cmd
}

// teardownPending reports whether the open drill's teardown did not
// finish, so T is offered.
func (v *runsView) teardownPending() bool {
	return v.report != nil && v.report.Teardown.Status != "finished" && !v.tearing
}

// teardown finishes the open drill's teardown; its actions show as they
// are done.
func (v *runsView) teardown(e *env) tea.Cmd {
	svc := e.opts.Runs
	switch {
	case svc == nil:
		return status("drills cannot be torn down here: no engine configured", true)
	case e.opts.ReadOnly:
		return status("read-only console: the teardown is disabled (drconsole drill --teardown "+v.open.id+" finishes it)", true)
	case v.tearing:
		return status("the teardown is under way", false)
	case !v.teardownPending():
		return status("the teardown of this drill already finished", false)
	}
	v.tearing = true
	id := v.open.id
	return tea.Batch(status("tearing down drill "+id+"…", false), streamTeardown(e.ctx, svc, id))
}

// streamTeardown returns the command that starts the teardown of drill id
// and answers with its first event (or its end); each event's next reads
// the one after, so the teardown's events come back in order to the view
// that asked, one message at a time.
func streamTeardown(ctx context.Context, svc *runner.Service, id string) tea.Cmd {
	stream := make(chan teardownMsg)
	var next tea.Cmd
	next = func() tea.Msg {
		msg, ok := <-stream
		if !ok {
			return nil // the console closed before the teardown ended
		}
		if msg.event != nil {
			msg.next = next
		}
		return msg
	}
	put := func(msg teardownMsg) {
		select {
		case stream <- msg:
		case <-ctx.Done():
		}
	}
	return func() tea.Msg {
		go func() {
			defer close(stream)
			td, err := svc.Teardown(ctx, id, runbook.SinkFunc(func(ev runbook.Event) error {
				put(teardownMsg{id: id, event: &ev})
				return nil
			}))
			end := teardownMsg{id: id, err: err}
			if td != nil {
				end.report = td.Report
			}
			put(end)
		}()
		return next()
	}
}

func newRuns() *runsView {
	return &runsView{
		list: newGrid(
			column{title: "STATUS", width: 13},
			column{title: "RUN", width: 23},
			column{title: "RUNBOOK", min: 12},
			column{title: "STARTED", width: 11},
			column{title: "TOOK", width: 7, right: true},
			column{title: "KIND", width: 5},
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
	if v.confirming != nil {
		return []key.Binding{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "resume")),
			key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "do not"))}
	}
	if v.step != nil {
		return []key.Binding{e.keys.Back, e.keys.Up, e.keys.Down, e.keys.PageDown}
	}
	if v.open != nil {
		if v.report != nil {
			if v.teardownPending() {
				return []key.Binding{e.keys.Teardown, e.keys.Back}
			}
			return []key.Binding{e.keys.Back}
		}
		return []key.Binding{e.keys.Resume, e.keys.Back}
	}
	if i := v.list.selected(); i >= 0 && i < len(v.runs) && v.runs[i].Drill {
		// A drill is not resumed.
		return []key.Binding{e.keys.Enter, e.keys.Refresh, e.keys.Sort}
	}
	return []key.Binding{e.keys.Enter, e.keys.Resume, e.keys.Refresh, e.keys.Sort}
}

// capturing: a resume waits for its y, which no other key may take.
func (v *runsView) capturing() bool { return v.confirming != nil }

func (v *runsView) helpKeys(e *env) []key.Binding {
	return []key.Binding{e.keys.Enter, e.keys.Resume, e.keys.Teardown, e.keys.Back, e.keys.Refresh, e.keys.Sort}
}

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
	// report is a drill's measurements; reportErr why they are missing.
	report    *drill.Report
	reportErr error
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
		st := runSummaryState(s)
		took := ""
		if !s.Started.IsZero() && !s.LastEvent.IsZero() {
			took = age(s.LastEvent.Sub(s.Started))
		}
		return []string{st, s.ID, runWhat(s.RunbookPath, s.Variables), s.Started.UTC().Format("01-02 15:04"), took, runKind(s)}
	})
}

// stepPager is one step of a run in full.
func stepPager(n *runbook.NodeState) *pager {
	p := &pager{title: n.Node}
	add := func(f string, a ...any) { p.text = append(p.text, fmt.Sprintf(f, a...)) }
	line := string(n.Status)
	if n.Cancelled {
		line = "cancelled"
	}
	if d := n.Took(); d > 0 {
		line += "  took " + age(d)
	}
	if n.Waited > 0 {
		line += ", waited " + age(n.Waited) + " for a person"
	}
	if n.Attempt > 1 {
		line += fmt.Sprintf("  %d attempts", n.Attempt)
	}
	add("%s", line)
	if n.Actor != "" {
		add("answered by %s", n.Actor)
	}
	if n.Error != "" {
		add("✖ %s", n.Error)
	}
	if n.Reason != "" {
		add("%s", n.Reason)
	}
	if out := string(n.Outputs); out != "" && out != "null" {
		add("outputs %s", out)
	}
	if len(n.Changes) > 0 {
		add("")
		add("changes (%d):", len(n.Changes))
		for _, c := range n.Changes {
			add("  • %s", c.String())
		}
	}
	if len(n.Logs) > 0 {
		add("")
		add("log (%d of %d lines):", len(n.Logs), n.LogCount)
		for _, l := range n.Logs {
			add("  %s %s", l.Time.UTC().Format("15:04:05"), l.Line)
		}
	}
	return p
}

// runKind is run, plan or drill. A plan changed nothing, a drill's plan
// neither: both are plans.
func runKind(s journal.Summary) string {
	switch {
	case s.DryRun:
		return "plan"
	case s.Drill:
		return "drill"
	}
	return "run"
}

// runWhat names what a run ran: its runbook, and for the runbooks the
// console writes itself (every roll back is console-rollback) what it
// acted on, from the run's variables.
func runWhat(path string, vars map[string]string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".hcl")
	switch name {
	case "console-rollback":
		if vars["key"] != "" {
			return fmt.Sprintf("roll back %s ← %s", vars["key"], short(vars["version_id"]))
		}
	case "console-restore":
		if arn := vars["recovery_point_arn"]; arn != "" {
			return "restore " + arn[strings.LastIndexAny(arn, ":/")+1:] + " from " + vars["vault"]
		}
	}
	return name
}

// varsLine is the run's variables on one line, in name order.
func varsLine(vars map[string]string) string {
	names := sortedKeys(vars)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + vars[n]
	}
	return strings.Join(parts, "  ")
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

func (v *runsView) filterGrid() *grid {
	if v.open != nil {
		return v.nodes
	}
	return v.list
}

func (v *runsView) back(e *env) (tea.Cmd, bool) {
	if v.step != nil {
		v.step = nil
		return nil, true
	}
	if v.open == nil {
		return nil, false
	}
	v.open, v.report = nil, nil
	return nil, true
}

func (v *runsView) update(e *env, msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && v.step != nil {
		if !v.step.key(e, k) {
			v.step = nil
		}
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && v.open != nil && key.Matches(k, e.keys.Enter) {
		if i := v.nodes.selected(); i >= 0 && i < len(v.open.nodes) {
			v.step = stepPager(v.open.nodes[i].NodeState)
		}
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && v.confirming != nil {
		c := *v.confirming
		v.confirming = nil
		if k.String() != "y" {
			return status("resume of "+c.id+" not started", false)
		}
		return ask(startRunMsg{resumeID: c.id, show: true})
	}
	switch msg := msg.(type) {
	case historyMsg:
		if msg.gen != v.gen {
			return nil
		}
		v.loading = false
		if msg.err != nil {
			v.loaded = true
			return status(errorText(msg.err), true)
		}
		v.setHistory(msg.runs)
		return nil
	case resumeMsg:
		return v.resume(msg)
	case openRunMsg:
		v.loading = false
		if msg.err != nil {
			return status(errorText(msg.err), true)
		}
		r := newRunState(nil, false)
		r.id = msg.id
		for _, ev := range msg.events {
			r.apply(ev)
		}
		v.open, v.report = r, msg.report
		v.nodes.top()
		timing := map[string]*drill.StepTiming{}
		if rep := msg.report; rep != nil {
			rank := map[string]int{}
			for i, st := range rep.Steps {
				timing[st.Node], rank[st.Node] = st, i
			}
			// The report lists the steps in the graph's order, which
			// parallel branches do not keep in the journal.
			sort.SliceStable(r.nodes, func(i, j int) bool {
				ri, iok := rank[r.nodes[i].Node]
				rj, jok := rank[r.nodes[j].Node]
				return iok && (!jok || ri < rj)
			})
		}
		v.nodes.setSource(len(r.nodes), func(i int) []string {
			n := r.nodes[i]
			took := ""
			if !n.Started.IsZero() && !n.Finished.IsZero() {
				took = age(n.Took())
			}
			addr := n.Node
			if v.report != nil {
				// The critical path is what the RTO is made of.
				addr = "  " + addr
				if st := timing[n.Node]; st != nil {
					took = age(st.Duration)
					if st.Critical {
						addr = "◆ " + n.Node
					}
				}
			}
			// Who approved it and what it returned: a confirmed step
			// has both.
			var extra []string
			if n.Actor != "" {
				extra = append(extra, "by "+n.Actor)
			}
			// Time waiting for people is part of TOOK, said apart.
			if n.Waited > 0 {
				extra = append(extra, "waited "+age(n.Waited))
			}
			if out := string(n.Outputs); out != "" && out != "null" {
				extra = append(extra, out)
			}
			if p := problem(n.NodeState); p != "" {
				extra = append(extra, p)
			}
			return []string{ansiStrip(stateGlyph(&e.st, n.NodeState)), addr, took, strings.Join(extra, "  ")}
		})
		if msg.reportErr != nil {
			return status(errorText(msg.reportErr), true)
		}
		return nil
	case teardownMsg:
		if v.open == nil || v.open.id != msg.id {
			// Read on, so the teardown is never held waiting.
			return msg.next
		}
		if msg.event != nil {
			v.open.apply(*msg.event)
			return msg.next
		}
		v.tearing = false
		if msg.report != nil {
			v.report = msg.report
		}
		if msg.err != nil {
			return status(errorText(msg.err), true)
		}
		return status(fmt.Sprintf("teardown of drill %s finished: %d %s", msg.id, len(v.report.Teardown.Actions), plural(len(v.report.Teardown.Actions), "action", "actions")), false)
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
		id, svc, isDrill := v.runs[i].ID, e.opts.Runs, v.runs[i].Drill
		v.loading = true
		return func() tea.Msg {
			evs, err := svc.Events(id)
			msg := openRunMsg{id: id, events: evs, err: err}
			if isDrill && err == nil {
				msg.report, msg.reportErr = svc.DrillReport(id)
			}
			return msg
		}
	case key.Matches(k, e.keys.Teardown) && v.open != nil && v.report != nil:
		return v.teardown(e)
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
	err      error
}

// checkResume applies the run service's refusal rules to a resume of
// id, off the loop, and reads what the resume form needs.
func checkResume(svc *runner.Service, id string) tea.Msg {
	r, err := svc.CheckResume(id, "")
	if err != nil {
		return resumeMsg{id: id, err: err}
	}
	return resumeMsg{id: id, rb: r.Runbook, recorded: r.Recorded, missing: r.Missing}
}

// resume asks the root to start the resume checked by msg and show it,
// or to open the form that asks for the sensitive variables the journal
// could not keep.
func (v *runsView) resume(msg resumeMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		return status(errorText(msg.err), true)
	case len(msg.missing) > 0:
		return ask(openResumeMsg(msg))
	}
	// R acts only once asked: a resume runs what the run left, gates
	// and all.
	v.confirming = &msg
	name := ""
	if msg.rb != nil {
		name = " of " + strings.TrimSuffix(filepath.Base(msg.rb.Path), ".hcl")
	}
	return status("resume "+msg.id+name+"? what it finished is kept, the rest runs: y resumes, any other key does not", false)
}

func (v *runsView) render(e *env, w, h int) string {
	st := &e.st
	if e.opts.Runs == nil {
		return st.title.Render("Runs") + "\n" + st.dim.Render("  no journal configured")
	}
	if v.open == nil {
		head := st.title.Render("Runs") + " (journal)  " + v.list.position() + "  " + filterNote(v.list)
		used := 1
		if warn := stateDirWarning(e); warn != "" {
			// Wrapped whole: the fix is at the end of it.
			for _, l := range wrapWhole("⚠ "+warn, w) {
				head += "\n" + st.warn.Render(l)
				used++
			}
		}
		if !v.loaded {
			return head + "\n" + st.dim.Render("  reading the journal…")
		}
		return head + "\n" + v.list.view(st, w, h-used)
	}
	if v.step != nil {
		return v.step.render(e, w, h)
	}
	r := v.open
	var b strings.Builder
	el := ""
	if !r.Started.IsZero() && !r.Ended.IsZero() {
		el = " in " + age(r.Ended.Sub(r.Started))
	}
	fmt.Fprintf(&b, "%s  %s  %s%s\n", st.title.Render(strings.TrimSuffix(filepath.Base(r.runbookPath()), ".hcl")), r.id, runStatusText(st, r), el)
	// The run's error and outputs whole, wrapped: what is cut says
	// nothing.
	if r.Err != "" {
		for _, l := range wrapWhole("✖ "+r.Err, w) {
			b.WriteString(st.statusErr.Render(l) + "\n")
		}
	}
	if out := string(r.Outputs); out != "" && out != "null" {
		for _, l := range wrapWhole("outputs "+out, w) {
			b.WriteString(l + "\n")
		}
	}
	if r.Info != nil && len(r.Info.Variables) > 0 {
		// Whole, wrapped: a key or an ARN cut short says nothing.
		for _, l := range wrapWhole("variables  "+varsLine(r.Info.Variables), w) {
			b.WriteString(st.dim.Render(l) + "\n")
		}
	}
	if v.report != nil {
		for _, l := range drillLines(st, v.report, v.open, v.tearing, true, h) {
			b.WriteString(cell(l, w, false) + "\n")
		}
	}
	used := strings.Count(b.String(), "\n")
	return b.String() + v.nodes.view(st, w, h-used)
}

// teardownLines show a live drill's teardown as it happens.
func teardownLines(st *styles, r *runState, h int) []string {
	torn := r.tornDown()
	if len(r.Teardown.Steps) == 0 && torn == "" {
		return nil
	}
	head := st.warn.Render("▶ teardown in progress")
	switch {
	case torn == "finished":
		head = st.ok.Render("✔ teardown finished")
	case torn != "":
		head = st.bad.Render("✖ teardown " + torn)
	}
	acts := r.teardownLog()
	if room := max(h/4, 1); len(acts) > room {
		acts = acts[len(acts)-room:]
	}
	lines := []string{head}
	for _, a := range acts {
		lines = append(lines, "  "+a)
	}
	return lines
}

// drillLines are a drill's measurements: the objectives met or not, the
// critical path, the faults, and what its teardown did.
// marked says the step list below marks the critical path with ◆.
func drillLines(st *styles, rep *drill.Report, r *runState, tearing, marked bool, h int) []string {
	objective := func(label string, o drill.Objective) string {
		verdict := st.ok.Render("✔ PASS")
		switch {
		case !o.Measured:
			verdict = st.bad.Render("✖ FAIL (not measured)")
		case !o.Pass:
			verdict = st.bad.Render("✖ FAIL")
		}
		s := label + " " + verdict
		if o.Measured {
			s += " " + age(o.Achieved)
		}
		if o.Objective > 0 {
			s += " of " + age(o.Objective)
		} else {
			s += ", no objective"
		}
		return s
	}
	lines := []string{st.title.Render("DRILL") + "  " + objective("RTO", rep.RTO) + "   " + objective("RPO", rep.RPO)}
	path := "critical path "
	if marked {
		path += "(◆) "
	}
	path += age(rep.CriticalDuration) + ": " + strings.Join(rep.CriticalPath, " → ")
	if len(rep.CriticalPath) == 0 {
		path = "critical path: none measured"
	}
	lines = append(lines, path)
	if len(rep.Faults) > 0 {
		lines = append(lines, "faults injected: "+strings.Join(rep.Faults, ", "))
	} else {
		lines = append(lines, "faults injected: none")
	}
	var td string
	switch status := rep.Teardown.Status; {
	case tearing:
		td = st.warn.Render("▶ teardown in progress")
	case status == "finished":
		td = st.ok.Render("✔ teardown finished")
	case status == "not run":
		td = st.bad.Render("✖ teardown NOT RUN") + " (T runs it)"
	default:
		td = st.bad.Render("✖ teardown "+strings.ToUpper(status)) + " (T finishes it)"
	}
	n := len(rep.Teardown.Actions)
	lines = append(lines, fmt.Sprintf("%s: %d %s", td, n, plural(n, "action", "actions")))
	acts := r.teardownLog()
	if len(acts) == 0 {
		for _, a := range rep.Teardown.Actions {
			acts = append(acts, "↺ "+a.Node+": "+clean(a.Action.String()))
		}
		for _, f := range rep.Teardown.Errors {
			acts = append(acts, "✖ "+f.Node+": "+clean(f.Error))
		}
	}
	// The newest actions show; the graph keeps at least half the body.
	if room := max(h/2-len(lines)-2, 1); len(acts) > room {
		acts = append([]string{fmt.Sprintf("… %d earlier", len(acts)-room+1)}, acts[len(acts)-room+1:]...)
	}
	for _, a := range acts {
		lines = append(lines, "  "+a)
	}
	return lines
}

// stateDirWarning is why the state directory is unsafe for journals, ""
// when it is not: the console shows it over the runs it lists.
func stateDirWarning(e *env) string {
	if e.opts.Runs == nil || e.opts.Runs.Store == nil {
		return ""
	}
	return e.opts.Runs.Store.Warning
}
