package runbook

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const varsRunbook = `
variable "region" {
  type    = string
  default = "us-east-1"
}
variable "desired" {
  type = number
  validation {
    condition     = var.desired >= 1 && var.desired <= 10
    error_message = "desired is between 1 and 10."
  }
}
variable "zones" {
  type    = list(string)
  default = []
}
variable "token" {
  type      = string
  sensitive = true
  default   = ""
}
`

func TestResolveVars(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "prod.hcl")
	if err := os.WriteFile(varFile, []byte("region = \"eu-west-1\"\ndesired = 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(badFile, []byte("desired = 2\nregoin = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	typeFile := filepath.Join(dir, "type.hcl")
	if err := os.WriteFile(typeFile, []byte("desired = 2\nzones = \"a\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       VarInputs
		want     map[string]cty.Value
		wantErr  string
		wantLine int // of the diagnostic's subject; 0 for none
		wantCol  int
	}{
		{
			name: "defaults and a flag",
			in:   VarInputs{Flags: []string{"desired=3"}},
			want: map[string]cty.Value{"region": cty.StringVal("us-east-1"), "desired": cty.NumberIntVal(3)},
		},
		{
			name: "env, file, then flags win",
			in: VarInputs{
				Env:   []string{"DRCONSOLE_VAR_region=ap-south-1", "DRCONSOLE_VAR_desired=9", "DRCONSOLE_VAR_other=1", "HOME=/root"},
				Files: []string{varFile},
				Flags: []string{`zones=["a", "b"]`, "desired=5"},
			},
			want: map[string]cty.Value{
				"region":  cty.StringVal("eu-west-1"),
				"desired": cty.NumberIntVal(5),
				"zones":   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
			},
		},
		{
			name: "env alone",
			in:   VarInputs{Env: []string{"DRCONSOLE_VAR_desired=2", "DRCONSOLE_VAR_region=a=b"}},
			want: map[string]cty.Value{"desired": cty.NumberIntVal(2), "region": cty.StringVal("a=b")},
		},
		{
			name:     "missing required",
			in:       VarInputs{},
			wantErr:  `Missing required variable; Variable "desired" has no default`,
			wantLine: 6, wantCol: 1,
		},
		{
			name:     "validation",
			in:       VarInputs{Flags: []string{"desired=11"}},
			wantErr:  "Invalid value for variable; var.desired: desired is between 1 and 10.",
			wantLine: 9, wantCol: 21,
		},
		{
			name:    "wrong type from a flag",
			in:      VarInputs{Flags: []string{"desired=many"}},
			wantErr: `--var desired: "many" is not a valid number value`,
		},
		{
			name:     "wrong type from a file",
			in:       VarInputs{Files: []string{typeFile}},
			wantErr:  `Invalid value for variable; Variable "zones" is of type list(string)`,
			wantLine: 2, wantCol: 9,
		},
		{
			name:    "undeclared flag",
			in:      VarInputs{Flags: []string{"desird=1"}},
			wantErr: `the runbook declares no variable "desird". Did you mean "desired"?`,
		},
		{
			name:    "flag without equals",
			in:      VarInputs{Flags: []string{"desired"}},
			wantErr: `"desired" is not NAME=VALUE`,
		},
		{
			name:    "missing file",
			in:      VarInputs{Files: []string{filepath.Join(dir, "nope.hcl")}},
			wantErr: "Cannot read variables file",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, varsRunbook, Registry{})
			got, diags := rb.ResolveVars(tc.in)
			if tc.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("no error; want %q", tc.wantErr)
				}
				all := diagList(diags)
				if !strings.Contains(all, tc.wantErr) {
					t.Fatalf("errors %s; want %q", all, tc.wantErr)
				}
				if tc.wantLine > 0 {
					s := diags[0].Subject
					if s == nil || s.Start.Line != tc.wantLine || s.Start.Column != tc.wantCol {
						t.Errorf("subject %v; want line %d column %d", s, tc.wantLine, tc.wantCol)
					}
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diagList(diags))
			}
			for k, w := range tc.want {
				if !got[k].RawEquals(w) {
					t.Errorf("%s = %#v; want %#v", k, got[k], w)
				}
			}
		})
	}
}

