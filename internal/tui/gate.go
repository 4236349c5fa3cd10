package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drconsole/drconsole/internal/runbook"
)

// modal is a confirmation built for people under stress: Enter alone
// never decides, the operator types a token (the resource the decision
// changes, or the gate's name), refusing takes esc and then y, and key
// repeats, pastes (bracketed, or several keys in one read of the
// terminal) and keys pressed in the first moments after it opens are
// ignored, so a key held, pasted or typed ahead before the operator read
// the question cannot approve it.
type modal struct {
	// node is the run's gate or step this modal decides ("" for a
	// console action such as a roll back).
	node   string
	title  string
	prompt string
	covers string // which steps approving the gate confirms
	// of names the run and runbook asking; deadline is when the gate's
	// timeout refuses it (zero: none).
	of       string
	deadline time.Time
	changes  []string
	token    string
	input    string
	opened   time.Time
	delay    time.Duration
	note     string // why the last input was ignored
	lastKey  string
	lastAt   time.Time
	// refusing is set by esc: the next key confirms the refusal (y) or
	// goes back to the question.
	refusing bool
	decide   func(approved bool) tea.Cmd
	done     bool
	// offset is the first line of the prompt and planned changes shown;
	// page and total are how many fit and how many there are, as last
	// drawn.
	offset, page, total int
}

// repeatWindow is how close two identical keys must be to count as the
// terminal's auto-repeat rather than two presses.
const repeatWindow = 40 * time.Millisecond

// burstWindow is how close two keys must be to have come in one read of
// the terminal: a paste without bracketed-paste markers arrives as one
// key per character, far faster than anyone types.
const burstWindow = 12 * time.Millisecond

func newModal(title, prompt, token string, changes []string, now time.Time, delay time.Duration, decide func(bool) tea.Cmd) *modal {
	return &modal{title: title, prompt: prompt, token: token, changes: changes, opened: now, delay: delay, decide: decide}
}

// key handles one key press; when it decides, done is set and the
// decision's command returned.
func (g *modal) key(msg tea.KeyPressMsg, now time.Time) tea.Cmd {
	s := msg.String()
	if g.refusing {
		g.refusing = false
		if s == "y" || s == "Y" {
			return g.finish(false)
		}
		g.note = "not refused: the gate is still open"
		return nil
	}
	if s == "esc" || s == "ctrl+c" {
		g.refusing = true
		g.note = ""
		return nil
	}
	// Scrolling is reading, allowed at once and held down; it never
	// touches the input.
	if g.scroll(s) {
		return nil
	}
	if now.Sub(g.opened) < g.delay {
		g.note = "keys pressed as the question opened are ignored: read it, then type"
		return nil
	}
	burst := !g.lastAt.IsZero() && now.Sub(g.lastAt) < burstWindow
	repeat := msg.IsRepeat || (s == g.lastKey && now.Sub(g.lastAt) < repeatWindow)
	g.lastKey, g.lastAt = s, now
	switch {
	case repeat:
		g.input = ""
		g.note = "key repeat ignored: type the token one key at a time"
		return nil
	case burst || utf8.RuneCountInString(msg.Text) > 1:
		g.paste()
		return nil
	}
	switch s {
	case "enter":
		switch {
		case g.input == "":
			g.note = "type " + g.token + " and press enter to approve, or esc to refuse"
		case g.input == g.token:
			return g.finish(true)
		default:
			g.note = "does not match: type " + g.token + " exactly, or esc to refuse"
		}
		return nil
	case "backspace", "ctrl+h":
		if r := []rune(g.input); len(r) > 0 {
			g.input = string(r[:len(r)-1])
		}
		return nil
	case "ctrl+u":
		g.input = ""
		return nil
	}
	if msg.Text != "" && !strings.ContainsAny(msg.Text, "\r\n") {
		g.input += msg.Text
		g.note = ""
	}
	return nil
}

// paste refuses pasted text: the token must be typed.
func (g *modal) paste() {
	g.input = ""
	g.note = "paste ignored: type the token one key at a time"
}

func (g *modal) finish(approved bool) tea.Cmd {
	g.done = true
	if g.decide == nil {
		return nil
	}
	return g.decide(approved)
}

