package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// decodeStep decodes an HCL step body against a step type's spec.
func decodeStep(t *testing.T, spec hcldec.ObjectSpec, src string) cty.Value {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "step.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags.Error())
	}
	v, diags := hcldec.Decode(f.Body, spec, nil)
	if diags.HasErrors() {
		t.Fatalf("decode: %s", diags.Error())
	}
	return v
}

func TestPollUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		err := pollUntil(t.Context(), time.Now, 5*time.Second, time.Hour, func(context.Context) (bool, error) {
			calls++
			return calls == 4, nil
		})
		if err != nil {
			t.Fatalf("pollUntil: %v", err)
		}
		// Gaps of 1s, 2s, 4s, then the interval.
		if got := time.Since(start); got != 7*time.Second || calls != 4 {
			t.Errorf("done after %s and %d calls, want 7s and 4", got, calls)
		}
	})
}

func TestPollUntilBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		err := pollUntil(t.Context(), time.Now, 7*time.Second, 30*time.Second, func(context.Context) (bool, error) {
			calls++
			return false, nil
		})
		if !errors.Is(err, errWaitBound) {
			t.Fatalf("err = %v, want errWaitBound", err)
		}
		// 0, 1, 3, 7, 14, 21, 28 and a last look at the bound itself.
		if got := time.Since(start); got != 30*time.Second || calls != 8 {
			t.Errorf("gave up after %s and %d calls, want 30s and 8", got, calls)
		}
	})
}

func TestPollUntilZeroBoundChecksOnce(t *testing.T) {
	calls := 0
	err := pollUntil(t.Context(), time.Now, time.Second, 0, func(context.Context) (bool, error) {
		calls++
		return false, nil
	})
	if !errors.Is(err, errWaitBound) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want errWaitBound after 1", err, calls)
	}
}

func TestPollUntilStopsOnErrorAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		err := pollUntil(t.Context(), time.Now, time.Second, time.Hour, func(context.Context) (bool, error) { return false, boom })
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		err = pollUntil(ctx, time.Now, 3*time.Second, time.Hour, func(context.Context) (bool, error) { return false, nil })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Second {
			t.Errorf("err = %v after %s, want deadline exceeded after 10s", err, time.Since(start))
		}
		if err := pollUntil(t.Context(), time.Now, 0, time.Hour, nil); err == nil {
			t.Error("a zero poll interval was accepted")
		}
	})
}

func TestPollUntilRidesOutTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		throttled := fmt.Errorf("describe: %w", &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"})
		calls := 0
		err := pollUntil(t.Context(), time.Now, time.Second, time.Hour, func(context.Context) (bool, error) {
			calls++
			if calls <= maxTransient {
				return false, throttled
			}
			return true, nil
		})
		if err != nil || calls != maxTransient+1 {
			t.Fatalf("err = %v after %d calls, want success after %d", err, calls, maxTransient+1)
		}
		calls = 0
		err = pollUntil(t.Context(), time.Now, time.Second, time.Hour, func(context.Context) (bool, error) {
			calls++
			return false, throttled
		})
		if !errors.Is(err, throttled) || calls != maxTransient+1 {
			t.Fatalf("err = %v after %d calls, want the throttling error after %d", err, calls, maxTransient+1)
		}
		// A check that only fails until the bound reports the failure,
		// not an unmet condition it could not observe.
		err = pollUntil(t.Context(), time.Now, time.Second, 0, func(context.Context) (bool, error) { return false, throttled })
		if !errors.Is(err, throttled) || errors.Is(err, errWaitBound) {
			t.Fatalf("err = %v, want the throttling error", err)
		}
		denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
		calls = 0
		err = pollUntil(t.Context(), time.Now, time.Second, time.Hour, func(context.Context) (bool, error) {
			calls++
			return false, denied
		})
		if !errors.Is(err, denied) || calls != 1 {
			t.Fatalf("err = %v after %d calls, want AccessDenied at once", err, calls)
		}
	})
}

func TestWaitBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if got := waitBound(t.Context(), time.Now, 3*time.Hour, time.Minute); got != 3*time.Hour {
			t.Errorf("wait_for: got %s", got)
		}
		if got := waitBound(t.Context(), time.Now, 0, time.Minute); got != time.Minute {
			t.Errorf("default: got %s", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Minute)
		defer cancel()
		if got := waitBound(ctx, time.Now, 0, time.Minute); got != 90*time.Minute {
			t.Errorf("step timeout: got %s, want 1h30m", got)
		}
	})
}

