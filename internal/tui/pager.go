package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pager shows one item's text whole: wrapped at the width, never cut,
// scrolled a line or a page at a time. A view opens one for the row under
// the cursor when the row has more to say than its columns hold.
type pager struct {
	scroller
	title string
	text  []string // lines as written; each wraps at the width drawn
}

// key scrolls; it reports false for a key that closes the pager (esc,
// enter).
func (p *pager) key(e *env, k tea.KeyPressMsg) bool {
	if key.Matches(k, e.keys.Back, e.keys.Enter) {
		return false
	}
	p.scroll(e.keys, k, max(e.h-6, 1))
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
	return p.window(e.st.title.Render(p.title), lines, h)
}
