package tui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

const secretRunbook = `runbook {
  description = "A long wait that needs a secret"
}

variable "label" {
  type    = string
  default = "nightly"
}

variable "token" {
  type      = string
  sensitive = true
}

step "wait" "long" {
  duration = "1h"
}
`

func TestResumeVarsNeverPassesTheSensitiveMark(t *testing.T) {
	rb := &runbook.Runbook{Variables: []*runbook.Variable{{Name: "label"}, {Name: "token", Sensitive: true}}}
	for _, tc := range []struct {
		name          string
		recorded      map[string]string
		given         []string
		flags, missed []string
	}{
		{"sensitive missing", map[string]string{"label": "a", "token": "(sensitive)"}, nil, []string{"label=a"}, []string{"token"}},
		{"sensitive given", map[string]string{"label": "a", "token": "(sensitive)"}, []string{"token=s3"}, []string{"label=a", "token=s3"}, nil},
		{"given overrides", map[string]string{"label": "a", "token": "(sensitive)"}, []string{"label=b", "token=s"}, []string{"label=b", "token=s"}, nil},
		{"mark on an undeclared variable", map[string]string{"other": "(sensitive)"}, nil, nil, []string{"other"}},
		{"nothing sensitive", map[string]string{"label": "a"}, nil, []string{"label=a"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, missing := ResumeVars(rb, tc.recorded, tc.given)
			if !slices.Equal(flags, tc.flags) || !slices.Equal(missing, tc.missed) {
				t.Fatalf("ResumeVars = %q, %q; want %q, %q", flags, missing, tc.flags, tc.missed)
			}
			for _, f := range flags {
				if strings.HasSuffix(f, "=(sensitive)") {
					t.Fatalf("flag %q passes the mark as a value", f)
				}
			}
		})
	}
}

// TestResumeAsksForSensitiveVariables cancels a run of a runbook with a
// sensitive variable, then resumes it from Runs: the form asks for the
// secret again (the others pre-filled), and the resumed run goes on.
func TestResumeAsksForSensitiveVariables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.hcl"), []byte(secretRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 40, func(o *Options) { o.RunbooksDir = dir })
	openRunbook(h, "secret")
	h.waitScreen("Variables")
	h.keys("ctrl+u")
	h.typeText("weekly")
	h.keys("tab")
	h.typeText("hunter22")
	if strings.Contains(h.screen(), "hunter22") {
		t.Fatalf("the form shows a sensitive value:\n%s", h.screen())
	}
	h.keys("enter")
	h.waitScreen("plan SUCCEEDED")
	h.clock.Advance(time.Second)
	h.keys("x")
	h.waitScreen("run in progress")
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	id := h.m.run.id

	// The engine refuses a resume without the secret, with the reason.
	_, _, err := h.m.env.opts.Runs.Resume(context.Background(), id, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "sensitive variable token not recorded") {
		t.Fatalf("resume without the secret: %v", err)
	}

	h.keys("7")
	h.waitScreen("✖ cancelled")
	h.keys("R")
	h.waitScreen("give them again")
	scr := h.screen()
	if !strings.Contains(scr, "> weekly") || !strings.Contains(scr, "enter resume") {
		t.Fatalf("resume form is not pre-filled with the recorded values:\n%s", scr)
	}
	h.keys("enter")
	h.waitScreen("variable token is required")
	h.typeText("hunter22")
	h.keys("enter")
	h.waitScreen("run in progress")
	if h.m.run.id != id {
		t.Fatalf("resumed %q, want %q", h.m.run.id, id)
	}
	h.keys("ctrl+x", "y")
	h.waitScreen("run CANCELLED")
	evs, err := h.m.env.opts.Runs.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	var starts []*runbook.RunInfo
	for _, e := range evs {
		if e.Kind == runbook.RunStarted {
			starts = append(starts, e.Run)
		}
	}
	if len(starts) != 2 || starts[1].Variables["label"] != "weekly" || starts[1].Variables["token"] != "(sensitive)" {
		t.Fatalf("run_started records: %+v", starts)
	}
	b, err := os.ReadFile(filepath.Join(h.m.env.opts.StateDir, id, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter22") {
		t.Fatal("the journal holds the sensitive value")
	}
}

// FuzzResumeVars: whatever was recorded, a resume never passes the
// sensitive mark on as a value it was not given, and every recorded
// variable is either passed back or asked for.
func FuzzResumeVars(f *testing.F) {
	f.Add("label", "a", "token", "(sensitive)", "token=x")
	f.Add("a", "(sensitive)", "b", "c", "")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, given string) {
		if n1 == "" || n2 == "" || n1 == n2 || strings.Contains(n1, "=") || strings.Contains(n2, "=") {
			t.Skip()
		}
		rb := &runbook.Runbook{Variables: []*runbook.Variable{{Name: n1}, {Name: n2, Sensitive: true}}}
		var g []string
		if given != "" {
			g = []string{given}
		}
		flags, missing := ResumeVars(rb, map[string]string{n1: v1, n2: v2}, g)
		out := map[string]bool{}
		for _, fl := range flags {
			name, val, _ := strings.Cut(fl, "=")
			out[name] = true
			if val == sensitiveMark && !slices.Contains(g, fl) {
				t.Fatalf("flag %q passes the mark on", fl)
			}
		}
		for _, m := range missing {
			out[m] = true
		}
		if !out[n1] || !out[n2] {
			t.Fatalf("flags %q missing %q lose a recorded variable", flags, missing)
		}
	})
}