// box renders the modal in at most h lines. The prompt and the planned
// changes are wrapped whole, never cut, and scroll when they do not fit;
// the token, the input and the cancel line always show below them.
func (g *modal) box(st *styles, w, h int, now time.Time) string {
	inner := max(min(w-6, 90), 30)
	var region []string
	if g.of != "" {
		region = append(region, wrapWhole(clean(g.of), inner)...)
	}
	region = append(region, wrapWhole(clean(g.prompt), inner)...)
	if g.covers != "" {
		region = append(region, wrapWhole(clean(g.covers), inner)...)
	}
	if len(g.changes) > 0 {
		region = append(region, fmt.Sprintf("Planned changes (%d):", len(g.changes)))
		for _, c := range g.changes {
			for i, l := range wrapWhole(clean(c), inner-4) {
				lead := "    "
				if i == 0 {
					lead = "  • "
				}
				region = append(region, lead+l)
			}
		}
	}
	var foot []string
	foot = append(foot, wrapWhole("Type "+st.key.Render(g.token)+" and press enter to approve.", inner)...)
	wait := ""
	if d := g.delay - now.Sub(g.opened); d > 0 {
		wait = "  (wait…)"
	}
	foot = append(foot, cell(fmt.Sprintf("> %s█%s", g.input, wait), inner, false))
	if !g.deadline.IsZero() {
		left := max(g.deadline.Sub(now), 0).Round(time.Second)
		foot = append(foot, st.warn.Render(cell("refused automatically in "+left.String(), inner, false)))
	}
	if g.note != "" {
		for _, l := range wrapWhole("! "+g.note, inner) {
			foot = append(foot, st.warn.Render(l))
		}
	}
	if g.refusing {
		foot = append(foot, st.bad.Render("Refuse? The run ends refused.")+"  y: refuse   any other key: back")
	} else {
		foot = append(foot, "approve: type the token, enter   refuse: esc")
	}

	// The border takes two lines, the title one.
	room := max(h-3-len(foot), 1)
	g.page, g.total = room, len(region)
	if len(region) > room {
		room = max(room-1, 1) // the scroll hint takes a line
		g.page = room
	}
	g.offset = max(min(g.offset, len(region)-room), 0)
	end := min(g.offset+room, len(region))
	var b strings.Builder
	b.WriteString(st.modalTitle.Render("⚠ "+g.title) + "\n")
	for _, l := range region[g.offset:end] {
		b.WriteString(l + "\n")
	}
	if len(region) > g.page || g.offset > 0 {
		var hint []string
		if g.offset > 0 {
			hint = append(hint, "↑ more above")
		}
		if end < len(region) {
			hint = append(hint, fmt.Sprintf("↓ more below (%d lines)", len(region)-end))
		}
		b.WriteString(st.warn.Render(strings.Join(hint, "  ")+"  pgup/pgdn ↑/↓ scroll") + "\n")
	}
	b.WriteString(strings.Join(foot, "\n"))
	return st.modal.Width(inner + 4).Render(b.String())
}

// scroll moves the planned changes by d lines (page: a screenful).
func (g *modal) scroll(s string) bool {
	page := max(g.page-1, 1)
	switch s {
	case "up":
		g.offset--
	case "down":
		g.offset++
	case "pgup":
		g.offset -= page
	case "pgdown":
		g.offset += page
	default:
		return false
	}
	g.offset = max(min(g.offset, g.total-g.page), 0)
	return true
}

// scrolls reports that the planned changes are longer than the box.
func (g *modal) scrolls() bool { return g.total > g.page }

// overlay draws the modal centred over body (h lines).
func (g *modal) overlay(st *styles, body string, w, h int, now time.Time) string {
	box := strings.Split(g.box(st, w, h, now), "\n")
	lines := strings.Split(body, "\n")
	top := max((h-len(box))/2, 0)
	left := max((w-widthOf(box[0]))/2, 0)
	for i, l := range box {
		if top+i < len(lines) {
			lines[top+i] = strings.Repeat(" ", left) + l
		}
	}
	return fit(strings.Join(lines, "\n"), w, h)
}

