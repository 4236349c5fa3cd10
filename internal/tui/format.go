package tui

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/drconsole/drconsole/internal/inventory"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// age renders a duration the way an on-call reads it: the two largest units.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// bytes renders a size in binary units.
func bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// stamp renders a time in UTC to the minute.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// count renders an integer with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean makes text from AWS (keys, metadata, log lines) safe to draw:
// control and format characters and invalid UTF-8 become visible
// replacements instead of reaching the terminal.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune('�')
		case unicode.IsControl(r):
			b.WriteRune('␣')
		case unicode.Is(unicode.Cf, r):
			// Format characters join or hide neighbours, which would
			// shift columns.
			b.WriteRune('·')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cell fits s to exactly w columns: truncated with an ellipsis or padded.
// s may carry styles; text from AWS goes through clean first.
func cell(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		// A wide character cut at the edge leaves a column to pad.
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

// fit makes s exactly h lines of at most w columns, so every view fills
// its area and a short view never leaves the previous frame showing.
func fit(s string, w, h int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// alarmState renders an alarm state with a glyph and the word.
func alarmState(s string) string {
	switch s {
	case "OK":
		return "✔ OK"
	case "ALARM":
		return "✖ ALARM"
	case "INSUFFICIENT_DATA":
		return "? NO DATA"
	}
	return "· " + s
}

func widthOf(s string) int { return ansi.StringWidth(s) }

// keepEnd fits s in w columns by cutting its start: the end of a path
// (the key) says more than its bucket.
func keepEnd(s string, w int) string {
	sw := widthOf(s)
	if sw <= w || w < 2 {
		return s
	}
	return "…" + ansi.TruncateLeft(s, sw-w+1, "")
}

// secs converts a metric in seconds to a duration.
func secs(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

func ansiStrip(s string) string { return ansi.Strip(s) }

// timeSpark draws a series over [from, to] in width columns placed by
// time: each column shows the largest sample in its slice of time, and a
// column with no sample is a dot, so gaps in the data stay visible.
func timeSpark(s inventory.Series, from, to time.Time, width int) string {
	if width <= 0 || !to.After(from) {
		return ""
	}
	cols := make([]float64, width)
	has := make([]bool, width)
	top := 0.0
	span := float64(to.Sub(from))
	for i, t := range s.Times {
		if t.Before(from) || t.After(to) {
			continue
		}
		c := min(int(float64(t.Sub(from))/span*float64(width)), width-1)
		if !has[c] || s.Values[i] > cols[c] {
			cols[c] = s.Values[i]
		}
		has[c] = true
		top = max(top, s.Values[i])
	}
	blocks := []rune("▁▂▃▄▅▆▇█")
	out := make([]rune, width)
	for i := range out {
		switch {
		case !has[i]:
			out[i] = '·'
		case top == 0:
			out[i] = blocks[0]
		default:
			out[i] = blocks[int(cols[i]/top*float64(len(blocks)-1))]
		}
	}
	return string(out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