// fakeSnapshots serves snapshot states that change at given offsets from
// the start of the bubble's clock.
type fakeSnapshots struct {
	start  time.Time
	doneAt map[string]time.Duration
	failAt map[string]time.Duration
}

func (f fakeSnapshots) fetch(context.Context) (map[string]ec2types.Snapshot, error) {
	el := time.Since(f.start)
	out := map[string]ec2types.Snapshot{}
	for id, at := range f.doneAt {
		s := ec2types.Snapshot{SnapshotId: aws.String(id), VolumeId: aws.String("vol-" + id), State: ec2types.SnapshotStatePending}
		if el >= at {
			s.State = ec2types.SnapshotStateCompleted
		}
		if fa, ok := f.failAt[id]; ok && el >= fa {
			s.State, s.StateMessage = ec2types.SnapshotStateError, aws.String("internal error")
		}
		out[id] = s
	}
	return out, nil
}

func TestWaitSnapshotsWaitsHoursWhenTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fakeSnapshots{start: time.Now(), doneAt: map[string]time.Duration{"a": 40 * time.Minute, "b": 5 * time.Hour}}
		var last [2]int
		err := waitSnapshots(t.Context(), f.fetch, time.Now, time.Minute, 6*time.Hour, []string{"a", "b"},
			func(done, total int) { last = [2]int{done, total} })
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if got := time.Since(f.start); got < 5*time.Hour || got > 5*time.Hour+time.Minute {
			t.Errorf("completed after %s, want 5h and at most one interval (well past the SDK waiter's 10 minutes)", got)
		}
		if last != [2]int{2, 2} {
			t.Errorf("last progress %v, want 2 of 2", last)
		}
	})
}

func TestWaitSnapshotsBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fakeSnapshots{start: time.Now(), doneAt: map[string]time.Duration{"a": time.Minute, "b": 5 * time.Hour}}
		err := waitSnapshots(t.Context(), f.fetch, time.Now, time.Minute, 2*time.Hour, []string{"a", "b"}, func(int, int) {})
		if !errors.Is(err, errWaitBound) || !strings.Contains(err.Error(), "still pending (b)") {
			t.Fatalf("err = %v, want the bound naming snapshot b", err)
		}
		if got := time.Since(f.start); got != 2*time.Hour {
			t.Errorf("gave up after %s, want 2h", got)
		}
	})
}

func TestWaitSnapshotsFailsAtOnceOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fakeSnapshots{start: time.Now(),
			doneAt: map[string]time.Duration{"a": time.Minute, "b": 5 * time.Hour},
			failAt: map[string]time.Duration{"b": 20 * time.Minute}}
		err := waitSnapshots(t.Context(), f.fetch, time.Now, time.Minute, 24*time.Hour, []string{"a", "b"}, func(int, int) {})
		if err == nil || !strings.Contains(err.Error(), "snapshot b of vol-b failed: internal error") {
			t.Fatalf("err = %v, want snapshot b failed", err)
		}
		if got := time.Since(f.start); got < 20*time.Minute || got > 21*time.Minute {
			t.Errorf("failed after %s, want the first poll after 20m that saw the error", got)
		}
	})
}