// wrap breaks s into lines of at most w columns at spaces.
func wrap(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && widthOf(line)+1+widthOf(word) > w {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return out
}

// wrapWhole breaks s into lines of at most w columns at spaces, like
// wrap, and breaks a word longer than a line (a key, an ARN) after a "/"
// or ":" where it can, so every part of it shows; nothing is cut.
func wrapWhole(s string, w int) []string {
	w = max(w, 8)
	var out []string
	for _, l := range wrap(s, w) {
		for widthOf(l) > w {
			cut := ansi.Truncate(l, w, "")
			plain := ansi.Strip(cut)
			// i is a byte offset: the cut is where its columns end.
			if i := strings.LastIndexAny(plain, "/:"); i >= 0 && widthOf(plain[:i+1]) >= w/2 {
				cut = ansi.Truncate(l, widthOf(plain[:i+1]), "")
			}
			if widthOf(cut) == 0 {
				// A character wider than the line: take it alone.
				cut = ansi.Truncate(l, widthOf(string([]rune(ansi.Strip(l))[:1])), "")
			}
			out = append(out, cut)
			l = ansi.TruncateLeft(l, widthOf(cut), "")
		}
		out = append(out, l)
	}
	return out
}

// gateMsg asks the console to open a gate for the engine.
type gateMsg struct {
	req   runbook.GateRequest
	reply chan<- runbook.Decision
}

// Approver decides the engine's gates through the console's modal.
type Approver struct {
	send     func(tea.Msg)
	operator string
	// flush, when set, delivers the run's buffered events first, so the
	// screen shows the gate waiting before the modal asks.
	flush func()
}

// NewApprover returns an approver that opens gates in the program send
// reaches (tea.Program.Send) and records decisions as operator.
func NewApprover(send func(tea.Msg), operator string) *Approver {
	return &Approver{send: send, operator: operator}
}

// Approve opens the modal and waits for the operator, the gate's timeout
// or the end of ctx.
func (a *Approver) Approve(ctx context.Context, req runbook.GateRequest) (runbook.Decision, error) {
	reply := make(chan runbook.Decision, 1)
	// Send blocks until the program takes the message; do it aside so a
	// program that is shutting down cannot hold the engine.
	go func() {
		if a.flush != nil {
			a.flush()
		}
		a.send(gateMsg{req: req, reply: reply})
	}()
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case d := <-reply:
		if d.By == "" {
			d.By = a.operator
		}
		return d, nil
	case <-timeout:
		return runbook.Decision{Approved: false, By: a.operator, Reason: "no answer within " + req.Timeout.String()}, nil
	case <-ctx.Done():
		return runbook.Decision{}, fmt.Errorf("ask %s: %w", req.Node, ctx.Err())
	}
}

// openGate shows the engine's gate request as a modal.
func (m *Model) openGate(msg gateMsg) {
	var changes []string
	for _, c := range msg.req.Changes {
		changes = append(changes, c.String())
	}
	token := msg.req.Token
	if token == "" {
		token = msg.req.Node
		if a, ok := runbook.ParseAddress(token); ok && a.Kind == runbook.KindGate {
			token = a.Name
		}
	}
	reply := msg.reply
	m.modal = newModal("Gate "+msg.req.Node, msg.req.Prompt, token, changes, m.env.now(), m.env.opts.GateDelay,
		func(ok bool) tea.Cmd {
			d := runbook.Decision{Approved: ok}
			if !ok {
				d.Reason = "refused in the console"
			}
			select {
			case reply <- d:
			default:
			}
			return nil
		})
	m.modal.node = msg.req.Node
	if msg.req.RunID != "" {
		m.modal.of = "run " + msg.req.RunID
		if m.run != nil && m.run.path != "" {
			m.modal.of += " of " + strings.TrimSuffix(filepath.Base(m.run.path), ".hcl")
		}
	}
	if msg.req.Timeout > 0 {
		m.modal.deadline = m.modal.opened.Add(msg.req.Timeout)
	}
	if len(msg.req.Covers) > 0 {
		m.modal.covers = runbook.CoversLine(msg.req.Covers)
	}
	if m.env.opts.ReadOnly {
		m.modal.note = "read-only console: this gate can only be refused"
		m.modal.token = "\x00" // nothing typed can match
	}
}
