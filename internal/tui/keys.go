package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
)

// keyMap is the console's key bindings: global ones first, then the
// actions views add. k9s and lazygit conventions: vim keys and arrows,
// g/G, page up/down, `:` commands, `/` filter, `?` help.
type keyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown  key.Binding
	Enter, Back, Filter, Command, Help, Quit key.Binding
	NextTab, PrevTab, Refresh, Sort, Reverse key.Binding

	// View actions.
	Timeline, Compare, Rollback key.Binding // Models
	Group, Restore              key.Binding // Recovery points
	Plan, Run, Cancel           key.Binding // Runbooks
	Resume, Teardown            key.Binding // Runs
	Drill                       key.Binding // Runbooks
	Export                      key.Binding // API log

	// Errors opens every failed call of the estate in full.
	Errors key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		Top:      b("g", "top", "g", "home"),
		Bottom:   b("G", "bottom", "G", "end"),
		PageUp:   b("pgup", "page up", "pgup", "ctrl+b", "ctrl+u"),
		PageDown: b("pgdn", "page down", "pgdown", "ctrl+f", "ctrl+d"),
		Enter:    b("enter", "open", "enter"),
		Back:     b("esc", "back", "esc"),
		Filter:   b("/", "filter", "/"),
		Command:  b(":", "command", ":"),
		Help:     b("?", "help", "?"),
		Quit:     b("q", "quit", "q", "ctrl+c"),
		NextTab:  b("tab", "next view", "tab"),
		PrevTab:  b("shift+tab", "previous view", "shift+tab"),
		Refresh:  b("r", "refresh", "r"),
		Sort:     b("s", "sort column", "s"),
		Reverse:  b("S", "reverse sort", "S"),
		Timeline: b("t", "timeline", "t"),
		Compare:  b("c", "mark/compare", "c"),
		Rollback: b("R", "roll back", "R"),
		Group:    b("v", "by vault/resource", "v"),
		Restore:  b("R", "nearest before time", "R"),
		Plan:     b("p", "plan", "p"),
		Run:      b("x", "run", "x"),
		Cancel:   b("ctrl+x", "cancel run", "ctrl+x"),
		Resume:   b("R", "resume", "R"),
		Teardown: b("T", "finish teardown", "T"),
		Drill:    b("D", "drill", "D"),
		Export:   b("e", "export JSON", "e"),
		Errors:   b("E", "failed calls in full", "E"),
	}
}

// changes are the keys that start a change to the estate: a read-only
// console offers none of them.
func (k keyMap) changes() []key.Binding {
	return []key.Binding{k.Rollback, k.Restore, k.Run, k.Resume, k.Teardown, k.Drill}
}

// offered is bs without the keys that do nothing in this console: those
// that change the estate when it is read-only.
func offered(e *env, bs []key.Binding) []key.Binding {
	if !e.opts.ReadOnly {
		return bs
	}
	var out []key.Binding
next:
	for _, b := range bs {
		for _, c := range e.keys.changes() {
			if b.Help() == c.Help() && slices.Equal(b.Keys(), c.Keys()) {
				continue next
			}
		}
		out = append(out, b)
	}
	return out
}

// helpKeyer is a view whose keys depend on where it is: help lists them
// all, the footer only those that work here.
type helpKeyer interface {
	helpKeys(e *env) []key.Binding
}
