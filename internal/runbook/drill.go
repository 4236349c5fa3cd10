package runbook

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Drill describes a game-day rehearsal of a runbook: the same graph, with
// every step that could hurt production redirected or made reversible, and
// a teardown at the end that undoes what the drill created.
type Drill struct {
	// ID names the drill's resources (tags, bucket names); it is the run id.
	ID string
	// TargetBucket and TargetPrefix are where restores go instead of their
	// production location. Empty when neither the runbook's drill block nor
	// the command line gives one; steps that need it then refuse.
	TargetBucket, TargetPrefix string
}

// DrillPlan is how a step runs in a drill.
type DrillPlan struct {
	// Type runs the step in place of the registered type (nil: the same
	// type); it must have the same Outputs.
	Type StepType
	// Config is the configuration the step plans and applies with.
	Config cty.Value
	// Redirects says, in words the operator reads before anything runs,
	// what the drill changed: "restore into drills/RUN/models/ instead of
	// my-models/models/".
	Redirects []Change
	// State is what teardown needs beyond the configuration and outputs,
	// read before the step acts (a group's capacity). It is journalled
	// before Apply, so a teardown after a crash has it.
	State json.RawMessage
}

// Drillable is implemented by step types that can run in a drill. A step
// type that does not implement it is refused in a drill, unless the step
// says drill_safe = true. DrillPlan reads only; cfg may hold unknown values
// (in dry-run).
type Drillable interface {
	DrillPlan(ctx context.Context, sc *StepContext, cfg cty.Value, d Drill) (DrillPlan, error)
}

// TeardownRequest is what a step type is given to undo a drill step.
type TeardownRequest struct {
	Drill Drill
	// Config is the drill configuration the step ran with, read back from
	// the journal (objects where the step's spec had maps).
	Config cty.Value
	// Outputs are the step's outputs, or a null value when it did not
	// finish (it failed or the drill was interrupted).
	Outputs cty.Value
	State   json.RawMessage
	// Logs are the lines the step logged while it ran (step_log), for
	// what it started but could not report in outputs (a job id).
	Logs []string
	// Action records one thing teardown did (or found already done), as it
	// is done.
	Action func(Change)
}

// TearDowner is implemented by drillable step types that create something
// in a drill: teardown undoes it. Teardown must be idempotent: a teardown
// interrupted and run again finds what is already gone and moves on.
type TearDowner interface {
	Teardown(ctx context.Context, sc *StepContext, req TeardownRequest) error
}

// DrillRecord is the drill configuration and state of a step, as
// step_drilled records them.
type DrillRecord struct {
	Type   string          `json:"type"`
	Config json.RawMessage `json:"config,omitempty"`
	State  json.RawMessage `json:"state,omitempty"`
	Safe   bool            `json:"drill_safe,omitempty"` // run as is: the step says drill_safe = true
}

// DrillInfo is recorded in run_started when the run is a drill.
type DrillInfo struct {
	TargetBucket string   `json:"target_bucket,omitempty"`
	TargetPrefix string   `json:"target_prefix,omitempty"`
	IncidentAt   string   `json:"incident_at,omitempty"` // RFC 3339; empty: the drill's start
	Faults       []string `json:"faults,omitempty"`
}

// CheckDrill reports the steps that cannot run in a drill: their type has
// no drill support and they do not say drill_safe = true. reg overrides
// the types the runbook was parsed with, as Options.Registry does.
func CheckDrill(rb *Runbook, reg Registry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if rb == nil {
		return diags
	}
	for _, n := range rb.Nodes {
		if n.Kind != KindStep || n.DrillSafe {
			continue
		}
		if _, ok := reg.typeOf(n).(Drillable); ok {
			continue
		}
		why := "so a drill cannot keep it away from production"
		if r, ok := reg.typeOf(n).(DrillRefuser); ok && r.DrillRefusal() != "" {
			why = "because " + r.DrillRefusal()
		}
		rng := n.DeclRange
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Step not safe in a drill",
			Detail: fmt.Sprintf("%s: step type %s has no drill mode, %s. "+
				"If running it as is during a drill is safe, say drill_safe = true in the step.", n.Addr, n.Type, why),
			Subject: &rng,
		})
	}
	return diags
}

// drillStep rewrites a step for the drill and records how, before the
// step plans or applies anything.
func (r *run) drillStep(n *Node, typ StepType, cfg cty.Value) (StepType, cty.Value, error) {
	typ, cfg, rec, redirects, err := r.drillRewrite(n, typ, cfg)
	if err != nil {
		return nil, cty.NilVal, err
	}
	if err := r.emit(Event{Kind: StepDrilled, Node: n.Addr, Changes: redirects, Drill: rec}); err != nil {
		return nil, cty.NilVal, err
	}
	return typ, cfg, nil
}

// drillRewrite is the step as the drill runs it, without recording
// anything: a gate that plans the step it confirms plans what the drill
// will do.
func (r *run) drillRewrite(n *Node, typ StepType, cfg cty.Value) (StepType, cty.Value, *DrillRecord, []Change, error) {
	d := *r.opts.Drill
	rec := &DrillRecord{Type: n.Type}
	var redirects []Change
	dr, ok := typ.(Drillable)
	switch {
	case ok:
		plan, err := dr.DrillPlan(r.ctx, r.stepContext(n, 0, &progressThrottle{r: r, node: n.Addr}, nil), cfg, d)
		if err != nil {
			return nil, cty.NilVal, nil, nil, fmt.Errorf("drill: %w", err)
		}
		if plan.Type != nil {
			typ = plan.Type
		}
		if plan.Config != cty.NilVal {
			cfg = plan.Config
		}
		redirects, rec.State = plan.Redirects, plan.State
	case n.DrillSafe:
		rec.Safe = true
		redirects = []Change{{Action: "run as is", Target: n.Addr, Detail: "drill_safe = true"}}
	default:
		return nil, cty.NilVal, nil, nil, fmt.Errorf("step type %s cannot run in a drill: it has no drill mode (say drill_safe = true in the step if running it as is is safe)", n.Type)
	}
	if raw, err := OutputsJSON(cfg); err == nil {
		rec.Config = raw
	}
	return typ, cfg, rec, redirects, nil
}
