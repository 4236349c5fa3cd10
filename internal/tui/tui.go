package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/runner"
)

// Options configure the console.
type Options struct {
	// Target is "sandbox" or "aws"; the header badges it, SANDBOX also
	// when an aws target's endpoint answers as the sandbox.
	Target  string
	Profile string
	// PrimaryRegion holds the production estate, DRRegion the recovery one.
	PrimaryRegion, DRRegion string
	// ReadOnly disables every action; the clients are guarded as well.
	ReadOnly    bool
	RunbooksDir string
	StateDir    string
	Clients     awsx.ClientSource
	// Now is the clock (nil: time.Now); tests fix it.
	Now func() time.Time
	// RPOObjective marks recovery points older than it. Zero takes the
	// strictest rpo objective of the runbooks in RunbooksDir, else 24h.
	RPOObjective time.Duration
	// Mouse turns on mouse reporting (wheel scrolling); off by default
	// because it stops the terminal's own text selection.
	Mouse bool
	// LoadTimeout bounds each read (default 30s).
	LoadTimeout time.Duration
	// RefreshEvery reloads the estate on an interval (default 30s).
	RefreshEvery time.Duration
	// Estate says what is what: roles and objectives of the resources
	// listed in it. nil classifies by the drconsole:role tags alone.
	Estate *estate.Estate
	// Calls is the API log the console shows (nil: a new, empty one that
	// only the clients given an observer fill).
	Calls *CallLog
	// Runs is the run service that executes, resumes, drills and lists
	// runbooks; nil disables the Runbooks and Runs actions with a message.
	Runs *runner.Service
	// Operator is recorded as who approved gates (default $USER).
	Operator string
	// GateDelay is how long after a gate opens keys are ignored
	// (default 500ms).
	GateDelay time.Duration
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Target == "" {
		o.Target = "sandbox"
	}
	if o.PrimaryRegion == "" {
		o.PrimaryRegion = "us-east-1"
	}
	if o.DRRegion == "" {
		o.DRRegion = "us-west-2"
	}
	if o.RPOObjective == 0 {
		o.RPOObjective = defaultRPO
	}
	if o.LoadTimeout == 0 {
		o.LoadTimeout = 30 * time.Second
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = 30 * time.Second
	}
	if o.RunbooksDir == "" {
		o.RunbooksDir = "runbooks"
	}
	if o.GateDelay == 0 {
		o.GateDelay = 500 * time.Millisecond
	}
	if o.Operator == "" {
		o.Operator = "console"
	}
	if o.Calls == nil {
		o.Calls = NewCallLog(0)
	}
}

// defaultRPO is the objective when neither the options nor a runbook
// set one.
const defaultRPO = 24 * time.Hour

// env is what every view shares: options, size, styles, keys, clock, the
// estate cache and the live run. Views read it; only the root and the
// estate's own loads change it.
type env struct {
	ctx  context.Context
	opts *Options
	st   styles
	keys keyMap
	w, h int
	live bool // timers run (false when tests drive Update)
	// rpoFrom names the runbook the RPO objective comes from.
	rpoFrom string
	est     estateData
	gen     [numParts]int
	// changes counts the runs (and drill teardowns) that ended: each may
	// have changed the estate, so what was read before the last one is
	// stale whatever its age.
	changes int
	// liveRun is the run the console started or resumed last (nil: none
	// yet). Views read it; starting, cancelling and showing it are
	// asked of the root with messages.
	liveRun func() *runState
}

func (e *env) now() time.Time { return e.opts.Now() }

// freshFor is how long what a view shows stays fresh: entering a view
// whose data is older reads it again, since only the view on screen
// refreshes on the interval.
const freshFor = 5 * time.Second

// need returns the loads of the parts not yet loaded and of the stale
// ones: what entering a view reads.
func (e *env) need(parts ...part) tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range parts {
		if e.est.state[p] == notLoaded || e.stalePart(p) {
			cmds = append(cmds, e.reload(p))
		}
	}
	return tea.Batch(cmds...)
}

// stalePart reports that p was read more than freshFor ago or before a
// run ended, or is being read by a request sent before a run ended.
func (e *env) stalePart(p part) bool {
	switch e.est.state[p] {
	case loading:
		return e.est.epoch[p] < e.changes
	case loaded:
		return e.stale(e.est.epoch[p], e.est.at[p])
	}
	return false
}

