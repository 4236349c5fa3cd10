package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pager shows one item's text whole: wrapped at the width, never cut,
// scrolled a line or a page at a time. A view opens one for the row under
// the cursor when the row has more to say than its columns hold.
type pager struct {
	title  string
	text   []string // lines as written; each wraps at the width drawn
	offset int
}

// key scrolls; it reports false for a key that closes the pager (esc,
// enter).
func (p *pager) key(e *env, k tea.KeyPressMsg) bool {
	page := max(e.h-6, 1)
	switch {
	case key.Matches(k, e.keys.Back, e.keys.Enter):
		return false
	case key.Matches(k, e.keys.Down):
		p.offset++
	case key.Matches(k, e.keys.Up):
		p.offset--
	case key.Matches(k, e.keys.PageDown):
		p.offset += page
	case key.Matches(k, e.keys.PageUp):
		p.offset -= page
	case key.Matches(k, e.keys.Top):
		p.offset = 0
	}
	p.offset = max(p.offset, 0)
	return true
}

// render draws the pager in w x h.
func (p *pager) render(e *env, w, h int) string {
	var lines []string
	for _, t := range p.text {
		if t == "" {
			lines = append(lines, "")
			continue
		}
		lines = append(lines, wrapWhole(clean(t), w)...)
	}
	body := max(h-1, 1)
	p.offset = max(min(p.offset, len(lines)-body), 0)
	end := min(p.offset+body, len(lines))
	head := e.st.title.Render(p.title)
	if len(lines) > body {
		head += fmt.Sprintf("  lines %d-%d of %d", p.offset+1, end, len(lines))
	}
	return head + "\n" + strings.Join(lines[p.offset:end], "\n")
}