func TestPickRecoveryPoint(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	now := at("2026-11-22T12:00:00Z")
	snap := func(arn, created, status string) recoveryPoint {
		return recoveryPoint{arn: arn, created: at(created), completed: at(created).Add(10 * time.Minute), status: status}
	}
	cont := func(arn, created, completed, status string) recoveryPoint {
		p := recoveryPoint{arn: arn, created: at(created), status: status, continuous: true}
		if completed != "" {
			p.completed = at(completed)
		}
		return p
	}
	daily := []recoveryPoint{
		snap("d18", "2026-11-18T05:00:00Z", "COMPLETED"),
		snap("d20", "2026-11-20T05:00:00Z", "COMPLETED"),
		snap("d19", "2026-11-19T05:00:00Z", "COMPLETED"),
		snap("d21", "2026-11-21T05:00:00Z", "PARTIAL"),
	}
	tests := []struct {
		name   string
		points []recoveryPoint
		t      string
		want   string // "" when none
	}{
		{"newest completed before T", daily, "2026-11-21T09:00:00Z", "d20"},
		{"T equal to a creation time is inclusive", daily, "2026-11-19T05:00:00Z", "d19"},
		{"a point after T is never chosen", daily, "2026-11-19T04:59:59Z", "d18"},
		{"none before T", daily, "2026-11-01T00:00:00Z", ""},
		{"continuous covering T wins over a newer snapshot",
			append([]recoveryPoint{cont("c1", "2026-11-10T00:00:00Z", "", "AVAILABLE")}, daily...), "2026-11-21T09:00:00Z", "c1"},
		{"stopped continuous window ends at completion",
			append([]recoveryPoint{cont("c1", "2026-11-10T00:00:00Z", "2026-11-15T00:00:00Z", "STOPPED")}, daily...), "2026-11-21T09:00:00Z", "d20"},
		{"stopped continuous still covers its window",
			append([]recoveryPoint{cont("c1", "2026-11-10T00:00:00Z", "2026-11-15T00:00:00Z", "STOPPED")}, daily...), "2026-11-14T09:00:00Z", "c1"},
		{"continuous that starts after T does not cover it",
			append([]recoveryPoint{cont("c1", "2026-11-20T00:00:00Z", "", "AVAILABLE")}, daily...), "2026-11-19T09:00:00Z", "d19"},
		{"newest of two continuous points",
			[]recoveryPoint{cont("c1", "2026-11-01T00:00:00Z", "", "AVAILABLE"), cont("c2", "2026-11-05T00:00:00Z", "", "COMPLETED")}, "2026-11-19T09:00:00Z", "c2"},
		{"expired continuous is skipped",
			append([]recoveryPoint{cont("c1", "2026-11-10T00:00:00Z", "", "EXPIRED")}, daily...), "2026-11-21T09:00:00Z", "d20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pickRecoveryPoint(tc.points, at(tc.t), now)
			if !ok {
				got.arn = ""
			}
			if got.arn != tc.want {
				t.Errorf("picked %q, want %q", got.arn, tc.want)
			}
		})
	}
}

func FuzzPickRecoveryPoint(f *testing.F) {
	f.Add(int64(100), []byte{1, 2, 3, 50, 200, 7})
	f.Fuzz(func(t *testing.T, target int64, seeds []byte) {
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		now := base.Add(300 * time.Hour)
		tt := base.Add(time.Duration(target%300) * time.Hour)
		var points []recoveryPoint
		for i, s := range seeds {
			p := recoveryPoint{arn: string(rune('a' + i%26)), created: base.Add(time.Duration(s) * time.Hour), status: "COMPLETED"}
			if s%7 == 0 {
				p.status = "PARTIAL"
			}
			if s%11 == 0 {
				p.continuous = true
			}
			points = append(points, p)
		}
		got, ok := pickRecoveryPoint(points, tt, now)
		if !ok {
			for _, p := range points {
				if (p.continuous && p.covers(tt, now)) || (!p.continuous && p.status == "COMPLETED" && !p.created.After(tt)) {
					t.Fatalf("no point picked, but %+v fits", p)
				}
			}
			return
		}
		if got.continuous {
			if !got.covers(tt, now) {
				t.Fatalf("picked a continuous point that does not cover T: %+v", got)
			}
			return
		}
		if got.created.After(tt) || got.status != "COMPLETED" {
			t.Fatalf("picked %+v for T %s", got, tt)
		}
		for _, p := range points {
			if p.continuous && p.covers(tt, now) {
				t.Fatalf("a covering continuous point %+v was passed over", p)
			}
			if !p.continuous && p.status == "COMPLETED" && !p.created.After(tt) && p.created.After(got.created) {
				t.Fatalf("picked %+v but %+v is newer and before T", got, p)
			}
		}
	})
}