// A variables file may serve many runbooks: a value no variable takes is
// a warning that names it, while the same name in a --var flag is an error.
func TestUndeclaredInFileWarns(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "estate.vars")
	if err := os.WriteFile(file, []byte("desired = 2\nregoin = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rb := mustParse(t, varsRunbook, Registry{})
	got, diags := rb.ResolveVars(VarInputs{Files: []string{file}})
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning ||
		!strings.Contains(diags[0].Detail, `declares no variable "regoin"; the value is ignored. Did you mean "region"?`) {
		t.Fatalf("diagnostics %s; want one warning about regoin", diagList(diags))
	}
	if s := diags[0].Subject; s == nil || s.Start.Line != 2 || s.Start.Column != 1 {
		t.Errorf("subject %v; want line 2 column 1", s)
	}
	if !got["desired"].RawEquals(cty.NumberIntVal(2)) {
		t.Errorf("desired = %#v", got["desired"])
	}
	_, diags = rb.ResolveVars(VarInputs{Files: []string{file}, Flags: []string{"regoin=x"}})
	if !diags.HasErrors() || !strings.Contains(diagList(diags), `--var regoin: the runbook declares no variable "regoin"`) {
		t.Fatalf("undeclared --var: %s; want an error", diagList(diags))
	}
}

// Defaults sit above the runbook's defaults and below the environment,
// files and flags; undeclared ones are ignored without a word.
func TestResolveVarsDefaults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.vars")
	if err := os.WriteFile(file, []byte("desired = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{"region": "eu-west-1", "desired": "2", "zones": `["a", "b"]`, "dr_group": "x"}
	rb := mustParse(t, varsRunbook, Registry{})
	for _, tc := range []struct {
		name string
		in   VarInputs
		want map[string]cty.Value
	}{
		{"defaults alone", VarInputs{Defaults: defaults}, map[string]cty.Value{"region": cty.StringVal("eu-west-1"),
			"desired": cty.NumberIntVal(2), "zones": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})}},
		{"environment wins", VarInputs{Defaults: defaults, Env: []string{VarEnvPrefix + "region=ap-south-1"}},
			map[string]cty.Value{"region": cty.StringVal("ap-south-1")}},
		{"file wins", VarInputs{Defaults: defaults, Files: []string{file}}, map[string]cty.Value{"desired": cty.NumberIntVal(5)}},
		{"flag wins", VarInputs{Defaults: defaults, Files: []string{file}, Flags: []string{"desired=7"}},
			map[string]cty.Value{"desired": cty.NumberIntVal(7)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := rb.ResolveVars(tc.in)
			if len(diags) > 0 {
				t.Fatal(diagList(diags))
			}
			for k, w := range tc.want {
				if !got[k].RawEquals(w) {
					t.Errorf("%s = %#v; want %#v", k, got[k], w)
				}
			}
		})
	}
}

func TestSensitiveValueNotInDiagnostics(t *testing.T) {
	rb := mustParse(t, `
variable "token" {
  type      = number
  sensitive = true
}`, Registry{})
	_, diags := rb.ResolveVars(VarInputs{Flags: []string{"token=hunter2-secret"}})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	if all := diagList(diags); strings.Contains(all, "hunter2") {
		t.Errorf("diagnostic shows a sensitive value: %s", all)
	}
}

func TestVarFileValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "estate.vars")
	src := "model_bucket = \"acme-ml-models\"\ndr_alarms = [\"a\", \"b\"]\ndesired = 3\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := VarFileValues(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"model_bucket": "acme-ml-models", "dr_alarms": `["a", "b"]`, "desired": "3"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q; want %q", k, got[k], w)
		}
	}
	// The values resolve as the file itself would.
	rb := mustParse(t, varsRunbook, Registry{})
	vals, diags := rb.ResolveVars(VarInputs{Defaults: got})
	if diags.HasErrors() || !vals["desired"].RawEquals(cty.NumberIntVal(3)) {
		t.Fatalf("resolve: %v %s", vals, diagList(diags))
	}
	if _, err := VarFileValues(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("missing file: no error")
	}
}

const unknownVarsRunbook = `variable "restore_to" {
  type = string
}
variable "bucket" {
  type    = string
  default = "models"
}
variable "ticket" {
  type      = string
  sensitive = true
  default   = ""
}
variable "also" {
  type    = bool
  default = true
}
variable "copies" {
  type = number
  validation {
    condition     = var.copies >= 1
    error_message = "copies is at least 1."
  }
}
gate "go" {}
step "danger" "copy" {
  bucket     = var.bucket
  to_time    = var.restore_to
  depends_on = [gate.go]
}
step "danger" "also" {
  when       = var.also
  bucket     = var.bucket
  to_time    = var.restore_to
  depends_on = [gate.go]
}
step "danger" "ticketed" {
  bucket     = var.bucket
  to_time    = var.ticket
  depends_on = [gate.go]
}
`

// A validation needs no values: a variable given none is unknown, the
// values given are checked for their types, validation blocks and what the
// expressions that use them make of them, and a run still needs them all.
func TestValidateWithoutValues(t *testing.T) {
	reg, _, _ := testRegistry()
	for _, tc := range []struct {
		name  string
		flags []string
		want  []string // the errors, as "line:column summary; detail"
	}{
		{name: "no values"},
		{name: "good values", flags: []string{"restore_to=2026-03-01T12:00:00Z", "copies=2", "bucket=b"}},
		{name: "a value a step refuses", flags: []string{"restore_to=yesterday"},
			want: []string{"27:16 Invalid timestamp", "33:16 Invalid timestamp"}},
		{name: "a step its condition leaves out", flags: []string{"restore_to=yesterday", "also=false"},
			want: []string{"27:16 Invalid timestamp"}},
		// A sensitive value is not shown to the expressions: their
		// diagnostics may quote it.
		{name: "a sensitive value", flags: []string{"ticket=hunter2-not-a-time"}},
		{name: "a value of the wrong type", flags: []string{"copies=many"},
			want: []string{`0:0 Invalid value for variable; --var copies: "many" is not a valid number value.`}},
		{name: "a validation block", flags: []string{"copies=0"},
			want: []string{"20:21 Invalid value for variable; var.copies: copies is at least 1."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, unknownVarsRunbook, reg)
			vals, diags := rb.ResolveVars(VarInputs{Flags: tc.flags, Unknown: true})
			if !diags.HasErrors() {
				diags = append(diags, rb.CheckExpressions(vals)...)
			}
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				var line, col int
				if d.Subject != nil {
					line, col = d.Subject.Start.Line, d.Subject.Start.Column
				}
				s := fmt.Sprintf("%d:%d %s", line, col, d.Summary)
				if !strings.HasPrefix(d.Summary, "Invalid timestamp") {
					s += "; " + d.Detail
				}
				got = append(got, s)
				if strings.Contains(d.Detail, "hunter2") {
					t.Errorf("a sensitive value in a diagnostic: %s", d.Detail)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(tc.flags) == 0 {
				for _, name := range []string{"restore_to", "copies", "bucket", "also"} {
					if vals[name].IsKnown() {
						t.Errorf("%s = %#v with no value given; want unknown", name, vals[name])
					}
				}
			}
		})
	}
	// A run still needs every required value.
	rb := mustParse(t, unknownVarsRunbook, reg)
	if _, diags := rb.ResolveVars(VarInputs{}); !strings.Contains(diagList(diags), "Missing required variable") {
		t.Errorf("a run resolved without restore_to: %s", diagList(diags))
	}
}
