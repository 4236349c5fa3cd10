package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// specConfig builds a decoded configuration for spec: every attribute
// null except those given.
func specConfig(spec hcldec.ObjectSpec, set map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, ty := range hcldec.ImpliedType(spec).AttributeTypes() {
		attrs[name] = cty.NullVal(ty)
	}
	for k, v := range set {
		attrs[k] = v
	}
	return cty.ObjectVal(attrs)
}

func TestS3RestoreDrillPlan(t *testing.T) {
	r := NewS3Restore(nil)
	drill := runbook.Drill{ID: "20261122T180000Z-abcdef", TargetBucket: "drill-bucket", TargetPrefix: "drills/"}
	base := map[string]cty.Value{"bucket": cty.StringVal("prod"), "prefix": cty.StringVal("models/"),
		"to_time": cty.StringVal("2026-03-01T00:00:00Z")}
	tests := []struct {
		name       string
		set        map[string]cty.Value
		drill      runbook.Drill
		wantBucket string
		wantPrefix string // "?" for unknown
		wantErr    string
	}{
		{name: "in place goes to the drill target", set: base, drill: drill,
			wantBucket: "drill-bucket", wantPrefix: "drills/20261122T180000Z-abcdef/models/"},
		{name: "another target also goes to the drill target", drill: drill,
			set:        map[string]cty.Value{"target_bucket": cty.StringVal("other"), "target_prefix": cty.StringVal("restored/")},
			wantBucket: "drill-bucket", wantPrefix: "drills/20261122T180000Z-abcdef/restored/"},
		{name: "prefix from an earlier step", drill: drill, set: map[string]cty.Value{"prefix": cty.UnknownVal(cty.String)},
			wantBucket: "drill-bucket", wantPrefix: "?"},
		{name: "no drill target", drill: runbook.Drill{ID: "x"}, set: base, wantErr: "drill target"},
		{name: "drill prefix inside the source", set: base,
			drill: runbook.Drill{ID: "d1", TargetBucket: "prod", TargetPrefix: "models/drills/"}, wantErr: "overlaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]cty.Value{}
			for k, v := range base {
				set[k] = v
			}
			for k, v := range tt.set {
				set[k] = v
			}
			plan, err := r.DrillPlan(context.Background(), nil, specConfig(r.Spec(), set), tt.drill)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Config.GetAttr("target_bucket").AsString(); got != tt.wantBucket {
				t.Errorf("target_bucket %q", got)
			}
			p := plan.Config.GetAttr("target_prefix")
			if tt.wantPrefix == "?" {
				if p.IsKnown() {
					t.Errorf("target_prefix %v, want unknown", p)
				}
			} else if p.AsString() != tt.wantPrefix {
				t.Errorf("target_prefix %q, want %q", p.AsString(), tt.wantPrefix)
			}
			// The drill writes only under its own prefix, whatever the
			// drill target's versioning.
			if !plan.Config.GetAttr("allow_unversioned").True() {
				t.Error("a drill restore refuses an unversioned drill target")
			}
			if len(plan.Redirects) != 1 || !strings.Contains(plan.Redirects[0].Detail, "instead of") {
				t.Errorf("redirects %v", plan.Redirects)
			}
		})
	}
}

func TestDrillOwnership(t *testing.T) {
	d := runbook.Drill{ID: "20261122T180000Z-abcdef", TargetPrefix: "drills/"}
	for _, tt := range []struct {
		bucket, prefix string
		ok             bool
	}{
		{"b", "drills/20261122T180000Z-abcdef/models/", true},
		{"b", "drills/20261122T180000Z-abcdef/", true},
		{"b", "drills/", false},
		{"b", "models/", false},
		{"b", "drills/20261122T180000Z-000000/models/", false},
		{"", "drills/20261122T180000Z-abcdef/", false},
	} {
		if err := checkDrillOwned(d, tt.bucket, tt.prefix); (err == nil) != tt.ok {
			t.Errorf("%s/%s: %v", tt.bucket, tt.prefix, err)
		}
	}
	if err := checkDrillOwned(runbook.Drill{}, "b", "x/"); err == nil {
		t.Error("a drill without an id owns nothing")
	}
}

func TestDrillBucketName(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, base := range []string{"ai-model-artifacts-restored", "", long, "Mixed.Case-"} {
		name := drillBucketName(base, "run-1")
		if len(name) > 63 || !strings.HasSuffix(name, drillBucketSuffix("run-1")) || name != strings.ToLower(name) {
			t.Errorf("%q -> %q", base, name)
		}
	}
	if drillBucketName("x", "run-1") == drillBucketName("x", "run-2") {
		t.Error("two drills share a bucket name")
	}
}

func TestEBSSnapshotDrillPlanTags(t *testing.T) {
	e := &EBSSnapshot{}
	cfg := specConfig(e.Spec(), map[string]cty.Value{"region": cty.StringVal("us-east-1"),
		"volume_ids": cty.ListVal([]cty.Value{cty.StringVal("vol-1")}),
		"tags":       cty.MapVal(map[string]cty.Value{"team": cty.StringVal("ml")})})
	plan, err := e.DrillPlan(context.Background(), nil, cfg, runbook.Drill{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	tags := cfgStringMap(plan.Config, "tags")
	if tags["team"] != "ml" || tags[tagDrill] != "r1" {
		t.Errorf("tags %v", tags)
	}
	if errs := e.ValidateConfig(plan.Config); len(errs) != 0 {
		t.Errorf("drill configuration invalid: %v", errs)
	}
}

func TestASGStateFromOutputs(t *testing.T) {
	req := runbook.TeardownRequest{
		Config: cty.ObjectVal(map[string]cty.Value{"region": cty.StringVal("us-west-2"), "group": cty.StringVal("dr")}),
		Outputs: cty.ObjectVal(map[string]cty.Value{"previous_min": cty.NumberIntVal(0), "previous_max": cty.NumberIntVal(8),
			"previous_desired": cty.NumberIntVal(1), "desired": cty.NumberIntVal(4), "in_service": cty.NumberIntVal(4)}),
	}
	st, ok := asgStateFromOutputs(req)
	if !ok || st != (asgDrillState{Region: "us-west-2", Group: "dr", Min: 0, Max: 8, Desired: 1}) {
		t.Errorf("state %+v %v", st, ok)
	}
	req.Outputs = cty.NullVal(req.Outputs.Type())
	if _, ok := asgStateFromOutputs(req); ok {
		t.Error("a step that did not finish has no recorded capacity in its outputs")
	}
}
