package runbook

import (
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// scope is what expressions see: variables, the run, and the current value
// of each step and gate (known outputs, unknown ones in dry-run and
// validation).
type scope struct {
	funcs funcTable
	vars  cty.Value
	run   cty.Value
	value func(n *Node) cty.Value
}

// evalContext builds the context for expressions that reference nodes and
// locals. Only what they reference is put in scope, which keeps each
// evaluation proportional to the expression, not to the runbook.
func (s *scope) evalContext(nodes []*Node, locals []*Local) (*hcl.EvalContext, hcl.Diagnostics) {
	steps := map[string]map[string]cty.Value{}
	gates := map[string]cty.Value{}
	for _, n := range nodes {
		v := s.value(n)
		if n.Kind == KindGate {
			gates[n.Name] = v
			continue
		}
		if steps[n.Type] == nil {
			steps[n.Type] = map[string]cty.Value{}
		}
		steps[n.Type][n.Name] = v
	}
	stepObj := map[string]cty.Value{}
	for typ, byName := range steps {
		stepObj[typ] = cty.ObjectVal(byName)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   s.vars,
			"run":   s.run,
			"step":  cty.ObjectVal(stepObj),
			"gate":  cty.ObjectVal(gates),
			"local": cty.EmptyObjectVal,
		},
		Functions: s.funcs,
	}
	var diags hcl.Diagnostics
	if len(locals) > 0 {
		vals := make(map[string]cty.Value, len(locals))
		for _, l := range locals {
			// Each local sees only the earlier locals it names: building
			// the object of all of them for each would make a runbook of
			// many locals quadratic to decode.
			ctx.Variables["local"] = localsFor(l.Expr, vals)
			v, d := l.Expr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				v = cty.DynamicVal
			}
			vals[l.Name] = v
		}
		ctx.Variables["local"] = cty.ObjectVal(vals)
	}
	return ctx, diags
}

// localsFor is the "local" object expr needs out of vals: the locals it
// names, or all of vals when it uses local as a whole.
func localsFor(expr hcl.Expression, vals map[string]cty.Value) cty.Value {
	var some map[string]cty.Value
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		if len(tr) < 2 {
			return cty.ObjectVal(vals)
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			return cty.ObjectVal(vals)
		}
		if v, ok := vals[attr.Name]; ok {
			if some == nil {
				some = map[string]cty.Value{}
			}
			some[attr.Name] = v
		}
	}
	if some == nil {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(some)
}

// settings are a node's meta-arguments, evaluated.
type settings struct {
	timeout time.Duration // 0: none
	// unavailable is the step's unavailable_after: 0 takes the
	// runbook's, Never turns it off.
	unavailable time.Duration
	attempts    int
	backoff     time.Duration
	prompt      string
	cfg         cty.Value // a step's own attributes
}

// DefaultRetryAttempts is how many attempts a retry block without
// attempts allows.
const DefaultRetryAttempts = 3

// DefaultBackoff is the delay before the second attempt when a retry block
// gives none; each further attempt doubles it.
const DefaultBackoff = time.Second

// evalWhen evaluates the node's condition. An unknown condition (dry-run,
// validation) counts as true: the node would run.
func (n *Node) evalWhen(ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	if n.when == nil {
		return true, nil
	}
	v, diags := n.when.Value(ctx)
	if diags.HasErrors() {
		return false, diags
	}
	v, err := convert.Convert(v, cty.Bool)
	if err != nil || v.IsNull() {
		rng := n.when.Range()
		if err == nil {
			err = fmt.Errorf("the condition is null")
		}
		return false, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid when condition",
			Detail: fmt.Sprintf("when must be true or false: %s.", err), Subject: &rng}}
	}
	if !v.IsKnown() {
		return true, nil
	}
	return v.True(), nil
}

