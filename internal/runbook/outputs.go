package runbook

import (
	"encoding/json"

	"github.com/drconsole/drconsole/internal/redact"
	"github.com/zclconf/go-cty/cty"
)

// evalOutputs computes the runbook's outputs from what ran and renders
// them for run_finished, sensitive ones masked.
func (r *run) evalOutputs(res *Result) json.RawMessage {
	if len(r.rb.Outputs) == 0 {
		return nil
	}
	ctx, _ := r.sc.evalContext(r.rb.Nodes, r.rb.localOrder)
	shown := map[string]cty.Value{}
	for _, o := range r.rb.Outputs {
		v, diags := o.expr.Value(ctx)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		res.Outputs[o.Name] = v
		if o.Sensitive {
			shown[o.Name] = cty.StringVal(redact.Marker)
		} else {
			shown[o.Name] = v
		}
	}
	raw, err := OutputsJSON(cty.ObjectVal(shown))
	if err != nil {
		return nil
	}
	return raw
}
