package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Wait pauses the run for a duration: `step "wait" "settle" { duration = "30s" }`.
type Wait struct{}

// Spec implements runbook.StepType.
func (Wait) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"duration": &hcldec.AttrSpec{Name: "duration", Type: cty.String, Required: true},
	}
}

// Outputs implements runbook.StepType: a wait produces nothing.
func (Wait) Outputs() cty.Type { return cty.EmptyObject }

// Destructive implements runbook.StepType.
func (Wait) Destructive() bool { return false }

// Plan implements runbook.StepType.
func (Wait) Plan(_ context.Context, _ *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	if !cfgKnown(cfg, "duration") {
		return []runbook.Change{{Action: "wait", Target: "(duration known after earlier steps)"}}, nil
	}
	d, err := duration(cfg, "duration", 0)
	if err != nil {
		return nil, fmt.Errorf("wait: %w", err)
	}
	return []runbook.Change{{Action: "wait", Target: d.String()}}, nil
}

// Apply implements runbook.StepType. It returns early, with the context's
// error, when the run is cancelled.
func (Wait) Apply(ctx context.Context, _ *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	d, err := duration(cfg, "duration", 0)
	if err != nil {
		return cty.NilVal, fmt.Errorf("wait: %w", err)
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return cty.NilVal, fmt.Errorf("wait %s: %w", d, context.Cause(ctx))
		}
	}
	return cty.EmptyObjectVal, nil
}

// checkDuration reports a known duration attribute that does not parse.
func checkDuration(cfg cty.Value, name string) []runbook.ConfigError {
	v := cfg.GetAttr(name)
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	if _, err := ParseDuration(v.AsString()); err != nil {
		return []runbook.ConfigError{{Attr: name, Summary: "Invalid duration", Detail: err.Error() + "."}}
	}
	return nil
}

// ValidateConfig implements runbook.ConfigValidator.
func (Wait) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	return checkDuration(cfg, "duration")
}

// DrillPlan implements runbook.Drillable: waiting changes nothing.
func (Wait) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}
