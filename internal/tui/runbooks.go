package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// runbooksView lists the runbooks, fills a runbook's variables in a form,
// shows its plan (a dry-run), and follows a run live: a graph of steps
// with state, elapsed time and progress bars, and each step's log.
type runbooksView struct {
	level   int // 0 list, 1 form, 2 plan / run
	list    *grid
	files   []rbFile
	gen     int
	loading bool

	rb     *runbook.Runbook
	fields []field
	focus  int
	// resumeID is the run the form resumes ("": the form plans a new run).
	resumeID string
	// drill: the form, plan and run are a game-day drill's.
	drill bool

	nodes  *grid
	cancel bool // asking to cancel the run
	// want is a runbook to open once the list is read.
	want *openRunbookMsg
	// follow keeps the cursor on the step in progress until the operator
	// moves it.
	follow bool
	// formErr is why the form's plan did not start, shown in the form in
	// full until the next try.
	formErr string
	// typed are the values typed into each runbook's form (by path),
	// sensitive ones left out: opening the form again starts from them
	// while the console is open.
	typed map[string]map[string]string
}

type rbFile struct {
	path string
	rb   *runbook.Runbook
	err  error
}

type field struct {
	name, desc, typ, value string
	required               bool
	// sensitive values are masked on screen.
	sensitive bool
}

func newRunbooks() *runbooksView {
	v := &runbooksView{}
	v.list = newGrid(
		column{title: "RUNBOOK", width: 26},
		column{title: "STEPS", width: 5, right: true},
		column{title: "DESCRIPTION", min: 20},
	)
	v.nodes = newGrid(
		column{title: "STATE", width: 10},
		column{title: "NODE", min: 22},
		column{title: "ELAPSED", width: 7, right: true},
		column{title: "PROGRESS", width: 30},
	)
	return v
}

func (v *runbooksView) title() string   { return "Runbooks" }
func (v *runbooksView) command() string { return "runbooks" }
func (v *runbooksView) busy() bool      { return v.loading }
func (v *runbooksView) keys(e *env) []key.Binding {
	switch v.level {
	case 1:
		what := "plan"
		switch {
		case v.resumeID != "":
			what = "resume"
		case v.drill:
			what = "plan the drill"
		}
		return []key.Binding{key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab/↓", "next field")),
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", what)), e.keys.Back}
	case 2:
		if r := e.liveRun(); r != nil && r.active() {
			return []key.Binding{e.keys.Cancel, e.keys.Up, e.keys.Down}
		}
		if v.rb == nil {
			// A run opened from elsewhere: there is no runbook to run.
			return []key.Binding{e.keys.Back, e.keys.Up, e.keys.Down}
		}
		if v.drill {
			return []key.Binding{key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "run the drill")), e.keys.Back, e.keys.Up, e.keys.Down}
		}
		return []key.Binding{e.keys.Run, e.keys.Back, e.keys.Up, e.keys.Down}
	}
	return []key.Binding{e.keys.Enter, e.keys.Drill, e.keys.Refresh}
}

func (v *runbooksView) helpKeys(e *env) []key.Binding {
	return []key.Binding{e.keys.Enter, e.keys.Drill, key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "run the runbook planned")),
		e.keys.Cancel, e.keys.Back, e.keys.Refresh}
}

func (v *runbooksView) capturing() bool { return v.level == 1 || v.cancel }

func (v *runbooksView) activate(e *env) tea.Cmd {
	if v.files == nil && !v.loading {
		return v.refresh(e)
	}
	return nil
}

type runbookListMsg struct {
	gen   int
	files []rbFile
	err   error
}

// refresh reads and decodes every runbook in the directory off the loop.
func (v *runbooksView) refresh(e *env) tea.Cmd {
	if v.level != 0 {
		return nil
	}
	v.gen++
	v.loading = true
	gen, dir, svc := v.gen, e.opts.RunbooksDir, e.opts.Runs
	return func() tea.Msg {
		paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
		if err == nil && len(paths) == 0 {
			if _, serr := os.Stat(dir); serr != nil {
				err = fmt.Errorf("runbooks directory %s: %w", dir, serr)
			}
		}
		sort.Strings(paths)
		var files []rbFile
		for _, p := range paths {
			f := rbFile{path: p}
			if svc != nil {
				f.rb, _, f.err = svc.Load(p)
			}
			files = append(files, f)
		}
		return runbookListMsg{gen: gen, files: files, err: err}
	}
}

