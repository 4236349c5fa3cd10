package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/journal"
)

// A state directory others may write to is named in the console, where
// the CLI's stderr cannot be seen: on the status line at start and over
// the Runs view's list.
func TestStateDirWarningShows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	store, err := journal.OpenStore(dir)
	if err != nil || store.Warning == "" {
		t.Fatalf("store: %v, warning %q", err, store.Warning)
	}
	h := newHarness(t, 120, 40, func(o *Options) {
		if o.Runs != nil {
			o.Runs.Store, o.StateDir = store, dir
		}
	})
	if s := h.screen(); !strings.Contains(s, "⚠ state directory "+dir+" is writable by others") {
		t.Fatalf("no warning on the status line:\n%s", s)
	}
	h.keys("7")
	h.settle()
	if s := h.screen(); !strings.Contains(s, "⚠ state directory") || !strings.Contains(s, "writable by others (mode 0777)") ||
		!strings.Contains(s, "chmod 700 it") {
		t.Fatalf("no warning over the runs:\n%s", s)
	}

	plain := newHarness(t, 120, 40, nil)
	plain.keys("7")
	plain.settle()
	if s := plain.screen(); strings.Contains(s, "⚠ state directory") {
		t.Fatalf("a warning for a private state directory:\n%s", s)
	}
}
