package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
)

// APICall is one AWS call as the API log shows and exports it. It holds
// resource names only, never payloads or credentials.
type APICall struct {
	Time      time.Time         `json:"time"`
	Service   string            `json:"service"`
	Operation string            `json:"operation"`
	Region    string            `json:"region"`
	Params    map[string]string `json:"params,omitempty"`
	Status    int               `json:"status"`
	RequestID string            `json:"request_id,omitempty"`
	Latency   time.Duration     `json:"latency_ns"`
	Attempts  int               `json:"attempts"`
	Error     string            `json:"error,omitempty"`
	// ErrorSummary is Error's useful part (AWS's code and message) for
	// the one-line rows.
	ErrorSummary string `json:"-"`
}

// CallLog keeps the most recent calls. Observers add to it from any
// goroutine; the view reads a copy.
type CallLog struct {
	mu  sync.Mutex
	max int
	// calls fills up to max, then is a ring whose oldest entry is at
	// next, so a long run's calls cost no copying.
	calls []APICall
	next  int
	added int // ever added, so the view knows when to re-read
}

// NewCallLog keeps at most max calls (0: 50,000).
func NewCallLog(max int) *CallLog {
	if max <= 0 {
		max = 50000
	}
	return &CallLog{max: max}
}

// Add records a call.
func (l *CallLog) Add(c APICall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) < l.max {
		l.calls = append(l.calls, c)
	} else {
		l.calls[l.next] = c
		l.next = (l.next + 1) % l.max
	}
	l.added++
}

// ObserveCall implements the AWS clients' observer: every call the
// console and its runs make lands here.
func (l *CallLog) ObserveCall(c awsx.Call) {
	a := APICall{Time: c.Start, Service: c.Service, Operation: c.Operation, Region: c.Region, Params: c.Params,
		Status: c.Status, RequestID: c.RequestID, Latency: c.Latency, Attempts: c.Attempts}
	if c.Err != nil {
		a.Error, a.ErrorSummary = c.Err.Error(), callError(c.Err)
	}
	l.Add(a)
}

// Snapshot returns a copy of the calls, oldest first, and the add count.
func (l *CallLog) Snapshot() ([]APICall, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]APICall(nil), l.calls[l.next:]...)
	return append(out, l.calls[:l.next]...), l.added
}

// apiLogView lists the calls, newest at the bottom.
type apiLogView struct {
	g     *grid
	calls []APICall
	seen  int
	// open shows one call whole (enter): every parameter, the request id
	// and the error, wrapped, nothing cut.
	open *pager
}

func newAPILog() *apiLogView {
	v := &apiLogView{g: newGrid(
		column{title: "TIME", width: 8},
		column{title: "SERVICE", width: 10},
		column{title: "OPERATION", width: 20},
		column{title: "REGION", width: 9},
		column{title: "HTTP", width: 4, right: true},
		column{title: "MS", width: 4, right: true},
		column{title: "TRY", width: 3, right: true},
		column{title: "PARAMETERS / REQUEST", min: 10},
	)}
	v.g.setSource(0, v.row)
	return v
}