func (v *runbooksView) filterGrid() *grid {
	switch v.level {
	case 0:
		return v.list
	case 2:
		return v.nodes
	}
	return nil
}

func (v *runbooksView) back(e *env) (tea.Cmd, bool) {
	if v.level == 0 {
		return nil, false
	}
	if r := e.liveRun(); v.level == 2 && r != nil && r.active() {
		return status("the run is in progress: ctrl+x cancels it", false), true
	}
	v.level--
	if v.level == 1 && len(v.fields) == 0 {
		v.level = 0
	}
	return nil, true
}

func (v *runbooksView) update(e *env, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case runbookListMsg:
		if msg.gen != v.gen {
			return nil
		}
		v.loading = false
		v.files = msg.files
		if v.files == nil {
			v.files = []rbFile{}
		}
		v.list.setSource(len(v.files), func(i int) []string {
			f := v.files[i]
			name := strings.TrimSuffix(filepath.Base(f.path), ".hcl")
			switch {
			case f.err != nil:
				return []string{name, "", "✖ invalid: " + f.err.Error()}
			case f.rb == nil:
				return []string{name, "", ""}
			}
			return []string{name, fmt.Sprint(len(f.rb.Nodes)), f.rb.Description}
		})
		if msg.err != nil {
			return status(errorText(msg.err), true)
		}
		if w := v.want; w != nil {
			v.want = nil
			return v.openByName(e, *w)
		}
		return nil
	case tea.KeyPressMsg:
		switch v.level {
		case 0:
			return v.listKey(e, msg)
		case 1:
			return v.formKey(e, msg)
		case 2:
			return v.runKey(e, msg)
		}
	case tea.PasteMsg:
		// Values (a time, an ARN) may be pasted into the form; gates
		// never take pastes.
		if v.level == 1 && len(v.fields) > 0 {
			v.fields[v.focus].value += strings.TrimSpace(strings.ReplaceAll(msg.Content, "\n", ""))
		}
	case scrollMsg:
		if v.level == 0 {
			listKeys(e, v.list, msg)
		} else {
			listKeys(e, v.nodes, msg)
		}
	}
	return nil
}

func (v *runbooksView) listKey(e *env, k tea.KeyPressMsg) tea.Cmd {
	if listKeys(e, v.list, k) {
		return nil
	}
	isDrill := key.Matches(k, e.keys.Drill)
	if !key.Matches(k, e.keys.Enter) && !isDrill {
		return nil
	}
	if isDrill && e.opts.ReadOnly {
		return status("read-only console: drills are disabled", true)
	}
	i := v.list.selected()
	if i < 0 {
		return nil
	}
	f := v.files[i]
	if f.err != nil {
		return status(f.err.Error(), true)
	}
	if f.rb == nil {
		return status("runbooks cannot be opened here: no engine configured", true)
	}
	v.setForm(f.rb, runDefaults(e))
	v.drill = isDrill
	v.level = 1
	if len(v.fields) == 0 {
		return v.plan(e)
	}
	return nil
}

// setForm fills the form with rb's variables and their defaults: the run
// service's (the estate's names) over the runbook's own.
func (v *runbooksView) setForm(rb *runbook.Runbook, defaults map[string]string) {
	v.rb, v.fields, v.focus, v.resumeID, v.drill = rb, nil, 0, "", false
	for _, x := range rb.Variables {
		fl := field{name: x.Name, desc: x.Description, typ: x.Type.FriendlyName(), required: !x.HasDefault, sensitive: x.Sensitive}
		if x.HasDefault {
			fl.value = defaultText(x.Default)
		}
		if d, ok := defaults[x.Name]; ok {
			fl.value, fl.required = d, false
		}
		if t, ok := v.typed[rb.Path][x.Name]; ok && !x.Sensitive {
			fl.value = t
		}
		v.fields = append(v.fields, fl)
	}
}