func TestASGTarget(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	cur := asgCapacity{min: 0, max: 4, desired: 0}
	tests := []struct {
		name    string
		tg      asgTarget
		changes string
		err     string
	}{
		{"desired only", asgTarget{desired: 4}, "SetDesiredCapacity ai-inference-dr 0 -> 4", ""},
		{"already there", asgTarget{desired: 0}, "", ""},
		{"min and max with desired", asgTarget{desired: 6, min: i32(2), max: i32(8)},
			"UpdateAutoScalingGroup ai-inference-dr min 0 -> 2, max 4 -> 8, desired 0 -> 6", ""},
		{"max only", asgTarget{desired: 0, max: i32(10)}, "UpdateAutoScalingGroup ai-inference-dr max 4 -> 10", ""},
		{"above max", asgTarget{desired: 5}, "", "desired 5 is outside min 0 and max 4"},
		{"min above max", asgTarget{desired: 4, min: i32(5)}, "", "min 5 is above max 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, err := tc.tg.after("ai-inference-dr", cur)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range asgChanges("ai-inference-dr", cur, next) {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != tc.changes {
				t.Errorf("changes %q, want %q", got, tc.changes)
			}
		})
	}
}

func TestSpecsValidate(t *testing.T) {
	tests := []struct {
		name string
		typ  runbook.StepType
		body string
		err  string
	}{
		{"ebs needs a selection", &EBSSnapshot{}, `region = "us-east-1"`, "exactly one of volume_ids"},
		{"ebs not both", &EBSSnapshot{}, `
region = "us-east-1"
volume_ids = ["vol-1"]
volumes = { tags = { Name = "x" } }`, "exactly one of volume_ids"},
		{"ebs bad wait_for", &EBSSnapshot{}, `
region = "us-east-1"
volume_ids = ["vol-1"]
wait_for = "soon"`, `wait_for: "soon" is not a duration`},
		{"ebs empty tags", &EBSSnapshot{}, `
region = "us-east-1"
volumes = {}`, "needs tags"},
		{"asg fractional desired", &ASGScale{}, `
region = "us-west-2"
group = "g"
desired = 1.5`, "desired must be a whole number"},
		{"asg negative", &ASGScale{}, `
region = "us-west-2"
group = "g"
desired = -1`, "desired must be between"},
		{"alarms bad expect", &AlarmsCheck{}, `
region = "us-west-2"
alarms = ["a"]
expect = "GREEN"`, "expect must be OK, ALARM or INSUFFICIENT_DATA"},
		{"alarms needs names or prefix", &AlarmsCheck{}, `region = "us-west-2"`, "exactly one of alarms and alarm_prefix"},
		{"replication needs a bound", &ReplicationCheck{}, `
region = "us-east-1"
bucket = "b"`, "at least one of max_lag"},
		{"replication bad lag", &ReplicationCheck{}, `
region = "us-east-1"
bucket = "b"
max_lag = "5 minutes"`, "max_lag"},
		{"backup time without zone", &BackupRestore{}, `
region = "us-east-1"
vault = "v"
resource_arn = "arn:aws:s3:::b"
to_time = "2026-11-20T09:30:00"`, "not an RFC 3339 timestamp with a zone"},
		{"backup both ways", &BackupRestore{}, `
region = "us-east-1"
vault = "v"
resource_arn = "arn:aws:s3:::b"
to_time = "2026-11-20T09:30:00Z"
recovery_point_arn = "arn:aws:backup:us-east-1:1:recovery-point:x"`, "either recovery_point_arn"},
		{"backup time alone", &BackupRestore{}, `
region = "us-east-1"
vault = "v"
to_time = "2026-11-20T09:30:00Z"`, "go together"},
		{"poll interval zero", &AlarmsCheck{}, `
region = "us-west-2"
alarm_prefix = "ai-"
poll_interval = "0s"`, "poll_interval must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := decodeStep(t, tc.typ.Spec(), tc.body)
			sc := &runbook.StepContext{RunID: "r1", Address: "step.x.y", DryRun: true}
			_, err := tc.typ.Plan(t.Context(), sc, cfg)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Plan err = %v, want %q", err, tc.err)
			}
			if _, err := tc.typ.Apply(t.Context(), sc, cfg); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Apply err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestPlanWithUnknownInputs(t *testing.T) {
	unknown := func(typ runbook.StepType, known map[string]cty.Value) cty.Value {
		attrs := map[string]cty.Value{}
		for name, s := range typ.Spec() {
			as := s.(*hcldec.AttrSpec)
			attrs[name] = cty.NullVal(as.Type)
			if v, ok := known[name]; ok {
				attrs[name] = v
			}
		}
		return cty.ObjectVal(attrs)
	}
	sc := &runbook.StepContext{RunID: "r1", Address: "step.x.y", DryRun: true}
	cases := []struct {
		typ  runbook.StepType
		cfg  map[string]cty.Value
		want string
	}{
		{&EBSSnapshot{}, map[string]cty.Value{"region": cty.StringVal("us-east-1"), "volume_ids": cty.UnknownVal(cty.List(cty.String))},
			"CreateSnapshot volumes chosen at apply"},
		{&BackupRestore{}, map[string]cty.Value{"region": cty.StringVal("us-east-1"), "vault": cty.StringVal("v"),
			"recovery_point_arn": cty.UnknownVal(cty.String)}, "StartRestoreJob recovery point chosen at apply -> new resource"},
		{&AlarmsCheck{}, map[string]cty.Value{"region": cty.UnknownVal(cty.String), "alarms": cty.ListVal([]cty.Value{cty.StringVal("a")})},
			"check alarms chosen at apply expect OK"},
		{&ASGScale{}, map[string]cty.Value{"region": cty.StringVal("us-west-2"), "group": cty.UnknownVal(cty.String), "desired": cty.NumberIntVal(2)},
			"SetDesiredCapacity group chosen at apply"},
	}
	for _, c := range cases {
		changes, err := c.typ.Plan(t.Context(), sc, unknown(c.typ, c.cfg))
		if err != nil {
			t.Fatalf("%T: %v", c.typ, err)
		}
		if len(changes) != 1 || changes[0].String() != c.want {
			t.Errorf("%T: changes %v, want %q", c.typ, changes, c.want)
		}
	}
}

func TestRestoreBucketNameFits(t *testing.T) {
	token := runToken(&runbook.StepContext{RunID: "r", Address: "step.backup_restore.models"})
	p := recoveryPoint{resourceArn: "arn:aws:s3:::" + strings.Repeat("a", 63)}
	name := restoreBucketName(p, token)
	if len(name) > 63 || !strings.HasSuffix(name, "-restore-"+token[:8]) {
		t.Errorf("name %q (%d chars)", name, len(name))
	}
	if got := restoreBucketName(recoveryPoint{resourceName: "ai-model-artifacts"}, token); got != "ai-model-artifacts-restore-"+token[:8] {
		t.Errorf("name %q", got)
	}
	if runToken(&runbook.StepContext{RunID: "r", Address: "step.backup_restore.other"}) == token {
		t.Error("two steps share an idempotency token")
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]float64{"42.5%": 42.5, "0.00%": 0, "100%": 100, " 7 ": 7, "120%": 100} {
		if got, ok := parsePercent(in); !ok || got != want {
			t.Errorf("parsePercent(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", "-5%"} {
		if _, ok := parsePercent(in); ok {
			t.Errorf("parsePercent(%q) accepted", in)
		}
	}
}

func FuzzParsePercent(f *testing.F) {
	f.Add("42.5%")
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := parsePercent(s); ok && (v < 0 || v > 100) {
			t.Fatalf("parsePercent(%q) = %v", s, v)
		}
	})
}

func TestAWSValidateConfig(t *testing.T) {
	type validator interface {
		runbook.StepType
		ValidateConfig(cty.Value) []runbook.ConfigError
	}
	tests := []struct {
		name string
		typ  validator
		body string
		attr string // "" with want "" means valid
		want string
	}{
		{"ebs valid", &EBSSnapshot{}, `
region = "us-east-1"
volume_ids = ["vol-1"]`, "", ""},
		{"ebs selection", &EBSSnapshot{}, `region = "us-east-1"`, "", "exactly one of volume_ids"},
		{"ebs wait_for", &EBSSnapshot{}, `
region = "us-east-1"
volume_ids = ["vol-1"]
wait_for = "soon"`, "wait_for", "not a duration"},
		{"asg valid", &ASGScale{}, `
region = "us-west-2"
group = "g"
desired = 4
min = 1
max = 8`, "", ""},
		{"asg desired", &ASGScale{}, `
region = "us-west-2"
group = "g"
desired = 2.5`, "desired", "whole number"},
		{"asg bounds", &ASGScale{}, `
region = "us-west-2"
group = "g"
desired = 9
max = 8`, "desired", "desired 9 is outside min and max"},
		{"alarms expect", &AlarmsCheck{}, `
region = "us-west-2"
alarms = ["a"]
expect = "RED"`, "expect", "expect must be OK"},
		{"replication within", &ReplicationCheck{}, `
region = "us-east-1"
bucket = "b"
max_pending = 1
within = "-1m"`, "within", "negative"},
		{"backup to_time", &BackupRestore{}, `
region = "us-east-1"
vault = "v"
resource_arn = "arn:aws:s3:::b"
to_time = "yesterday"`, "to_time", "RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.typ.ValidateConfig(decodeStep(t, tc.typ.Spec(), tc.body))
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("errors %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Attr != tc.attr || !strings.Contains(errs[0].Detail, tc.want) {
				t.Fatalf("errors %+v, want one on %q containing %q", errs, tc.attr, tc.want)
			}
		})
	}
	// Values that come from other steps are unknown at decode time and
	// are not reported.
	asg := &ASGScale{}
	attrs := map[string]cty.Value{}
	for name, s := range asg.Spec() {
		attrs[name] = cty.NullVal(s.(*hcldec.AttrSpec).Type)
	}
	attrs["region"], attrs["group"] = cty.StringVal("us-west-2"), cty.StringVal("g")
	attrs["desired"], attrs["min"] = cty.UnknownVal(cty.Number), cty.NumberIntVal(1)
	if errs := asg.ValidateConfig(cty.ObjectVal(attrs)); len(errs) != 0 {
		t.Errorf("unknown desired reported: %v", errs)
	}
}

func BenchmarkPickRecoveryPoint(b *testing.B) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	points := make([]recoveryPoint, 10000)
	for i := range points {
		points[i] = recoveryPoint{arn: fmt.Sprintf("rp-%d", i), created: base.Add(time.Duration(i) * time.Hour), status: "COMPLETED"}
	}
	at := base.Add(5000*time.Hour + 30*time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if p, ok := pickRecoveryPoint(points, at, at); !ok || p.arn != "rp-5000" {
			b.Fatalf("picked %v", p.arn)
		}
	}
	b.ReportMetric(float64(len(points))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// FuzzAWSValidateConfig feeds every AWS step type arbitrary strings and
// numbers: validation must answer with errors, never panic.
func FuzzAWSValidateConfig(f *testing.F) {
	f.Add("us-east-1", "15m", "2026-11-20T09:30:00Z", 4.0, "OK")
	f.Add("", "-1s", "yesterday", 2.5, "")
	f.Add("x", "0s", "", -3.0, "ALARM")
	types := []runbook.StepType{&EBSSnapshot{}, &ASGScale{}, &AlarmsCheck{}, &ReplicationCheck{}, &BackupRestore{}}
	f.Fuzz(func(t *testing.T, s, dur, when string, n float64, expect string) {
		for _, typ := range types {
			attrs := map[string]cty.Value{}
			for name, sp := range typ.Spec() {
				ty := sp.(*hcldec.AttrSpec).Type
				var v cty.Value
				switch {
				case ty == cty.String && (name == "wait_for" || name == "poll_interval" || name == "within" || name == "max_lag"):
					v = cty.StringVal(dur)
				case ty == cty.String && name == "to_time":
					v = cty.StringVal(when)
				case ty == cty.String && name == "expect":
					v = cty.StringVal(expect)
				case ty == cty.String:
					v = cty.StringVal(s)
				case ty == cty.Number:
					v = cty.NumberFloatVal(n)
				case ty == cty.Bool:
					v = cty.True
				case ty.IsListType():
					v = cty.ListVal([]cty.Value{cty.StringVal(s)})
				case ty.IsMapType():
					v = cty.MapVal(map[string]cty.Value{"k": cty.StringVal(s)})
				default:
					v = cty.NullVal(ty)
				}
				attrs[name] = v
			}
			cv := typ.(runbook.ConfigValidator)
			for _, e := range cv.ValidateConfig(cty.ObjectVal(attrs)) {
				if e.Detail == "" || e.Summary == "" {
					t.Fatalf("%T: empty error %+v", typ, e)
				}
			}
		}
	})
}
