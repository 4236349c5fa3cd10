package runbook

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestFunctions(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		expr    string
		want    cty.Value
		wantErr string
	}{
		{expr: `timestamp()`, want: cty.StringVal("2026-03-01T11:30:00Z")},
		{expr: `timeadd("2026-03-01T12:00:00Z", "90m")`, want: cty.StringVal("2026-03-01T13:30:00Z")},
		{expr: `formatdate("YYYY-MM-DD hh:mm", "2026-03-01T12:00:00Z")`, want: cty.StringVal("2026-03-01 12:00")},
		{expr: `timecmp("2026-03-01T12:00:00Z", "2026-03-01T13:00:00+01:00")`, want: cty.NumberIntVal(0)},
		{expr: `timecmp("2026-03-01T12:00:00Z", "2026-03-01T12:00:01Z")`, want: cty.NumberIntVal(-1)},
		{expr: `parseduration("1h30m")`, want: cty.NumberIntVal(5400)},
		{expr: `parseduration("250ms")`, want: cty.NumberFloatVal(0.25)},
		{expr: `duration(5400)`, want: cty.StringVal("1h30m0s")},
		{expr: `duration(parseduration("2m") * 2)`, want: cty.StringVal("4m0s")},
		{expr: `base64decode(base64encode("model"))`, want: cty.StringVal("model")},
		{expr: `upper(join("-", ["a", "b"]))`, want: cty.StringVal("A-B")},
		{expr: `try(tonumber("x"), 7)`, want: cty.NumberIntVal(7)},
		{expr: `can(regex("^ai-", "ai-models"))`, want: cty.True},
		{expr: `jsonencode({a = 1})`, want: cty.StringVal(`{"a":1}`)},
		{expr: `length("ai-models")`, want: cty.NumberIntVal(9)},
		{expr: `length(["a", "b"])`, want: cty.NumberIntVal(2)},
		{expr: `length({a = 1})`, want: cty.NumberIntVal(1)},
		{expr: `startswith("models/a.bin", "models/")`, want: cty.True},
		{expr: `endswith("models/a.bin", ".bin")`, want: cty.True},
		{expr: `strcontains("ai-inference-dr", "-dr")`, want: cty.True},
		{expr: `length(true)`, wantErr: "a string or a collection is required"},
		{expr: `timecmp("2026-03-01T12:00:00", "2026-03-01T12:00:00Z")`, wantErr: "not an RFC 3339 timestamp with a zone"},
		{expr: `timeadd("2026-03-01 12:00", "1h")`, wantErr: "not a valid RFC3339 timestamp"},
		{expr: `parseduration("ten minutes")`, wantErr: "is not a duration"},
		{expr: `base64decode("%%%")`, wantErr: "not base64"},
		{expr: `duration(1e30)`, wantErr: "out of range"},
	}
	funcs := functions(func() time.Time { return now })
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tc.expr), "f.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := expr.Value(&hcl.EvalContext{Functions: funcs})
			if tc.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.wantErr) {
					t.Fatalf("got %#v, %v; want error %q", got, diags, tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if !got.Equals(tc.want).True() {
				t.Errorf("%s = %#v; want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestTimestampUnknownWhenValidating(t *testing.T) {
	v, err := functions(nil)["timestamp"].Call(nil)
	if err != nil || v.IsKnown() {
		t.Errorf("timestamp() while validating = %#v, %v; want unknown", v, err)
	}
}

func TestParseTimeNeedsZone(t *testing.T) {
	if _, err := ParseTime("2026-03-01T12:00:00"); err == nil {
		t.Error("a time without a zone was accepted")
	}
	got, err := ParseTime("2026-03-01T13:00:00+01:00")
	if err != nil || !got.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("ParseTime = %v, %v", got, err)
	}
	if _, err := ParseDuration("-1s"); err == nil {
		t.Error("a negative duration was accepted")
	}
}

func TestLoadValidRunbook(t *testing.T) {
	reg, _, _ := testRegistry()
	rb, diags := Load("testdata/valid/failover.hcl", reg)
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	if rb.Description != "Fail model serving over to the DR region" || rb.Parallelism != 4 ||
		rb.Objectives.RTO != 30*time.Minute || rb.Objectives.RPO != time.Hour ||
		rb.Drill.TargetBucket != "ai-model-artifacts-drill" || rb.Drill.TargetPrefix != "drill/" {
		t.Errorf("runbook block decoded as %+v %+v %+v", rb, rb.Objectives, rb.Drill)
	}
	n := rb.Node("step.danger.models")
	if n == nil || !n.Confirm || !n.DrillSafe || n.OnFailure != OnFailureAbort || n.StepType == nil {
		t.Errorf("step decoded as %+v", n)
	}
	if n := rb.Node("step.echo.note"); n.OnFailure != OnFailureContinue {
		t.Errorf("on_failure %q", n.OnFailure)
	}
	if len(rb.Variables) != 2 || !rb.Variables[0].HasDefault || rb.Variables[0].Description == "" {
		t.Errorf("variables %+v", rb.Variables)
	}
	if len(rb.Outputs) != 2 || !rb.Outputs[1].Sensitive {
		t.Errorf("outputs %+v", rb.Outputs)
	}

	// It runs, end to end, with the test step types.
	vars := mustVars(t, rb, VarInputs{})
	ev := &events{}
	res := Execute(t.Context(), rb, Options{RunID: "v", Vars: vars, AutoApprove: true, Sink: ev})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if got := res.Outputs["note"].AsString(); got != "us-west-2-20260301 until 2026-03-01T13:00:00Z" {
		t.Errorf("note = %q", got)
	}
	if p := ev.find(GateAsked, "gate.failover"); p == nil || p.Line != "Settled after 1s. Restore US-WEST-2?" {
		t.Errorf("gate_asked %+v", p)
	}
}

func TestLoadDirectoryAndHash(t *testing.T) {
	reg, _, _ := testRegistry()
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := writeFile(dir, name, src); err != nil {
			t.Fatal(err)
		}
	}
	write("a.hcl", `step "echo" "a" {}`)
	write("b.hcl", `step "echo" "b" { value = step.echo.a.value }`)
	write("notes.txt", `not a runbook`)
	rb, diags := Load(dir, reg)
	if diags.HasErrors() {
		t.Fatal(diagList(diags))
	}
	if len(rb.Files) != 2 || len(rb.Nodes) != 2 || rb.Node("step.echo.b").Deps[0] != "step.echo.a" {
		t.Errorf("directory runbook %+v", rb)
	}
	// The hash depends on names and contents only, not on where they are.
	same, _ := Parse(map[string][]byte{
		"elsewhere/a.hcl": []byte(`step "echo" "a" {}`),
		"elsewhere/b.hcl": []byte(`step "echo" "b" { value = step.echo.a.value }`),
	}, reg)
	if same.Hash != rb.Hash || len(rb.Hash) != 64 {
		t.Errorf("hash %s vs %s", same.Hash, rb.Hash)
	}
	changed, _ := Parse(map[string][]byte{
		"a.hcl": []byte(`step "echo" "a" {}`),
		"b.hcl": []byte(`step "echo" "b" { value = step.echo.a.count }`),
	}, reg)
	if changed.Hash == rb.Hash {
		t.Error("hash did not change with the content")
	}
	if _, diags := Load(t.TempDir(), reg); !diags.HasErrors() || diags[0].Summary != "No runbook files" {
		t.Errorf("empty directory: %v", diags)
	}
	if _, diags := Load(dir+"/missing.hcl", reg); !diags.HasErrors() {
		t.Error("missing file loaded")
	}
}
