package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
)

// partNames name the parts in the error panel.
var partNames = [numParts]string{
	partIdentity: "Identity", partPoints: "Recovery points", partReplication: "Replication",
	partFleet: "DR fleet", partAlarms: "Alarms", partBuckets: "Buckets", partVolumes: "Volumes",
}

// partNote says why a part has nothing to show: it never answered yet,
// or its last read failed whole. A part read again keeps showing what it
// had until the new answer comes (asOf says how old it is).
func partNote(e *env, p part) string {
	switch {
	case e.est.at[p].IsZero():
		return e.st.dim.Render("  loading…")
	case e.est.err[p] != nil:
		return e.st.statusErr.Render("  ✖ could not read: "+awsx.DescribeError(e.est.err[p]).Summary) +
			"  " + e.st.dim.Render("("+e.keys.Errors.Help().Key+": in full)")
	}
	return ""
}

// failNote is the line a pane shows under what it loaded when some of its
// calls failed: how many, the first one's useful part, and the key that
// opens them in full. "" when none failed or the part read nothing (then
// partNote says so).
func failNote(e *env, parts ...part) string {
	var errs []loadError
	for _, p := range parts {
		if !e.est.at[p].IsZero() && e.est.err[p] == nil {
			errs = append(errs, e.est.errs[p]...)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	return e.st.warn.Render(fmt.Sprintf("  ! %d %s failed — press %s: %s", len(errs), plural(len(errs), "call", "calls"),
		e.keys.Errors.Help().Key, errorLine(errs[0])))
}

// failedCalls is the status line after a part loaded with failures.
func failedCalls(e *env, errs []loadError) string {
	s := errorLine(errs[0])
	if len(errs) > 1 {
		s = fmt.Sprintf("%d calls failed; %s", len(errs), s)
	}
	return s + " (" + e.keys.Errors.Help().Key + ": all errors)"
}

// errorLine is one failed call in a line, the useful part first.
func errorLine(le loadError) string { return errorText(le.err) }

// errorText is err in one line with the useful part first: for an AWS
// call, AWS's code and message, the call, then what was being done (the
// wrapping), so a line cut at the screen's width still says what failed.
// Other errors keep their text.
func errorText(err error) string {
	i := awsx.DescribeError(err)
	if i.Code == "" && i.Operation == "" {
		return clean(i.Full)
	}
	s := i.Summary
	if doing, _, ok := strings.Cut(i.Full, "operation error "); ok {
		if doing = strings.TrimSuffix(strings.TrimSpace(doing), ":"); doing != "" {
			s += " — " + doing
		}
	}
	return clean(s)
}

// callError is a failed call's error for the API log's one-line rows,
// whose other columns already say the operation, region, status and
// request id: AWS's code and message, else the innermost error.
func callError(err error) string {
	i := awsx.DescribeError(err)
	switch {
	case i.Code != "" && i.Message != "":
		return i.Code + ": " + i.Message
	case i.Code != "":
		return i.Code
	}
	return strings.SplitN(i.Summary, " (", 2)[0]
}

// errorPanel lists every failed call of the estate in full, wrapped to
// the width and scrolled a line at a time.
type errorPanel struct {
	scroller
	// last is the status line's latest error, shown whole first.
	last string
}

// lines renders the panel's text at width w, the active view's parts
// first.
func (p *errorPanel) lines(e *env, first []part, w int) []string {
	st := &e.st
	var order []part
	seen := [numParts]bool{}
	for _, x := range append(append([]part{}, first...), allParts()...) {
		if !seen[x] {
			seen[x] = true
			order = append(order, x)
		}
	}
	var out []string
	if p.last != "" {
		out = append(out, st.title.Render("Latest error"))
		out = append(out, indentWrap(clean(p.last), w)...)
	}
	n := 0
	for _, x := range order {
		errs := e.est.errs[x]
		if len(errs) == 0 {
			continue
		}
		out = append(out, st.title.Render(fmt.Sprintf("%s: %d failed %s", partNames[x], len(errs), plural(len(errs), "call", "calls"))))
		for _, le := range errs {
			n++
			i := awsx.DescribeError(le.err)
			op := i.Operation
			if op == "" {
				op = le.op
			}
			region := i.Region
			if region == "" {
				region = le.region
			}
			head := "✖ " + op + "  " + region
			if le.resource != "" {
				head += "  " + le.resource
			}
			out = append(out, st.bad.Render(clean(head)))
			var facts []string
			facts = append(facts, le.op)
			if i.Status != 0 {
				facts = append(facts, fmt.Sprintf("HTTP %d", i.Status))
			}
			if i.Code != "" {
				facts = append(facts, i.Code)
			}
			rid := i.RequestID
			if rid == "" {
				rid = "none"
			}
			facts = append(facts, "request id "+rid)
			out = append(out, indentWrap(strings.Join(facts, " · "), w)...)
			out = append(out, indentWrap(clean(i.Full), w)...)
		}
	}
	if n == 0 {
		out = append(out, st.ok.Render("✔ no call failed"))
	}
	return out
}

// indentWrap wraps s to w columns, two spaces in, breaking long words
// (ARNs, keys) at their separators rather than cutting them.
func indentWrap(s string, w int) []string {
	var out []string
	for _, l := range wrapWhole(s, max(w-2, 10)) {
		out = append(out, "  "+l)
	}
	return out
}

func allParts() []part {
	ps := make([]part, numParts)
	for i := range ps {
		ps[i] = part(i)
	}
	return ps
}

// render draws the panel in w x h: a title line and the scrolled text.
func (p *errorPanel) render(e *env, first []part, w, h int) string {
	return p.window(e.st.title.Render("Failed calls"), p.lines(e, first, w), h)
}

// key scrolls the panel; it reports false for a key that closes it.
func (p *errorPanel) key(k keyMap, msg tea.KeyPressMsg, h int) bool {
	if key.Matches(msg, k.Errors, k.Back, k.Quit) {
		return false
	}
	p.scroll(k, msg, max(h-2, 1))
	return true
}

// scroller is a window over lines, scrolled a line or a page at a time:
// the error panel's and a pager's.
type scroller struct {
	offset int
}

// scroll moves the window by a navigation key; it reports whether the
// key was one.
func (s *scroller) scroll(k keyMap, msg tea.KeyPressMsg, page int) bool {
	switch {
	case key.Matches(msg, k.Up):
		s.offset--
	case key.Matches(msg, k.Down):
		s.offset++
	case key.Matches(msg, k.PageUp):
		s.offset -= page
	case key.Matches(msg, k.PageDown):
		s.offset += page
	case key.Matches(msg, k.Top):
		s.offset = 0
	case key.Matches(msg, k.Bottom):
		s.offset = 1 << 30 // window clamps it
	default:
		return false
	}
	s.offset = max(s.offset, 0)
	return true
}

// window draws head and the lines in view, h rows in all, saying where
// it is when the lines do not fit.
func (s *scroller) window(head string, lines []string, h int) string {
	body := max(h-1, 1)
	s.offset = max(min(s.offset, len(lines)-body), 0)
	end := min(s.offset+body, len(lines))
	if len(lines) > body {
		head += fmt.Sprintf("  lines %d-%d of %d", s.offset+1, end, len(lines))
	}
	if end < len(lines) {
		head += "  ↓ more below"
	}
	return head + "\n" + strings.Join(lines[s.offset:end], "\n")
}

// viewParts are the parts a view shows, whose failures the panel lists
// first.
func viewParts(v viewID) []part {
	switch v {
	case viewOverview:
		return overviewParts
	case viewModels:
		return []part{partBuckets}
	case viewPoints:
		return []part{partPoints}
	case viewReplication:
		return []part{partReplication}
	case viewFleet:
		return []part{partFleet, partAlarms}
	case viewVolumes:
		return volumesParts
	}
	return nil
}