// stale reports whether data whose read started when e.changes was epoch
// and was answered at at is older than freshFor or than the last run's
// end.
func (e *env) stale(epoch int, at time.Time) bool {
	return epoch < e.changes || e.now().Sub(at) > freshFor
}

// reload starts reading p again; an older answer still in flight is
// dropped when it arrives.
func (e *env) reload(p part) tea.Cmd {
	if e.opts.Clients == nil {
		return nil
	}
	e.gen[p]++
	e.est.state[p] = loading
	e.est.epoch[p] = e.changes
	return loadPart(e.ctx, e.opts, p, e.now(), e.gen[p])
}

// loadingAny reports whether a read is in flight.
func (e *env) loadingAny() bool {
	for _, s := range e.est.state {
		if s == loading {
			return true
		}
	}
	return false
}

// view is one screen of the console. Its methods run inside Update: they
// change the view alone, and the commands they return come back to it
// (see address).
type view interface {
	// title is the tab label; command the `:` name.
	title() string
	command() string
	// keys lists the view's own keys for the footer and help.
	keys(e *env) []key.Binding
	// activate runs when the view is shown; it returns the loads it needs.
	activate(e *env) tea.Cmd
	// refresh reloads what the view shows.
	refresh(e *env) tea.Cmd
	// update handles a key the root did not take, an answer to one of
	// the view's commands, or a change of the estate while it is shown.
	update(e *env, msg tea.Msg) tea.Cmd
	// render draws the view in w x h.
	render(e *env, w, h int) string
	// filterGrid is the list `/` filters at the view's current level; nil
	// when there is none.
	filterGrid() *grid
	// back goes up one level; false when already at the top.
	back(e *env) (tea.Cmd, bool)
	// capturing reports that the view takes raw text (a form field).
	capturing() bool
}

// freshener is a view of the estate, whose data ages: freshen reads
// again what it shows that is stale (env.stale), keeping the old data on
// screen until the new arrives. Activating such a view freshens it, and
// so does the end of a run while it is on screen.
type freshener interface {
	freshen(e *env) tea.Cmd
}

// estateChanged follows the end of a run or of a drill's teardown: unless
// it was a dry run, which changes nothing, every view of the estate is
// stale, and the one on screen reads again at once; the others do when
// entered. Telling what a run touched from its steps' types would miss
// what a new type touches.
func (m *Model) estateChanged(dry bool) tea.Cmd {
	if dry {
		return nil
	}
	m.env.changes++
	if f, ok := m.views[m.active].(freshener); ok {
		return address(m.active, f.freshen(m.env))
	}
	return nil
}

type mode int

const (
	modeNormal mode = iota
	modeCommand
	modeFilter
	modeHelp
	modeQuit
	modeErrors
)

// Model is the console's root model.
type Model struct {
	env    *env
	cancel context.CancelFunc
	views  []view
	active viewID
	// runbooks and history are the views the root asks on the others'
	// behalf: the Runbooks view shows the live run and its forms, the
	// Runs view lists the journal.
	runbooks *runbooksView
	history  *runsView
	mode     mode
	input    string // the `:` or `/` line being typed
	status   string
	isErr    bool
	frame    int  // spinner frame
	live     bool // ticks are running (false in tests driving Update)
	modal    *modal
	errPanel errorPanel
	run      *runState
	// preparing: the run service is checking a run asked for; no other
	// may start until it answers.
	preparing bool
	// rpoSet: the objective was given, not derived from runbooks.
	rpoSet bool
	// send delivers messages from other goroutines (tea.Program.Send):
	// run snapshots and gate requests.
	send func(tea.Msg)
	// lastErr is the latest error the status line showed, whole.
	lastErr string
}

// SetSend connects the console to its program, so runs can report to it.
func (m *Model) SetSend(send func(tea.Msg)) { m.send = send }

// New builds the console. ctx bounds every read it starts.
func New(ctx context.Context, opts Options) *Model {
	opts.defaults()
	ctx, cancel := context.WithCancel(ctx)
	e := &env{ctx: ctx, opts: &opts, st: newStyles(), keys: newKeyMap(), w: 80, h: 24}
	m := &Model{env: e, cancel: cancel, rpoSet: opts.RPOObjective != defaultRPO,
		runbooks: newRunbooks(), history: newRuns()}
	e.liveRun = func() *runState { return m.run }
	m.views = []view{
		viewOverview: newOverview(), viewModels: newModels(), viewPoints: newPoints(),
		viewReplication: newReplication(), viewFleet: newFleet(),
		viewRunbooks: m.runbooks, viewRuns: m.history, viewAPILog: newAPILog(),
		viewVolumes: newVolumes(),
	}
	return m
}