// isTimeField reports a variable that holds a time (restore_to, to_time,
// incident_at...), by its name: those the form lets you give as now or
// an offset.
func isTimeField(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, "_to") || strings.HasSuffix(n, "time") || strings.HasSuffix(n, "_at")
}

// resolveTimes turns the time fields given as "now" or an offset ("-1h",
// "-30m", "-2d") into RFC 3339 on the console's clock, once, in the form:
// the plan and the run it leads to then use the same instant, which the
// operator sees.
func (v *runbooksView) resolveTimes(now time.Time) error {
	for i := range v.fields {
		f := &v.fields[i]
		if !isTimeField(f.name) || f.value == "" {
			continue
		}
		t, ok, err := relativeTime(f.value, now)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if ok {
			f.value = t.UTC().Format(time.RFC3339)
		}
	}
	return nil
}

// relativeTime reads "now" or a signed offset from now ("-1h", "+30m",
// "-2d"); ok is false for anything else (an RFC 3339 time, left as
// typed).
func relativeTime(s string, now time.Time) (t time.Time, ok bool, err error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "now") {
		return now, true, nil
	}
	if s == "" || s[0] != '-' && s[0] != '+' {
		return time.Time{}, false, nil
	}
	d, err := parseOffset(s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is neither now, an offset such as -1h or -2d, nor an RFC 3339 time", s)
	}
	return now.Add(d), true, nil
}

// parseOffset is time.ParseDuration with days ("-2d", "-1d12h").
func parseOffset(s string) (time.Duration, error) {
	sign := time.Duration(1)
	if s[0] == '-' {
		sign = -1
	}
	rest := s[1:]
	var days time.Duration
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, err
		}
		days, rest = time.Duration(n)*24*time.Hour, rest[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, err
		}
	}
	if days == 0 && d == 0 && rest == "" {
		return 0, fmt.Errorf("empty offset")
	}
	return sign * (days + d), nil
}

// remember keeps what the form holds for the next time it opens.
func (v *runbooksView) remember() {
	if v.rb == nil || v.resumeID != "" {
		return
	}
	if v.typed == nil {
		v.typed = map[string]map[string]string{}
	}
	m := map[string]string{}
	for _, f := range v.fields {
		if !f.sensitive {
			m[f.name] = f.value
		}
	}
	v.typed[v.rb.Path] = m
}

// runDefaults are the run service's variable defaults, if any.
func runDefaults(e *env) map[string]string {
	if e.opts.Runs == nil {
		return nil
	}
	return e.opts.Runs.Defaults
}

// openResume asks again for the sensitive variables of a run to resume,
// the form pre-filled with the values it recorded; opened is false when
// the form cannot open now.
func (v *runbooksView) openResume(e *env, msg resumeMsg) (cmd tea.Cmd, opened bool) {
	if r := e.liveRun(); r != nil && r.active() {
		return status("a run is in progress: "+msg.id+" can be resumed when it ends", true), false
	}
	v.setForm(msg.rb, runDefaults(e))
	v.resumeID = msg.id
	missing := map[string]bool{}
	for _, n := range msg.missing {
		missing[n] = true
	}
	first := -1
	for i := range v.fields {
		f := &v.fields[i]
		switch {
		case missing[f.name]:
			f.value, f.required = "", true
			if first < 0 {
				first = i
			}
		default:
			if val, ok := msg.recorded[f.name]; ok {
				f.value = val
			}
		}
	}
	v.focus = max(first, 0)
	v.level = 1
	return nil, true
}

