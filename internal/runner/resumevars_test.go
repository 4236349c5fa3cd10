package runner

import (
	"slices"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
)

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
			if val == redact.Marker && !slices.Contains(g, fl) {
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