// Close stops the console's reads.
func (m *Model) Close() { m.cancel() }

type tickMsg struct{}
type refreshMsg struct{}

const spinnerEvery = 120 * time.Millisecond

// Init starts the clock, the spinner and the periodic refresh.
func (m *Model) Init() tea.Cmd {
	m.live = true
	m.env.live = true
	return tea.Batch(m.Start(), tea.Tick(spinnerEvery, func(time.Time) tea.Msg { return tickMsg{} }),
		tea.Tick(m.env.opts.RefreshEvery, func(time.Time) tea.Msg { return refreshMsg{} }))
}

// Start loads what the first view and the header need. Init runs it;
// tests and benchmarks call it alone, so no timers run.
func (m *Model) Start() tea.Cmd {
	cmds := []tea.Cmd{m.env.need(partIdentity), address(m.active, m.views[m.active].activate(m.env)), m.objectives()}
	if warn := stateDirWarning(m.env); warn != "" {
		// The CLI's stderr is hidden behind the console's screen.
		cmds = append(cmds, status("⚠ "+warn, false))
	}
	return tea.Batch(cmds...)
}

// objectiveMsg carries the strictest RPO objective among the runbooks.
type objectiveMsg struct {
	rpo  time.Duration
	from string
}

// objectives reads the runbooks' rpo objectives, so the Overview marks
// recovery points against what the runbooks promise.
func (m *Model) objectives() tea.Cmd {
	o := m.env.opts
	if m.rpoSet || o.Runs == nil {
		return nil
	}
	dir, svc := o.RunbooksDir, o.Runs
	return func() tea.Msg {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		var best objectiveMsg
		for _, p := range paths {
			rb, _, err := svc.Load(p)
			if err != nil || rb == nil || rb.Objectives == nil || rb.Objectives.RPO <= 0 {
				continue
			}
			if best.rpo == 0 || rb.Objectives.RPO < best.rpo {
				best = objectiveMsg{rpo: rb.Objectives.RPO, from: strings.TrimSuffix(filepath.Base(p), ".hcl")}
			}
		}
		return best
	}
}