func (v *apiLogView) row(i int) []string {
	c := v.calls[i]
	var ps []string
	for _, k := range sortedKeys(c.Params) {
		ps = append(ps, k+"="+c.Params[k])
	}
	tail := strings.Join(ps, " ")
	if c.Error != "" {
		e := c.ErrorSummary
		if e == "" {
			e = c.Error
		}
		tail = "✖ " + clean(e) + " " + tail
	}
	if c.RequestID != "" {
		tail += " req=" + c.RequestID
	}
	return []string{c.Time.UTC().Format("15:04:05"), c.Service, c.Operation, c.Region, fmt.Sprint(c.Status),
		fmt.Sprint(c.Latency.Milliseconds()), fmt.Sprint(c.Attempts), tail}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (v *apiLogView) title() string   { return "API log" }
func (v *apiLogView) command() string { return "api" }
func (v *apiLogView) keys(e *env) []key.Binding {
	if v.open != nil {
		return []key.Binding{e.keys.Back, e.keys.Up, e.keys.Down, e.keys.PageDown}
	}
	return []key.Binding{e.keys.Enter, e.keys.Export, e.keys.Sort, e.keys.Refresh}
}

// sync re-reads the log when calls were added since the last frame.
func (v *apiLogView) sync(e *env) {
	calls, added := e.opts.Calls.Snapshot()
	if added == v.seen {
		return
	}
	atEnd := v.g.cursor >= v.g.len()-1
	v.calls, v.seen = calls, added
	v.g.setSource(len(calls), v.row)
	if atEnd {
		v.g.bottom()
	}
}

func (v *apiLogView) activate(e *env) tea.Cmd { v.sync(e); return nil }
func (v *apiLogView) refresh(e *env) tea.Cmd  { v.sync(e); return nil }
func (v *apiLogView) filterGrid() *grid       { return v.g }
func (v *apiLogView) back(*env) (tea.Cmd, bool) {
	if v.open != nil {
		v.open = nil
		return nil, true
	}
	return nil, false
}
func (v *apiLogView) capturing() bool { return false }

func (v *apiLogView) update(e *env, msg tea.Msg) tea.Cmd {
	k, isKey := msg.(tea.KeyPressMsg)
	if isKey && v.open != nil {
		if !v.open.key(e, k) {
			v.open = nil
		}
		return nil
	}
	switch {
	case isKey && key.Matches(k, e.keys.Export):
		return v.export(e)
	case isKey && key.Matches(k, e.keys.Enter):
		if i := v.g.selected(); i >= 0 && i < len(v.calls) {
			v.open = callPager(v.calls[i])
		}
		return nil
	}
	listKeys(e, v.g, msg)
	return nil
}

// callPager is one call in full.
func callPager(c APICall) *pager {
	p := &pager{title: fmt.Sprintf("%s %s in %s", c.Service, c.Operation, c.Region)}
	add := func(f string, a ...any) { p.text = append(p.text, fmt.Sprintf(f, a...)) }
	add("at %s  HTTP %d  %dms  %d %s", c.Time.UTC().Format(time.RFC3339Nano), c.Status, c.Latency.Milliseconds(), c.Attempts, plural(c.Attempts, "attempt", "attempts"))
	if c.RequestID != "" {
		add("request id %s", c.RequestID)
	}
	for _, k := range sortedKeys(c.Params) {
		add("%s = %s", k, c.Params[k])
	}
	if c.Error != "" {
		add("")
		add("✖ %s", c.Error)
	}
	return p
}

// export writes the calls shown (the filter applies) as JSON into the
// state directory: the evidence pack of an incident or drill.
func (v *apiLogView) export(e *env) tea.Cmd {
	var out []APICall
	for pos := 0; pos < v.g.len(); pos++ {
		out = append(out, v.calls[v.g.at(pos)])
	}
	dir := e.opts.StateDir
	if dir == "" {
		dir = "."
	}
	name := filepath.Join(dir, "api-log-"+e.now().UTC().Format("20060102T150405Z")+".json")
	return func() tea.Msg {
		b, err := json.MarshalIndent(out, "", "  ")
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
		if err == nil {
			err = os.WriteFile(name, append(b, '\n'), 0o600)
		}
		if err != nil {
			return statusMsg{text: fmt.Sprintf("export API log to %s: %v", name, err), err: true}
		}
		return statusMsg{text: fmt.Sprintf("exported %d calls to %s", len(out), name)}
	}
}

func (v *apiLogView) render(e *env, w, h int) string {
	v.sync(e)
	if v.open != nil {
		return v.open.render(e, w, h)
	}
	head := e.st.title.Render("API calls") + fmt.Sprintf("  %s  %s", v.g.position(), filterNote(v.g))
	return head + "\n" + v.g.view(&e.st, w, h-1)
}

func filterNote(g *grid) string {
	if g.filter == "" {
		return ""
	}
	return "filter: " + g.filter
}

// listKeys moves a grid with the navigation keys; it reports whether the
// key was one of them.
func listKeys(e *env, g *grid, msg tea.Msg) bool {
	k := e.keys
	page := max(e.h-8, 1)
	switch msg := msg.(type) {
	case scrollMsg:
		g.move(msg.delta)
		return true
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			g.move(-1)
		case key.Matches(msg, k.Down):
			g.move(1)
		case key.Matches(msg, k.Top):
			g.top()
		case key.Matches(msg, k.Bottom):
			g.bottom()
		case key.Matches(msg, k.PageUp):
			g.move(-page)
		case key.Matches(msg, k.PageDown):
			g.move(page)
		case key.Matches(msg, k.Sort):
			g.cycleSort()
		case key.Matches(msg, k.Reverse):
			g.reverse()
		default:
			return false
		}
		return true
	}
	return false
}