func (v *runbooksView) formKey(e *env, k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		v.remember()
		v.level, v.resumeID = 0, ""
	case "tab", "down":
		v.focus = (v.focus + 1) % max(len(v.fields), 1)
	case "shift+tab", "up":
		v.focus = (v.focus + len(v.fields) - 1) % max(len(v.fields), 1)
	case "enter":
		if v.focus < len(v.fields)-1 {
			v.focus++
			return nil
		}
		return v.plan(e)
	case "backspace", "ctrl+h":
		if len(v.fields) > 0 {
			f := &v.fields[v.focus]
			if r := []rune(f.value); len(r) > 0 {
				f.value = string(r[:len(r)-1])
			}
		}
	case "ctrl+u":
		if len(v.fields) > 0 {
			v.fields[v.focus].value = ""
		}
	default:
		if len(v.fields) > 0 && k.Text != "" {
			v.fields[v.focus].value += k.Text
		}
	}
	return nil
}

func (v *runbooksView) vars() []string {
	var out []string
	for _, f := range v.fields {
		if f.value != "" || f.required {
			out = append(out, f.name+"="+f.value)
		}
	}
	return out
}

// plan dry-runs the runbook: every step's Plan, no gate, no write. A
// resume form resumes its run instead.
func (v *runbooksView) plan(e *env) tea.Cmd {
	for _, f := range v.fields {
		if f.required && strings.TrimSpace(f.value) == "" {
			return status("variable "+f.name+" is required", true)
		}
	}
	if id := v.resumeID; id != "" {
		// The form stays until the resume starts (runStarted).
		return ask(startRunMsg{vars: v.vars(), resumeID: id, show: true})
	}
	// The form stays until the plan starts (runStarted): refused, it
	// says why by the fields rather than showing another run.
	v.formErr = ""
	if err := v.resolveTimes(e.now()); err != nil {
		v.formErr = err.Error()
		return status(err.Error(), true)
	}
	v.remember()
	return ask(startRunMsg{rb: v.rb, vars: v.vars(), dry: true, drill: v.drill, show: true, fromForm: true})
}

// refused is told that the run the form asked for did not start.
func (v *runbooksView) refused(err error) {
	if v.level == 1 {
		v.formErr = errorText(err)
	}
}

// runStarted binds the steps of the live run, which the root just
// started, so the run screen always shows the live run. show opens the
// run screen, following the step in progress; a resume asked from the
// form is then done.
func (v *runbooksView) runStarted(e *env, id string, show bool) {
	v.bindNodes(e)
	if !show {
		return
	}
	if v.resumeID == id {
		v.resumeID = ""
	}
	v.level, v.follow, v.formErr = 2, true, ""
	v.nodes.top()
}

func (v *runbooksView) bindNodes(e *env) {
	r := e.liveRun()
	if r == nil {
		v.nodes.setSource(0, nil)
		return
	}
	now, st := e.now, &e.st
	v.nodes.setSource(len(r.nodes), func(i int) []string {
		if i >= len(r.nodes) {
			return nil
		}
		n := r.nodes[i]
		// The node's one duration (NodeState.Took), as the Runs view and
		// the drill report show it; until it ends, the time since it began.
		el := ""
		switch {
		case n.Status == runbook.NodePlanned || n.Status == runbook.NodePending:
			// A plan's nodes did not run: they took no time.
		case n.Took() > 0 || !n.Started.IsZero() && !n.Finished.IsZero():
			el = age(n.Took())
		case !n.Started.IsZero() && !r.Ended.IsZero():
			el = age(r.Ended.Sub(n.Started))
		case !n.Started.IsZero():
			el = age(now().Sub(n.Started))
		}
		return []string{ansiStrip(stateGlyph(st, n.NodeState)), graphName(n), el, progressBar(n.Progress, 12)}
	})
}

func (v *runbooksView) runKey(e *env, k tea.KeyPressMsg) tea.Cmd {
	r := e.liveRun()
	if v.cancel {
		v.cancel = false
		if k.String() == "y" || k.String() == "Y" {
			return tea.Batch(ask(cancelRunMsg{}), status("cancelling the run…", false))
		}
		return status("the run goes on", false)
	}
	if listKeys(e, v.nodes, k) {
		v.follow = false
		return nil
	}
	switch {
	case key.Matches(k, e.keys.Cancel):
		if r != nil && r.active() {
			v.cancel = true
		}
	case key.Matches(k, e.keys.Run):
		if r != nil && r.active() {
			return status("a run is already in progress", true)
		}
		if v.rb == nil {
			return status("open a runbook first", true)
		}

		v.follow = true
		return ask(startRunMsg{rb: v.rb, vars: v.vars(), drill: v.drill})
	}
	return nil
}