func (m *Model) setStatus(s string, isErr bool) {
	m.status, m.isErr = s, isErr
	if isErr && s != "" {
		// Kept whole for E, however the status line has to cut it.
		m.lastErr = s
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	return m, m.update(msg)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	e := m.env
	// What the root does not handle itself goes to the view it is
	// addressed to, else to the active one (the keys it did not take).
	to := m.active
	if a, ok := msg.(addressed); ok {
		to, msg = a.to, a.msg
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		e.w, e.h = msg.Width, msg.Height
		return nil
	case teardownMsg:
		// The Runs view follows the teardown; its end changed the estate.
		if msg.event == nil {
			return tea.Batch(m.deliver(to, msg), m.estateChanged(false))
		}
		return m.deliver(to, msg)
	case tickMsg:
		m.frame++
		if m.live {
			return tea.Tick(spinnerEvery, func(time.Time) tea.Msg { return tickMsg{} })
		}
		return nil
	case refreshMsg:
		var cmd tea.Cmd
		if !e.loadingAny() {
			cmd = address(m.active, m.views[m.active].refresh(e))
		}
		if m.live {
			cmd = tea.Batch(cmd, tea.Tick(e.opts.RefreshEvery, func(time.Time) tea.Msg { return refreshMsg{} }))
		}
		return cmd
	case estateMsg:
		if msg.gen != e.gen[msg.part] {
			return nil
		}
		e.est.state[msg.part] = loaded
		e.est.err[msg.part] = msg.err
		e.est.errs[msg.part] = msg.errs
		e.est.at[msg.part] = e.now()
		if msg.err == nil && msg.fill != nil {
			msg.fill(&e.est)
		}
		if len(msg.errs) > 0 {
			m.setStatus(failedCalls(e, msg.errs), true)
		}
		// The estate is shared: the view on screen redraws from it, the
		// others when they are activated.
		return m.deliver(m.active, msg)
	case objectiveMsg:
		if msg.rpo > 0 {
			e.opts.RPOObjective, e.rpoFrom = msg.rpo, msg.from
			return m.deliver(m.active, estateMsg{part: partPoints, gen: -1})
		}
		return nil
	case statusMsg:
		m.setStatus(msg.text, msg.err)
		return nil
	case startRunMsg:
		return m.startRun(msg)
	case preparedMsg:
		return m.started(msg)
	case cancelRunMsg:
		if m.run != nil {
			m.run.stop()
		}
		return nil
	case openRunbookMsg:
		m.active = viewRunbooks
		return address(viewRunbooks, tea.Batch(m.runbooks.activate(e), m.runbooks.openByName(e, msg)))
	case openResumeMsg:
		cmd, opened := m.runbooks.openResume(e, resumeMsg(msg))
		cmd = address(viewRunbooks, cmd)
		if !opened {
			return cmd
		}
		m.active = viewRunbooks
		return tea.Batch(cmd, status("resume "+msg.id+": give the sensitive variables again", false))
	case runMsg:
		return m.handleRun(msg)
	case gateMsg:
		m.openGate(msg)
		return nil
	case tea.PasteMsg:
		if m.modal != nil {
			m.modal.paste()
			return nil
		}
		if m.mode == modeCommand || m.mode == modeFilter {
			m.input += strings.ReplaceAll(msg.Content, "\n", "")
			return m.inputChanged()
		}
		return m.deliver(m.active, msg)
	case tea.MouseWheelMsg:
		d := 1
		if msg.Button == tea.MouseWheelUp {
			d = -1
		}
		return m.deliver(m.active, scrollMsg{delta: d * 3})
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m.deliver(to, msg)
}

// scrollMsg moves the active list by delta rows (mouse wheel).
type scrollMsg struct{ delta int }

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	e := m.env
	k := e.keys
	if g := m.modal; g != nil {
		cmd := g.key(msg, e.now())
		if g.done {
			m.modal = nil
		}
		return cmd
	}
	switch m.mode {
	case modeQuit:
		switch msg.String() {
		case "y", "Y":
			return m.quit()
		default:
			m.mode = modeNormal
			m.setStatus("quit cancelled: the run goes on", false)
		}
		return nil
	case modeHelp:
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.mode = modeNormal
		}
		return nil
	case modeErrors:
		if !m.errPanel.key(k, msg, e.h-4) {
			m.mode = modeNormal
		}
		return nil
	case modeCommand, modeFilter:
		return m.editLine(msg)
	}
	if msg.String() == "ctrl+c" {
		return m.askQuit()
	}
	cur := m.views[m.active]
	if cur.capturing() {
		return m.deliver(m.active, msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.askQuit()
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
	case key.Matches(msg, k.Errors):
		m.mode, m.errPanel = modeErrors, errorPanel{last: m.lastErr}
	case key.Matches(msg, k.Command):
		m.mode, m.input = modeCommand, ""
	case key.Matches(msg, k.Filter):
		g := cur.filterGrid()
		if g == nil {
			m.setStatus("nothing to filter here", false)
			return nil
		}
		m.mode, m.input = modeFilter, ""
		g.setFilter("")
	case key.Matches(msg, k.NextTab):
		return m.switchTo((m.active + 1) % viewID(len(m.views)))
	case key.Matches(msg, k.PrevTab):
		return m.switchTo((m.active + viewID(len(m.views)) - 1) % viewID(len(m.views)))
	case key.Matches(msg, k.Refresh):
		m.setStatus("", false)
		return address(m.active, cur.refresh(e))
	case key.Matches(msg, k.Back):
		// A committed filter is cleared first, as k9s does: esc then
		// goes back.
		if g := cur.filterGrid(); g != nil && g.filter != "" {
			g.setFilter("")
			m.setStatus("filter cleared", false)
			return nil
		}
		cmd, ok := cur.back(e)
		if !ok {
			m.setStatus("", false)
		}
		return address(m.active, cmd)
	case len(msg.String()) == 1 && msg.String() >= "1" && msg.String() <= "9":
		return m.switchTo(viewID(msg.String()[0] - '1'))
	default:
		return m.deliver(m.active, msg)
	}
	return nil
}

func (m *Model) askQuit() tea.Cmd {
	if m.run != nil && m.run.active() {
		m.mode = modeQuit
		return nil
	}
	return m.quit()
}

func (m *Model) quit() tea.Cmd {
	if m.run != nil {
		m.run.stop()
	}
	m.cancel()
	return tea.Quit
}

// editLine edits the `:` or `/` line.
func (m *Model) editLine(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		if m.mode == modeFilter {
			m.setFilter("")
		}
		m.mode, m.input = modeNormal, ""
		return nil
	case "enter":
		line := m.input
		md := m.mode
		m.mode, m.input = modeNormal, ""
		if md == modeCommand {
			return m.command(line)
		}
		m.setFilter(line)
		if line != "" {
			m.setStatus("filtered by "+strconv.Quote(line)+": esc clears it", false)
		}
		return nil
	case "backspace", "ctrl+h":
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
		return m.inputChanged()
	case "tab":
		// Completes a `:` command as far as the candidates agree, and
		// lists them when they part.
		if m.mode == modeCommand {
			full := m.completeCommand(strings.TrimSpace(m.input))
			switch {
			case len(full) == 1:
				m.input = full[0]
			case len(full) > 1:
				m.input = commonPrefix(full)
				m.setStatus(strings.Join(full, "  "), false)
			}
		}
		return nil
	}
	if msg.Text != "" {
		m.input += msg.Text
		return m.inputChanged()
	}
	return nil
}

