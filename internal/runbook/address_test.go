package runbook

import (
	"errors"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Address
		ok   bool
	}{
		{"step.s3_restore.models", StepAddress("s3_restore", "models"), true},
		{"gate.failover", GateAddress("failover"), true},
		{"step.wait", Address{}, false},
		{"step..x", Address{}, false},
		{"step.a.b.c", Address{}, false},
		{"gate.a.b", Address{}, false},
		{"gate.", Address{}, false},
		{"var.x", Address{}, false},
		{"", Address{}, false},
	} {
		got, ok := ParseAddress(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("ParseAddress(%q).String() = %q", tc.in, got.String())
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"step.a.b", "gate.g", "step..", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := ParseAddress(s); ok && a.String() != s {
			t.Fatalf("ParseAddress(%q) round-trips to %q", s, a.String())
		}
	})
}

func TestDiagsError(t *testing.T) {
	if DiagsError("x", hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "w"}}) != nil {
		t.Fatal("warnings alone are not an error")
	}
	err := DiagsError("load a.hcl", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "bad", Detail: "worse"}})
	var de *DiagError
	if !errors.As(err, &de) || len(de.Diags) != 1 {
		t.Fatalf("errors.As: %v", err)
	}
	if got, want := err.Error(), "load a.hcl: bad: worse"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
