package runbook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// drillDanger is dangerStep with a drill mode: it writes to the drill
// bucket instead.
type drillDanger struct{ dangerStep }

func (drillDanger) DrillPlan(_ context.Context, _ *StepContext, cfg cty.Value, d Drill) (DrillPlan, error) {
	attrs := cfg.AsValueMap()
	attrs["bucket"] = cty.StringVal(d.TargetBucket)
	return DrillPlan{Config: cty.ObjectVal(attrs), State: json.RawMessage(`{"was":1}`),
		Redirects: []Change{{Action: "redirect", Target: d.TargetBucket, Detail: "instead of production"}}}, nil
}

const drillSrc = `
runbook {
  drill {
    target_bucket = "drill-bucket"
    target_prefix = "drills/"
    fault {
      kind    = "outage"
      region  = "us-west-2"
      at_step = "step.danger.restore"
    }
    fault {
      kind  = "throttle"
      rate  = 0.25
      after = "30s"
    }
    fault {
      kind       = "throttle"
      per_second = 500
      service    = "s3"
    }
    fault {
      kind    = "drop"
      service = "s3"
      writes  = true
      every   = 10
    }
  }
}
step "danger" "restore" {
  bucket  = "prod"
  to_time = "2026-01-01T00:00:00Z"
}
step "wait" "pause" {
  duration   = "1ms"
  depends_on = [step.danger.restore]
}
`

func TestDrillModeRewritesAndRecords(t *testing.T) {
	reg, rec, _ := testRegistry()
	reg["danger"] = drillDanger{dangerStep{rec: rec}}
	rb := mustParse(t, drillSrc, reg)
	if rb.Drill == nil || rb.Drill.TargetBucket != "drill-bucket" || len(rb.Drill.Faults) != 4 {
		t.Fatalf("drill block %+v", rb.Drill)
	}
	if f := rb.Drill.Faults[0]; f.Kind != "outage" || f.Region != "us-west-2" || f.AtStep != "step.danger.restore" {
		t.Errorf("fault %+v", f)
	}
	if f := rb.Drill.Faults[1]; f.Rate != 0.25 || f.After != 30*time.Second {
		t.Errorf("fault %+v", f)
	}
	if f := rb.Drill.Faults[2]; f.PerSecond != 500 || f.Rate != 0 {
		t.Errorf("fault %+v", f)
	}
	if f := rb.Drill.Faults[3]; f.Every != 10 || !f.Writes {
		t.Errorf("fault %+v", f)
	}
	// The wait type has no drill mode in this package's test registry.
	diags := CheckDrill(rb, reg)
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "step.wait.pause") || diags[0].Subject == nil {
		t.Fatalf("CheckDrill: %v", diagList(diags))
	}

	ev := &events{}
	res := Execute(context.Background(), rb, Options{RunID: "r1", AutoApprove: true, Sink: ev,
		Drill: &Drill{ID: "r1", TargetBucket: "drill-bucket"}})
	if res.Status != StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	d := ev.find(StepDrilled, "step.danger.restore")
	if d == nil || d.Drill == nil || string(d.Drill.State) != `{"was":1}` || !strings.Contains(string(d.Drill.Config), `"bucket":"drill-bucket"`) {
		t.Fatalf("step_drilled %+v", d)
	}
	if got := rec.appliedList(); len(got) != 1 {
		t.Errorf("applied %v", got)
	}
	if f := ev.find(StepFailed, "step.wait.pause"); f == nil || !strings.Contains(f.Error, "cannot run in a drill") {
		t.Errorf("wait in a drill: %+v", f)
	}
	if s := ev.find(RunStarted, ""); s == nil || s.Run.Drill == nil || s.Run.Drill.TargetBucket != "drill-bucket" {
		t.Errorf("run_started %+v", s)
	}
}

func TestDrillSafeAndFaultDiagnostics(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
step "wait" "pause" {
  duration   = "1ms"
  drill_safe = true
}
`, reg)
	if diags := CheckDrill(rb, reg); diags.HasErrors() {
		t.Fatalf("drill_safe step refused: %v", diagList(diags))
	}
	ev := &events{}
	res := Execute(context.Background(), rb, Options{RunID: "r2", Sink: ev, Drill: &Drill{ID: "r2"}})
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	if d := ev.find(StepDrilled, "step.wait.pause"); d == nil || !d.Drill.Safe {
		t.Errorf("step_drilled %+v", d)
	}

	for _, src := range []string{
		`runbook { drill { fault { rate = 0.1 } } }`,
		`runbook { drill { fault { kind = "throttle"
rate = 2 } } }`,
		`runbook { drill { fault { kind = "outage"
after = "1s"
at_step = "step.a.b" } } }`,
		`runbook { drill { fault { kind = "drop"
per_second = 5 } } }`,
		`runbook { drill { fault { kind = "drop"
every = 2.5 } } }`,
		`runbook { drill { fault { kind = "drop"
every = 0 } } }`,
		`runbook { drill { fault { kind = "drop"
rate = 0.5
every = 3 } } }`,
		`runbook { drill { fault { kind = "throttle"
per_second = 0 } } }`,
		`runbook { drill { fault { kind = "throttle"
rate = 0.5
per_second = 5 } } }`,
	} {
		if _, diags := Parse(map[string][]byte{"main.hcl": []byte(src)}, reg); !diags.HasErrors() {
			t.Errorf("accepted %s", src)
		}
	}
}

func TestDrillIsNotResumed(t *testing.T) {
	reg, _, _ := testRegistry()
	rb := mustParse(t, `
step "wait" "pause" {
  duration = "1ms"
}
`, reg)
	res := Execute(context.Background(), rb, Options{RunID: "r3", Resume: &ResumeState{From: "r2", Drill: true}})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "drill --teardown r2") {
		t.Fatalf("resume of a drill: %s %v", res.Status, res.Err)
	}
}
