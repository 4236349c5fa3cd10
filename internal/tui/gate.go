package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/runbook"
)

// modal is a confirmation built for people under stress: it defaults to
// cancel, Enter alone never approves, the operator types a token (the
// gate's name or a step's blast radius), and key repeats, pastes and keys
// pressed in the first moments after it opens are ignored, so a key held
// or typed ahead before the operator read the question cannot approve it.
type modal struct {
	// node is the run's gate or step this modal decides ("" for a
	// console action such as a roll back).
	node    string
	title   string
	prompt  string
	changes []string
	token   string
	input   string
	opened  time.Time
	delay   time.Duration
	note    string // why the last input was ignored
	lastKey string
	lastAt  time.Time
	decide  func(approved bool) tea.Cmd
	done    bool
}

// repeatWindow is how close two identical keys must be to count as the
// terminal's auto-repeat rather than two presses.
const repeatWindow = 40 * time.Millisecond

func newModal(title, prompt, token string, changes []string, now time.Time, delay time.Duration, decide func(bool) tea.Cmd) *modal {
	return &modal{title: title, prompt: prompt, token: token, changes: changes, opened: now, delay: delay, decide: decide}
}

// key handles one key press; when it decides, done is set and the
// decision's command returned.
func (g *modal) key(msg tea.KeyPressMsg, now time.Time) tea.Cmd {
	s := msg.String()
	if s == "esc" || s == "ctrl+c" {
		return g.finish(false)
	}
	if now.Sub(g.opened) < g.delay {
		g.note = "keys pressed as the question opened are ignored: read it, then type"
		return nil
	}
	repeat := msg.IsRepeat || (s == g.lastKey && now.Sub(g.lastAt) < repeatWindow)
	g.lastKey, g.lastAt = s, now
	if repeat {
		g.input = ""
		g.note = "key repeat ignored: type the token one key at a time"
		return nil
	}
	switch s {
	case "enter":
		switch {
		case g.input == "":
			return g.finish(false) // the default is cancel
		case g.input == g.token:
			return g.finish(true)
		default:
			g.note = "does not match: type " + g.token + " exactly, or esc to cancel"
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
	g.note = "paste ignored: type the token"
}

func (g *modal) finish(approved bool) tea.Cmd {
	g.done = true
	if g.decide == nil {
		return nil
	}
	return g.decide(approved)
}

// box renders the modal.
func (g *modal) box(st *styles, w int, now time.Time) string {
	inner := max(min(w-6, 90), 30)
	var b strings.Builder
	b.WriteString(st.modalTitle.Render("⚠ "+g.title) + "\n")
	// A long prompt is cut so the token and input lines always show.
	lines := wrap(g.prompt, inner)
	if len(lines) > 4 {
		lines = append(lines[:3], "…")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if len(g.changes) > 0 {
		b.WriteString("Planned changes:\n")
		shown := g.changes
		if len(shown) > 6 {
			shown = shown[:5]
		}
		for _, c := range shown {
			b.WriteString("  • " + cell(clean(c), inner-4, false) + "\n")
		}
		if len(shown) < len(g.changes) {
			fmt.Fprintf(&b, "  … and %d more\n", len(g.changes)-len(shown))
		}
	}
	fmt.Fprintf(&b, "Type %s and press enter to approve.\n", st.key.Render(g.token))
	wait := ""
	if d := g.delay - now.Sub(g.opened); d > 0 {
		wait = "  (wait…)"
	}
	fmt.Fprintf(&b, "> %s█%s\n", g.input, wait)
	if g.note != "" {
		b.WriteString(st.warn.Render("! "+g.note) + "\n")
	}
	b.WriteString(st.selected.Render("[ Cancel ]") + "  approve: type the token   esc: cancel")
	return st.modal.Width(inner + 4).Render(b.String())
}

// overlay draws the modal centred over body (h lines).
func (g *modal) overlay(st *styles, body string, w, h int, now time.Time) string {
	box := strings.Split(g.box(st, w, now), "\n")
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
	if m.env.opts.ReadOnly {
		m.modal.note = "read-only console: this gate can only be refused"
		m.modal.token = "\x00" // nothing typed can match
	}
}