func (v *runbooksView) render(e *env, w, h int) string {
	st := &e.st
	switch v.level {
	case 0:
		head := st.title.Render("Runbooks") + " in " + e.opts.RunbooksDir + "  " + v.list.position() + "  " + filterNote(v.list)
		if v.files == nil {
			return head + "\n" + st.dim.Render("  reading runbooks…")
		}
		return head + "\n" + v.list.view(st, w, h-1)
	case 1:
		return v.renderForm(e, w, h)
	}
	return v.renderRun(e, w, h)
}

func (v *runbooksView) renderForm(e *env, w, h int) string {
	st := &e.st
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", st.title.Render(filepath.Base(v.rb.Path)), v.rb.Description)
	if v.resumeID != "" {
		fmt.Fprintf(&b, "Resume %s: the journal does not keep sensitive values, give them again\n", v.resumeID)
	}
	if o := v.rb.Objectives; o != nil {
		fmt.Fprintf(&b, "objectives: RTO %s, RPO %s\n", age(o.RTO), age(o.RPO))
	}
	switch {
	case v.resumeID != "":
		b.WriteString("Variables (enter on the last one resumes the run):\n")
	case v.drill:
		b.WriteString("DRILL: production is not touched; what the drill creates is torn down at the end.\n")
		b.WriteString("Variables (enter on the last one plans the drill):\n")
	default:
		b.WriteString("Variables (enter on the last one plans the run):\n")
	}
	for i, f := range v.fields {
		mark := "  "
		if i == v.focus {
			mark = "▶ "
		}
		req := ""
		if f.required {
			req = " (required)"
		}
		fmt.Fprintf(&b, "%s%s %s%s\n", mark, st.key.Render(f.name), st.dim.Render(f.typ), req)
		if f.desc != "" {
			fmt.Fprintf(&b, "    %s\n", st.dim.Render(f.desc))
		}
		cursor := ""
		if i == v.focus {
			cursor = "█"
		}
		shown := f.value
		if f.sensitive {
			shown = strings.Repeat("•", len([]rune(f.value)))
		}
		fmt.Fprintf(&b, "    > %s%s\n", shown, cursor)
	}
	if v.formErr != "" {
		// Whole: the part that names the field is often at the end.
		for _, l := range wrapWhole("✖ "+v.formErr, w) {
			b.WriteString(st.statusErr.Render(l) + "\n")
		}
	}
	return b.String()
}

