package steps

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Every registered type answers what the drill, the drill report and the
// API log ask of it.
func TestRegistryTypesAreComplete(t *testing.T) {
	if problems := typeProblems(stepTypes()); len(problems) > 0 {
		t.Errorf("the registry's step types lack:\n%s", strings.Join(problems, "\n"))
	}
}

// onlyStepType is a step type that implements nothing beyond
// runbook.StepType: what a new type looks like before it answers the
// registry's questions.
type onlyStepType struct{}

func (onlyStepType) Spec() hcldec.ObjectSpec { return hcldec.ObjectSpec{} }
func (onlyStepType) Outputs() cty.Type       { return cty.EmptyObject }
func (onlyStepType) Destructive() bool       { return true }
func (onlyStepType) Plan(context.Context, *runbook.StepContext, cty.Value) ([]runbook.Change, error) {
	return nil, nil
}
func (onlyStepType) Apply(context.Context, *runbook.StepContext, cty.Value) (cty.Value, error) {
	return cty.EmptyObjectVal, nil
}

// paramsOnly declares API log parameters and nothing else.
type paramsOnly struct{ onlyStepType }

func (paramsOnly) LoggedParams() []string { return []string{"DBInstanceIdentifier"} }

// A type registered without its answers is reported, each missing answer
// by name; a type that is not AWS is asked only for its drill decision.
func TestIncompleteTypeIsReported(t *testing.T) {
	incomplete := stepType{name: "db_restore", aws: true, new: func(Deps) runbook.StepType { return onlyStepType{} }}
	problems := typeProblems(append(stepTypes(), incomplete))
	want := []string{"db_restore: no drill decision", "db_restore: no recovery-point answer", "db_restore: no API log parameters"}
	if len(problems) != len(want) {
		t.Fatalf("problems:\n%s\nwant %d, about db_restore", strings.Join(problems, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i], w) {
			t.Errorf("problem %d = %q, want it to start %q", i, problems[i], w)
		}
	}

	local := stepType{name: "notify", new: func(Deps) runbook.StepType { return paramsOnly{} }}
	problems = typeProblems([]stepType{local, local})
	if len(problems) != 3 || !strings.Contains(problems[0], "no drill decision") ||
		!strings.Contains(problems[1], "not registered as calling AWS") || !strings.Contains(problems[2], "listed twice") {
		t.Errorf("a non-AWS type with API parameters, listed twice: %q", problems)
	}
}

// Registry, UsesAWS and the table agree, with or without AWS clients.
func TestRegistryFollowsTheTable(t *testing.T) {
	reg := Registry(Deps{})
	var names []string
	for _, st := range stepTypes() {
		names = append(names, st.name)
		if reg[st.name] == nil {
			t.Errorf("%s is not in the registry", st.name)
		}
		if UsesAWS(st.name) != st.aws {
			t.Errorf("UsesAWS(%s) = %v, the table says %v", st.name, !st.aws, st.aws)
		}
	}
	if len(reg) != len(names) {
		t.Errorf("registry has %d types, the table %d", len(reg), len(names))
	}
	if UsesAWS("no_such_type") {
		t.Error("an unknown type uses AWS")
	}
	_, err := reg["asg_scale"].Plan(context.Background(), &runbook.StepContext{}, specConfig(reg["asg_scale"].Spec(),
		map[string]cty.Value{"region": cty.StringVal("us-east-1"), "group": cty.StringVal("g"), "desired": cty.NumberIntVal(1)}))
	if err == nil || !strings.Contains(err.Error(), "no AWS target is configured") {
		t.Errorf("an AWS type without clients planned: %v", err)
	}
}

