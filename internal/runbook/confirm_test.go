package runbook

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// The one-decision-one-ask rules: a gate confirms the steps whose plan it
// shows, a step that plans no change asks nothing, and no two questions
// of a run take the same token.

// shiftingStep is destructive and plans a different change each time:
// the world moved between the gate and the step.
type shiftingStep struct {
	dangerStep
	plans *atomic.Int64
}

func (s shiftingStep) Plan(_ context.Context, _ *StepContext, _ cty.Value) ([]Change, error) {
	n := s.plans.Add(1)
	return []Change{{Action: "SetDesiredCapacity", Target: "fleet", Detail: strings.Repeat("+", int(n))}}, nil
}

// idDrill redirects the step to a bucket named after the drill's run id,
// as drills name their scratch prefixes.
type idDrill struct{ dangerStep }

func (idDrill) DrillPlan(_ context.Context, _ *StepContext, cfg cty.Value, d Drill) (DrillPlan, error) {
	attrs := cfg.AsValueMap()
	attrs["bucket"] = cty.StringVal(d.TargetBucket + "/" + d.TargetPrefix + d.ID + "/")
	return DrillPlan{Config: cty.ObjectVal(attrs)}, nil
}

func asked(a *approver) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.asked {
		out = append(out, r.Node+" "+r.Token)
	}
	return out
}

func TestOneDecisionOneAsk(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		drill  bool
		asks   []string
		reason string // of the restore's approval, when a gate gave it
	}{{
		// The failover: the restore asks on its own (nothing upstream
		// shows its plan), the gate asks for the scale it shows, and
		// the scale does not ask again.
		name: "failover",
		src: `
step "danger" "restore" {
  bucket = "ai-model-artifacts/models/"
}
gate "failover" {
  depends_on = [step.danger.restore]
}
step "danger" "scale" {
  bucket     = "serving@us-west-2"
  depends_on = [gate.failover]
}`,
		asks: []string{"step.danger.restore ai-model-artifacts/models/", "gate.failover serving@us-west-2"},
	}, {
		// A step that plans nothing asks nothing, even confirmed.
		name: "no-op plan",
		src: `
step "danger" "restore" {
  bucket  = "unchanged"
  confirm = true
}`,
		asks: nil,
	}, {
		// A gate that covers nothing (the step also waits for something
		// the gate does not) asks with its name, and the step asks too.
		name: "not covered",
		src: `
gate "go" {}
step "echo" "aside" {
  value = "x"
}
step "danger" "d" {
  bucket     = "models"
  depends_on = [gate.go, step.echo.aside]
}`,
		asks: []string{"gate.go go", "step.danger.d models"},
	}, {
		// Two questions that would share a token: the later one is
		// told apart by its step's name.
		name: "same resource twice",
		src: `
step "danger" "down" {
  bucket = "fleet@us-west-2"
}
step "danger" "up" {
  bucket     = "fleet@us-west-2"
  depends_on = [step.danger.down]
}`,
		asks: []string{"step.danger.down fleet@us-west-2", "step.danger.up fleet@us-west-2#up"},
	}, {
		// In a drill the token is the resource the runbook names, not
		// the drill's scratch copy with its run id.
		name:  "drill",
		drill: true,
		src: `
step "danger" "restore" {
  bucket = "ai-model-artifacts/models/"
}`,
		asks: []string{"step.danger.restore ai-model-artifacts/models/"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg, _, _ := testRegistry()
			reg["danger"] = idDrill{dangerStep{}}
			rb := mustParse(t, tc.src, reg)
			ap := &approver{decision: Decision{Approved: true, By: "alice"}}
			ev := &events{}
			opts := Options{RunID: "20261206T221000Z-3f9a1c", Approver: ap, Sink: ev, Parallelism: 1}
			if tc.drill {
				opts.Drill = &Drill{ID: opts.RunID, TargetBucket: "drill-bucket", TargetPrefix: "drills/"}
			}
			res := Execute(t.Context(), rb, opts)
			if res.Status != StatusSucceeded {
				t.Fatalf("status %s: %v", res.Status, res.Err)
			}
			if got := asked(ap); !slices.Equal(got, tc.asks) {
				t.Errorf("asked %q; want %q", got, tc.asks)
			}
			for _, r := range ap.asked {
				if strings.Contains(r.Token, "3f9a1c") {
					t.Errorf("token %q holds the run id", r.Token)
				}
			}
			// Every destructive step that applied was approved, by
			// its own question or the gate's.
			for _, n := range rb.Nodes {
				if n.Type != "danger" {
					continue
				}
				planned := ev.find(StepPlanned, n.Addr)
				if planned != nil && len(planned.Changes) > 0 && ev.find(GateApproved, n.Addr) == nil {
					t.Errorf("%s applied changes nobody approved", n.Addr)
				}
			}
			// A dry run says the same: who would ask.
			dry := &events{}
			if res := Execute(t.Context(), rb, Options{RunID: "dry", DryRun: true, Sink: dry, Parallelism: 1}); res.Status != StatusSucceeded {
				t.Fatalf("dry run %s: %v", res.Status, res.Err)
			}
			var would []string
			for _, e := range dry.list() {
				if e.Kind == GateAsked {
					would = append(would, e.Node)
				}
			}
			var want []string
			for _, a := range tc.asks {
				want = append(want, strings.Fields(a)[0])
			}
			if !slices.Equal(would, want) {
				t.Errorf("dry run would ask %q; want %q", would, want)
			}
		})
	}
}

// TestGateConfirmsOnlyWhatItShowed: when the step's plan differs from the
// one its gate showed, the step asks again, saying why.
func TestGateConfirmsOnlyWhatItShowed(t *testing.T) {
	reg, _, _ := testRegistry()
	reg["shifting"] = shiftingStep{plans: &atomic.Int64{}}
	rb := mustParse(t, `
gate "failover" {}
step "shifting" "scale" {
  bucket     = "fleet@us-west-2"
  depends_on = [gate.failover]
}`, reg)
	ap := &approver{decision: Decision{Approved: true, By: "alice"}}
	if res := Execute(t.Context(), rb, Options{Approver: ap, Parallelism: 1}); res.Status != StatusSucceeded {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	want := []string{"gate.failover fleet@us-west-2", "step.shifting.scale fleet@us-west-2#scale"}
	if got := asked(ap); !slices.Equal(got, want) {
		t.Fatalf("asked %q; want %q", got, want)
	}
	if p := ap.asked[1].Prompt; !strings.Contains(p, "The plan changed after gate.failover was approved") {
		t.Errorf("prompt %q", p)
	}
}