func (v *runbooksView) renderRun(e *env, w, h int) string {
	st := &e.st
	r := e.liveRun()
	if r == nil {
		return st.dim.Render("no run")
	}
	v.nodes.grow(len(r.nodes))
	var b strings.Builder
	name := strings.TrimSuffix(filepath.Base(r.runbookPath()), ".hcl")
	el := ""
	if !r.Started.IsZero() {
		end := r.Ended
		if end.IsZero() {
			end = e.now()
		}
		el = " in " + age(end.Sub(r.Started))
	}
	fmt.Fprintf(&b, "%s  %s  %s%s\n", st.title.Render(name), r.id, runStatusText(st, r), el)
	if v.cancel {
		b.WriteString(st.bad.Render("Cancel the run? y = cancel it, any other key = let it go on") + "\n")
	} else if r.Err != "" {
		b.WriteString(st.statusErr.Render(cell("✖ "+r.Err, w, false)) + "\n")
	} else if !r.active() && r.isDry() && r.Status == runbook.StatusSucceeded && r.isDrill() {
		b.WriteString("drill plan ready: x runs the drill (gates will ask), esc goes back\n")
	} else if !r.active() && r.isDry() && r.Status == runbook.StatusSucceeded {
		b.WriteString("plan ready: x runs it for real (gates will ask), esc goes back\n")
	} else {
		b.WriteString("\n")
	}
	if r.isDrill() && !r.isDry() {
		// What the drill measured, then its teardown as it happens.
		var extra []string
		if r.report != nil {
			extra = drillLines(st, r.report, r, false, false, h)
		} else {
			extra = teardownLines(st, r, h)
		}
		for _, l := range extra {
			b.WriteString(cell(l, w, false) + "\n")
		}
		h -= len(extra)
	}
	if v.follow && v.nodes.filter == "" && v.nodes.sortCol < 0 {
		// The last node that has started is where the run is.
		for i, n := range r.nodes {
			switch n.Status {
			case runbook.NodePending, runbook.NodePlanned, runbook.NodeSkipped:
			default:
				v.nodes.cursor = i
			}
		}
	}
	gh := max(min(len(r.nodes)+1, (h-2)/2), 3)
	b.WriteString(v.nodes.view(st, w, gh) + "\n")
	// The selected node's plan and log fill the rest.
	rest := h - 2 - gh
	i := v.nodes.selected()
	if i < 0 || i >= len(r.nodes) {
		return b.String()
	}
	n := r.nodes[i]
	var lines []string
	if len(n.deps) > 0 {
		lines = append(lines, st.dim.Render("after "+strings.Join(n.deps, ", ")))
	}
	if p := problem(n.NodeState); p != "" {
		lines = append(lines, st.statusErr.Render("✖ "+p))
	}
	if n.Actor != "" {
		lines = append(lines, "decided by "+n.Actor)
	}
	for _, c := range n.Redirects {
		lines = append(lines, "  ⇢ drill: "+c.String())
	}
	for _, c := range n.Changes {
		lines = append(lines, "  • "+c.String())
	}
	if out := string(n.Outputs); out != "" && out != "null" {
		lines = append(lines, "outputs "+out)
	}
	// Only the newest lines fit.
	lines = append(lines, logLines(n.NodeState, max(rest-1, 0))...)
	if len(lines) > rest-1 {
		lines = lines[len(lines)-(rest-1):]
	}
	b.WriteString(st.title.Render(n.Node) + "\n")
	for _, l := range lines {
		b.WriteString(cell(l, w, false) + "\n")
	}
	return b.String()
}

// defaultText shows a variable's default in the form, in the syntax the
// form accepts back (strings bare, numbers and bools as written).
func defaultText(v cty.Value) string {
	switch {
	case v.IsNull() || !v.IsKnown():
		return ""
	case v.Type() == cty.String:
		return v.AsString()
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	}
	return ""
}

// openRunbookMsg asks the Runbooks view to open a runbook's form with
// some variables filled in (from another view).
type openRunbookMsg struct {
	name string
	vars map[string]string
}

// openByName opens the form of the runbook called msg.name, now or once
// the list has been read.
func (v *runbooksView) openByName(e *env, msg openRunbookMsg) tea.Cmd {
	if v.files == nil {
		v.want = &msg
		return nil
	}
	if r := e.liveRun(); r != nil && r.active() {
		return status("a run is in progress: "+msg.name+" can be opened when it ends", true)
	}
	v.list.setFilter("")
	for pos := 0; pos < v.list.len(); pos++ {
		if strings.TrimSuffix(filepath.Base(v.files[v.list.at(pos)].path), ".hcl") == msg.name {
			v.list.cursor = pos
			v.level = 0
			cmd := v.listKey(e, tea.KeyPressMsg{Code: tea.KeyEnter})
			for i := range v.fields {
				if val, ok := msg.vars[v.fields[i].name]; ok {
					v.fields[i].value = val
				}
			}
			return cmd
		}
	}
	return status("no runbook "+msg.name+" in "+e.opts.RunbooksDir, true)
}

// graphName indents a node by its depth in the dependency graph, so the
// list reads as the graph it is.
func graphName(n *nodeState) string {
	if n.depth == 0 {
		return n.Node
	}
	return strings.Repeat("  ", n.depth-1) + "└ " + n.Node
}