// The API log shows what the types declare, once each, and never a field
// that carries a payload, token or secret.
func TestLoggedParams(t *testing.T) {
	got := LoggedParams()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not sorted and unique: %q", got)
	}
	for _, want := range []string{"CopySource", "AutoScalingGroupName", "DesiredCapacity", "SnapshotId", "AlarmNames", "RestoreJobId"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not logged: %q", want, got)
		}
	}
	for _, p := range got {
		for _, bad := range []string{"Body", "Token", "Secret", "Metadata", "Policy"} {
			if strings.Contains(p, bad) {
				t.Errorf("logged parameter %s may carry a payload or a secret", p)
			}
		}
	}
}

// The recovery points each type answers from what a drill's journal
// records, read back as the drill report reads it.
func TestRecoveryPoints(t *testing.T) {
	reg := Registry(Deps{})
	started := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
	str := cty.StringVal
	tests := []struct {
		typ          string
		cfg, outputs cty.Value
		want         []runbook.RecoveryPoint
	}{
		{"s3_restore", obj(map[string]cty.Value{"to_time": str("2026-03-01T11:00:00Z")}), cty.NullVal(cty.DynamicPseudoType),
			[]runbook.RecoveryPoint{{Source: "to_time", At: started.Add(-time.Hour)}}},
		{"s3_restore", obj(map[string]cty.Value{"to_time": str("noon")}), cty.NullVal(cty.DynamicPseudoType), nil},
		{"model_rollback", obj(map[string]cty.Value{"to_time": str("2026-03-01T11:30:00.5Z")}), cty.EmptyObjectVal,
			[]runbook.RecoveryPoint{{Source: "to_time", At: started.Add(-29*time.Minute - 59500*time.Millisecond)}}},
		{"model_rollback", obj(map[string]cty.Value{"version_id": str("v1")}), cty.EmptyObjectVal, nil},
		{"backup_restore", obj(map[string]cty.Value{"to_time": str("2026-03-01T11:00:00Z")}),
			obj(map[string]cty.Value{"continuous": cty.True, "recovery_point_created": str("2026-02-01T00:00:00Z")}),
			[]runbook.RecoveryPoint{{Source: "to_time (continuous backup)", At: started.Add(-time.Hour)}}},
		{"backup_restore", obj(map[string]cty.Value{"to_time": str("2026-03-01T11:00:00Z")}),
			obj(map[string]cty.Value{"continuous": cty.False, "recovery_point_created": str("2026-03-01T10:00:00Z")}),
			[]runbook.RecoveryPoint{{Source: "recovery_point_created", At: started.Add(-2 * time.Hour)}}},
		{"replication_check", cty.EmptyObjectVal, obj(map[string]cty.Value{"lag_seconds": cty.NumberFloatVal(90.5)}),
			[]runbook.RecoveryPoint{{Source: "replication lag", At: started.Add(-90500 * time.Millisecond)}}},
		{"replication_check", cty.EmptyObjectVal, obj(map[string]cty.Value{"lag_seconds": cty.NullVal(cty.Number)}), nil},
		{"asg_scale", cty.EmptyObjectVal, cty.EmptyObjectVal, nil},
		{"ebs_snapshot", cty.EmptyObjectVal, cty.EmptyObjectVal, nil},
		{"alarms_check", cty.EmptyObjectVal, cty.EmptyObjectVal, nil},
	}
	for _, tt := range tests {
		got := reg[tt.typ].(runbook.RecoveryPointer).RecoveryPoints(runbook.FinishedDrillStep{Config: tt.cfg, Outputs: tt.outputs, Started: started})
		if !slices.EqualFunc(got, tt.want, func(a, b runbook.RecoveryPoint) bool { return a.Source == b.Source && a.At.Equal(b.At) }) {
			t.Errorf("%s %#v %#v: got %v, want %v", tt.typ, tt.cfg, tt.outputs, got, tt.want)
		}
	}
	// A check that never started has no lag to date.
	if got := (&ReplicationCheck{}).RecoveryPoints(runbook.FinishedDrillStep{Outputs: obj(map[string]cty.Value{"lag_seconds": cty.NumberIntVal(3)})}); got != nil {
		t.Errorf("replication_check without a start: %v", got)
	}
}