// inputChanged filters as the operator types.
func (m *Model) inputChanged() tea.Cmd {
	if m.mode == modeFilter {
		m.setFilter(m.input)
	}
	return nil
}

// setFilter filters the active view's current list.
func (m *Model) setFilter(f string) {
	if g := m.views[m.active].filterGrid(); g != nil {
		g.setFilter(f)
	}
}

// command runs a `:` command.
func (m *Model) command(line string) tea.Cmd {
	c := strings.TrimSpace(line)
	aliases := map[string]string{
		"o": "overview", "m": "models", "pts": "points", "rp": "points", "repl": "replication",
		"alarms": "fleet", "asg": "fleet", "rb": "runbooks", "log": "api", "apilog": "api",
	}
	if a, ok := aliases[c]; ok {
		c = a
	} else if full := m.completeCommand(c); len(full) == 1 {
		// A prefix that names one command is that command (:rep, :vol).
		c = full[0]
	} else if len(full) > 1 {
		m.setStatus(fmt.Sprintf(":%s is ambiguous: %s", c, strings.Join(full, ", ")), true)
		return nil
	}
	switch c {
	case "":
		return nil
	case "q", "quit":
		return m.askQuit()
	case "help":
		m.mode = modeHelp
		return nil
	}
	for i, v := range m.views {
		if v.command() == c {
			return m.switchTo(viewID(i))
		}
	}
	m.setStatus(fmt.Sprintf("unknown command :%s (try %s)", c, strings.Join(m.viewCommands()[1:], ", ")), true)
	return nil
}

// viewCommands are the views' commands, ":overview" first, in tab order:
// the help and the unknown-command hint list them from the views
// themselves, so a new view is never missing from either.
// commandNames are the `:` commands, views first.
func (m *Model) commandNames() []string {
	out := make([]string, 0, len(m.views)+2)
	for _, v := range m.views {
		out = append(out, v.command())
	}
	return append(out, "help", "quit")
}

