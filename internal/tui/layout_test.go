package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drconsole/drconsole/internal/inventory"
)

// TestLayoutFitsEverySize draws every view at several sizes, resizing
// between them: each frame is exactly the terminal's height and no line
// is wider than it.
func TestLayoutFitsEverySize(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	for v := 1; v <= 8; v++ {
		h.keys(fmt.Sprint(v))
		for _, sz := range []struct{ w, h int }{{80, 24}, {100, 30}, {120, 40}, {200, 60}, {60, 16}, {30, 8}, {20, 6}} {
			h.send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			lines := strings.Split(h.m.Render(), "\n")
			if len(lines) != sz.h {
				t.Errorf("view %d at %dx%d: %d lines", v, sz.w, sz.h, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz.w {
					t.Errorf("view %d at %dx%d: line %d is %d wide: %q", v, sz.w, sz.h, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func FuzzFit(f *testing.F) {
	f.Add("a\nbb\nccc", 2, 2)
	f.Add("✔ wide ✖ glyphs ▶ and 日本語", 5, 1)
	f.Fuzz(func(t *testing.T, s string, w, h int) {
		if w < 1 || w > 300 || h < 1 || h > 100 {
			return
		}
		// fit takes drawn text: data has been through clean.
		s = clean(strings.ReplaceAll(s, "\n", "\x00"))
		s = strings.ReplaceAll(s, "␣", "\n")
		lines := strings.Split(fit(s, w, h), "\n")
		if len(lines) != h {
			t.Fatalf("%d lines, want %d", len(lines), h)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Fatalf("line %q wider than %d", l, w)
			}
		}
	})
}

func FuzzTimeSpark(f *testing.F) {
	f.Add(10, int64(3), 1.5)
	f.Fuzz(func(t *testing.T, width int, n int64, v float64) {
		if width < 1 || width > 500 || n < 0 || n > 1000 {
			return
		}
		var s inventory.Series
		for i := int64(0); i < n; i++ {
			s.Times = append(s.Times, fixedNow.Add(-replicationWindow).Add(replicationWindow*time.Duration(i)/time.Duration(max(n, 1))))
			s.Values = append(s.Values, v*float64(i))
		}
		out := timeSpark(s, fixedNow.Add(-replicationWindow), fixedNow, width)
		if got := len([]rune(out)); got != width {
			t.Fatalf("%d columns, want %d", got, width)
		}
	})
}

func TestGateFitsAt80x24(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	var changes []string
	for i := 0; i < 40; i++ {
		changes = append(changes, fmt.Sprintf("CopyObject ai-model-artifacts/models/m%02d/model.safetensors <- version v%02d", i, i))
	}
	h.m.modal = newModal("Gate step.s3_restore.models", strings.Repeat("A very long prompt that keeps going. ", 20),
		"ai-model-artifacts/models/", changes, fixedNow, 0, nil)
	s := h.screen()
	for _, want := range []string{"Type ai-model-artifacts/models/ and press enter", "> █", "refuse: esc", "↓ more below"} {
		if !strings.Contains(s, want) {
			t.Errorf("gate at 80x24 lacks %q:\n%s", want, s)
		}
	}
	// Paging reaches the last change, the token line staying on screen.
	for range 40 {
		h.keys("pgdown")
		if !strings.Contains(h.screen(), "> █") {
			t.Fatalf("paging hid the input:\n%s", h.screen())
		}
	}
	if s := h.screen(); !strings.Contains(s, "models/m39/model.safetensors") || strings.Contains(s, "more below") {
		t.Errorf("the last change is not reachable:\n%s", s)
	}
}

func FuzzCell(f *testing.F) {
	f.Add("models/a.bin", 10, false)
	f.Add("key\x1b[31mred\x07\xff", 8, true)
	f.Fuzz(func(t *testing.T, s string, w int, right bool) {
		if w < 1 || w > 300 {
			return
		}
		out := cell(clean(s), w, right)
		if got := ansi.StringWidth(out); got != w {
			t.Fatalf("cell(%q, %d) is %d wide: %q", s, w, got, out)
		}
		if strings.ContainsAny(out, "\x1b\x07\r\n") {
			t.Fatalf("control characters reach the terminal: %q", out)
		}
	})
}

// wrapWhole loses nothing: every line fits and the words come back
// whole when the lines are joined.
func FuzzWrapWhole(f *testing.F) {
	f.Add("CopyObject bucket/models/a/very/long/key/shard-00017-of-00032.safetensors <- version abc", 30)
	f.Add("arn:aws:backup:us-west-2:123456789012:recovery-point:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 20)
	f.Add("short", 8)
	f.Fuzz(func(t *testing.T, s string, w int) {
		if w < 8 || w > 200 {
			return
		}
		s = clean(s)
		lines := wrapWhole(s, w)
		for _, l := range lines {
			if widthOf(l) > w {
				t.Fatalf("line %q is %d wide, over %d", l, widthOf(l), w)
			}
		}
		if got, want := strings.Join(strings.Fields(strings.Join(lines, "")), ""), strings.Join(strings.Fields(s), ""); got != want {
			t.Fatalf("wrapping changed the text:\n got %q\nwant %q", got, want)
		}
	})
}