// evalSettings evaluates everything but when. Unknown values leave the
// defaults in place (they are only possible in dry-run and validation).
func (n *Node) evalSettings(ctx *hcl.EvalContext) (settings, hcl.Diagnostics) {
	st := settings{attempts: 1, backoff: DefaultBackoff, cfg: cty.EmptyObjectVal}
	var diags hcl.Diagnostics
	durationOf := func(e hcl.Expression, what string) time.Duration {
		v, d := e.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return 0
		}
		rng := e.Range()
		v, err := convert.Convert(v, cty.String)
		if err != nil || v.IsNull() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid duration",
				Detail: fmt.Sprintf("The %s must be a duration string such as \"15m\".", what), Subject: &rng})
			return 0
		}
		if !v.IsKnown() {
			return 0
		}
		dur, err := ParseDuration(v.AsString())
		if err != nil {
			diags = append(diags, invalidDuration(rng, what, err))
		}
		return dur
	}
	if n.timeout != nil {
		st.timeout = durationOf(n.timeout, "timeout")
	}
	if n.unavailable != nil {
		// "0s" turns the bound off; an unknown value (dry-run) keeps the
		// runbook's.
		before := len(diags)
		if d := durationOf(n.unavailable, "unavailable_after"); d > 0 {
			st.unavailable = d
		} else if v, _ := n.unavailable.Value(ctx); v.IsKnown() && len(diags) == before {
			st.unavailable = Never
		}
	}
	if n.backoff != nil {
		if d := durationOf(n.backoff, "retry backoff"); d > 0 {
			st.backoff = d
		}
	}
	if n.attempts != nil {
		v, d := n.attempts.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			rng := n.attempts.Range()
			v, err := convert.Convert(v, cty.Number)
			switch {
			case err != nil || v.IsNull():
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid retry attempts",
					Detail: "attempts must be a whole number of at least 1.", Subject: &rng})
			case v.IsKnown():
				bf := v.AsBigFloat()
				i, acc := bf.Int64()
				if acc != big.Exact || i < 1 || i > 1000 {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid retry attempts",
						Detail: "attempts must be a whole number from 1 to 1000.", Subject: &rng})
				} else {
					st.attempts = int(i)
				}
			}
		}
	}
	if n.prompt != nil {
		v, d := n.prompt.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v, err := convert.Convert(v, cty.String)
			rng := n.prompt.Range()
			switch {
			case err != nil || v.IsNull():
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid prompt",
					Detail: "prompt must be a string.", Subject: &rng})
			case !v.IsKnown():
				st.prompt = "(prompt known when the run reaches the gate)"
			default:
				st.prompt = v.AsString()
			}
		}
	}
	if n.Kind == KindStep && n.spec != nil {
		cfg, d := hcldec.Decode(n.body, n.spec, ctx)
		diags = append(diags, d...)
		st.cfg = cfg
	}
	return st, diags
}

func unknownVars(vars []*Variable) cty.Value {
	m := make(map[string]cty.Value, len(vars))
	for _, v := range vars {
		m[v.Name] = cty.UnknownVal(v.Type)
	}
	return cty.ObjectVal(m)
}

// unknownValue is a node's value before it has run.
func unknownValue(n *Node) cty.Value {
	if n.Kind == KindGate {
		return cty.UnknownVal(gateType)
	}
	if n.StepType == nil {
		return cty.DynamicVal
	}
	return cty.UnknownVal(n.StepType.Outputs())
}

// validateExpressions evaluates every expression with unknown variables and
// step outputs, as terraform validate does, so type errors surface before
// anything runs.
func (p *parser) validateExpressions() hcl.Diagnostics {
	// Every node is checked, even one whose condition is false whatever
	// the variables: its attributes are still the runbook's to get right.
	return p.rb.checkExpressions(p.funcs, unknownVars(p.rb.Variables), false)
}

// CheckExpressions evaluates every expression again with the variables'
// values in vals (as ResolveVars gives them) and step outputs unknown, so a
// validation with values finds what only those values break, such as a
// step's attribute its type refuses. A sensitive variable stays unknown:
// a diagnostic may quote the value it finds wrong.
func (rb *Runbook) CheckExpressions(vals map[string]cty.Value) hcl.Diagnostics {
	m := make(map[string]cty.Value, len(rb.Variables))
	for _, v := range rb.Variables {
		val, ok := vals[v.Name]
		if !ok || v.Sensitive {
			val = cty.UnknownVal(v.Type)
		}
		m[v.Name] = val
	}
	return rb.checkExpressions(functions(nil), cty.ObjectVal(m), true)
}

// checkExpressions evaluates every expression of rb with vars and unknown
// step outputs and run; skipFalse leaves out the nodes whose condition is
// false.
func (rb *Runbook) checkExpressions(funcs funcTable, vars cty.Value, skipFalse bool) hcl.Diagnostics {
	s := &scope{funcs: funcs, vars: vars, run: cty.UnknownVal(runType), value: unknownValue}
	ctx, diags := s.evalContext(rb.Nodes, rb.localOrder)
	for _, n := range rb.Nodes {
		run, d := n.evalWhen(ctx)
		if d.HasErrors() {
			diags = append(diags, d...)
		} else if !run && skipFalse {
			// A node whose condition these values make false never
			// evaluates the rest, so a value it would refuse (an empty
			// URL) is no error.
			continue
		}
		st, d := n.evalSettings(ctx)
		diags = append(diags, d...)
		if d.HasErrors() || n.StepType == nil {
			continue
		}
		if cv, ok := n.StepType.(ConfigValidator); ok {
			for _, e := range cv.ValidateConfig(st.cfg) {
				rng := attrRange(n.body, e.Attr, n.DeclRange)
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: e.Summary, Detail: e.Detail, Subject: &rng})
			}
		}
	}
	for _, o := range rb.Outputs {
		if o.expr != nil {
			_, d := o.expr.Value(ctx)
			diags = append(diags, d...)
		}
	}
	return diags
}

// attrRange finds where an attribute's value is written in a body.
func attrRange(body hcl.Body, name string, fallback hcl.Range) hcl.Range {
	if name == "" || body == nil {
		return fallback
	}
	c, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
	if a := c.Attributes[name]; a != nil {
		return a.Expr.Range()
	}
	return fallback
}