// completeCommand lists the commands that start with prefix ("" names
// none), or the one it names exactly.
func (m *Model) completeCommand(prefix string) []string {
	if prefix == "" {
		return nil
	}
	var out []string
	for _, c := range m.commandNames() {
		if c == prefix {
			return []string{c}
		}
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (m *Model) viewCommands() []string {
	out := make([]string, len(m.views))
	for i, v := range m.views {
		out[i] = ":" + v.command()
	}
	return out
}

func (m *Model) switchTo(i viewID) tea.Cmd {
	if i < 0 || int(i) >= len(m.views) {
		return nil
	}
	m.active = i
	m.setStatus("", false)
	return address(i, m.views[i].activate(m.env))
}

// View draws the frame: header, tabs, the active view, status and keys.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	if m.env.opts.Mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "drconsole"
	return v
}

// Render draws the frame as text (View wraps it).
func (m *Model) Render() string {
	e := m.env
	w, h := max(e.w, 20), max(e.h, 6)
	var b strings.Builder
	b.WriteString(fit(m.header(w), w, 1))
	b.WriteByte('\n')
	b.WriteString(fit(m.tabs(w), w, 1))
	b.WriteByte('\n')
	bodyH := h - 4
	var body string
	switch {
	case m.mode == modeHelp:
		body = m.help(w)
	case m.mode == modeErrors:
		body = m.errPanel.render(e, viewParts(m.active), w, bodyH)
	default:
		body = m.views[m.active].render(e, w, bodyH)
	}
	body = fit(body, w, bodyH)
	if m.modal != nil {
		body = m.modal.overlay(&e.st, body, w, bodyH, e.now())
	}
	b.WriteString(body)
	b.WriteByte('\n')
	b.WriteString(fit(m.statusLine(w), w, 1))
	b.WriteByte('\n')
	b.WriteString(fit(m.footer(w), w, 1))
	return b.String()
}

var spinnerFrames = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (m *Model) header(w int) string {
	e := m.env
	st := &e.st
	brand := st.brand.Render("drconsole")
	// The endpoint's own answer decides: a sandbox reached as AWS (the
	// credentials `drconsole sandbox` prints make the target aws) is
	// still the sandbox.
	var target, pace string
	if e.opts.Target == "aws" && !e.est.identity.Sandbox {
		acct := e.est.identity.Account
		if acct == "" {
			acct = "account ?"
		}
		badge := " AWS " + acct + " "
		if e.opts.Profile != "" {
			badge += "(" + e.opts.Profile + ") "
		}
		target = st.aws.Render(badge)
	} else {
		target = st.sandbox.Render(" SANDBOX ")
		// Its pace, so that an RTO watched here is not compared with one
		// measured at another.
		if p := e.est.identity.SandboxPace; p != "" {
			pace = st.dim.Render(string(p) + " pace")
		}
	}
	mode := st.readWrite.Render("READ-WRITE")
	if e.opts.ReadOnly {
		mode = st.readOnly.Render("READ-ONLY")
	}
	regions := e.opts.PrimaryRegion + " → " + e.opts.DRRegion
	clock := st.clock.Render(e.now().UTC().Format("15:04:05 UTC"))
	// A run waiting for a person says so on every view, next to the
	// clock, so it is never missed.
	var waiting, waitingShort string
	if r := m.run; r != nil {
		if at := r.waitingAt(); at != "" {
			waiting, waitingShort = st.bad.Render("⚠ WAITING at "+at), st.bad.Render("⚠ WAITING")
		}
	}
	// When narrow, the brand goes first, then the regions shorten and
	// go, then the gate's address and the pace: the target, read-only
	// state, a waiting gate and the time always show.
	for _, shrink := range []func(){
		func() {},
		func() { brand = "" },
		func() { regions = e.opts.PrimaryRegion + "→" + e.opts.DRRegion },
		func() { regions = "" },
		func() { waiting = waitingShort },
		func() { pace = "" },
	} {
		shrink()
		left := joinNonEmpty("  ", brand, joinNonEmpty(" ", target, pace), mode, regions)
		right := joinNonEmpty("  ", waiting, clock)
		if gap := w - widthOf(left) - widthOf(right); gap >= 1 {
			return left + strings.Repeat(" ", gap) + right
		}
	}
	return joinNonEmpty(" ", joinNonEmpty("  ", target, mode), waiting, clock)
}

// commonPrefix is the longest prefix every one of ss shares.
func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func (m *Model) tabs(w int) string {
	st := &m.env.st
	render := func(short bool) string {
		var parts []string
		for i, v := range m.views {
			t := v.title()
			switch {
			case viewID(i) == m.active:
				parts = append(parts, st.tabActive.Render("["+t+"]"))
			case short:
				parts = append(parts, st.tab.Render(fmt.Sprintf(" %d ", i+1)))
			default:
				parts = append(parts, st.tab.Render(" "+t+" "))
			}
		}
		return strings.Join(parts, "")
	}
	// Narrow terminals get the views' numbers, the active one named.
	if s := render(false); widthOf(s) <= w {
		return s
	}
	return render(true)
}

func (m *Model) statusLine(w int) string {
	st := &m.env.st
	var s string
	if m.env.loadingAny() || m.viewLoading() {
		s = spinnerFrames[m.frame%len(spinnerFrames)] + " loading… "
	}
	switch {
	case m.status != "" && m.isErr:
		msg := "✖ error: " + m.status
		// Cut, it says where to read it whole.
		if more := "  (E: in full)"; widthOf(s)+widthOf(msg) > w {
			msg = cell(msg, max(w-widthOf(s)-widthOf(more), 10), false) + more
		}
		s += st.statusErr.Render(msg)
	case m.status != "":
		s += m.status
	}
	return s
}

// viewLoading reports a view's own streaming load (a timeline).
func (m *Model) viewLoading() bool {
	if l, ok := m.views[m.active].(interface{ busy() bool }); ok {
		return l.busy()
	}
	return false
}

func (m *Model) footer(w int) string {
	st := &m.env.st
	switch m.mode {
	case modeCommand:
		return ":" + m.input + "█"
	case modeFilter:
		return "/" + m.input + "█"
	case modeQuit:
		return st.bad.Render("A run is in progress. Quit and cancel it? y = quit, any other key = stay")
	case modeHelp:
		return keyHint(st, "?/esc", "close help")
	case modeErrors:
		return keyHint(st, "↑/↓ pgup/pgdn", "scroll") + "  " + keyHint(st, "E/esc", "close")
	}
	if m.modal != nil {
		if m.modal.refusing {
			return keyHint(st, "y", "refuse") + "  " + keyHint(st, "any other key", "back")
		}
		hint := keyHint(st, "type token + enter", "approve") + "  " + keyHint(st, "esc", "refuse")
		if m.modal.scrolls() {
			hint += "  " + keyHint(st, "pgup/pgdn ↑/↓", "scroll")
		}
		return hint
	}
	k := m.env.keys
	cur := m.views[m.active]
	var hints []string
	for _, b := range offered(m.env, cur.keys(m.env)) {
		hints = append(hints, keyHint(st, b.Help().Key, b.Help().Desc))
	}
	// While a field takes the keys typed, the global ones are text.
	if !cur.capturing() {
		globals := []key.Binding{k.Command, k.Help, k.Quit}
		if cur.filterGrid() != nil {
			globals = append([]key.Binding{k.Filter}, globals...)
		}
		for _, b := range globals {
			hints = append(hints, keyHint(st, b.Help().Key, b.Help().Desc))
		}
	}
	out := ""
	for _, h := range hints {
		if widthOf(out)+widthOf(h)+2 > w {
			break
		}
		if out != "" {
			out += "  "
		}
		out += h
	}
	return out
}

func keyHint(st *styles, k, desc string) string {
	return st.key.Render(k) + " " + st.keyDesc.Render(desc)
}

// help lists every key: global ones, then the active view's.
func (m *Model) help(w int) string {
	e := m.env
	k := e.keys
	st := &e.st
	var b strings.Builder
	b.WriteString(st.title.Render("Keys") + "\n")
	line := func(bs ...key.Binding) {
		for _, x := range bs {
			fmt.Fprintf(&b, "  %-12s %s\n", x.Help().Key, x.Help().Desc)
		}
	}
	line(k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Enter, k.Back, k.Filter, k.Sort, k.Reverse,
		k.Command, k.NextTab, k.Refresh, k.Errors, k.Help, k.Quit)
	fmt.Fprintf(&b, "  %-12s %s\n", fmt.Sprintf("1-%d", len(m.views)), "switch view")
	b.WriteString(st.title.Render(m.views[m.active].title()) + "\n")
	viewKeys := m.views[m.active].keys(e)
	if hk, ok := m.views[m.active].(helpKeyer); ok {
		viewKeys = hk.helpKeys(e)
	}
	line(offered(e, viewKeys)...)
	commands := wrap("Commands: "+strings.Join(append(m.viewCommands(), ":help", ":quit"), " "), w)
	text := b.String()
	// Two columns when the terminal is too short for one; the commands
	// stay full width below.
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if bodyH := e.h - 4; len(lines)+len(commands) > bodyH && w >= 70 {
		half := (len(lines) + 1) / 2
		var out []string
		for i := 0; i < half; i++ {
			r := ""
			if i+half < len(lines) {
				r = lines[i+half]
			}
			out = append(out, cell(lines[i], w/2, false)+r)
		}
		return strings.Join(append(out, commands...), "\n")
	}
	return strings.Join(append(lines, commands...), "\n")
}
