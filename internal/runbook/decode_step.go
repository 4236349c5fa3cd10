package runbook

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// stepMetaSchema holds the meta-arguments every step takes; PartialContent
// takes them out and leaves the step type's own attributes for hcldec.
var stepMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "depends_on"}, {Name: "timeout"}, {Name: "on_failure"}, {Name: "confirm"},
		{Name: "when"}, {Name: "description"}, {Name: "drill_safe"}, {Name: "unavailable_after"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "retry"}},
}

var retrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attempts"}, {Name: "backoff"}},
}

func (p *parser) decodeStep(block *hcl.Block) hcl.Diagnostics {
	typ, name := block.Labels[0], block.Labels[1]
	n := &Node{
		Addr: StepAddress(typ, name).String(), Kind: KindStep, Type: typ, Name: name,
		DeclRange: block.DefRange, OnFailure: OnFailureAbort,
	}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(typ) {
		return hcl.Diagnostics{invalidName("step type", typ, block.LabelRanges[0])}
	}
	if d := p.addNode(n, block.LabelRanges[1]); d.HasErrors() {
		return d
	}
	st := p.reg[typ]
	if st == nil {
		known := make([]string, 0, len(p.reg))
		for k := range p.reg {
			known = append(known, k)
		}
		detail := fmt.Sprintf("There is no step type %q.", typ)
		if s := suggest(typ, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else if len(known) > 0 {
			sort.Strings(known)
			detail += " Known types: " + strings.Join(known, ", ") + "."
		}
		rng := block.LabelRanges[0]
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown step type", Detail: detail, Subject: &rng})
	} else {
		n.StepType = st
		n.spec = st.Spec()
		n.Confirm = st.Destructive()
	}

	content, remain, d := block.Body.PartialContent(stepMetaSchema)
	diags = append(diags, d...)
	n.body = remain
	diags = append(diags, p.decodeCommonMeta(n, content.Attributes)...)
	if a := content.Attributes["on_failure"]; a != nil {
		s, d := p.constString(a, "on_failure policy")
		diags = append(diags, d...)
		if !d.HasErrors() {
			if s != OnFailureAbort && s != OnFailureContinue {
				rng := a.Expr.Range()
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Invalid on_failure",
					Detail:  fmt.Sprintf("on_failure is %q or %q, not %q.", OnFailureAbort, OnFailureContinue, s),
					Subject: &rng,
				})
			} else {
				n.OnFailure = s
			}
		}
	}
	if a := content.Attributes["confirm"]; a != nil {
		b, d := p.constBool(a, "confirm flag")
		diags = append(diags, d...)
		n.Confirm = b
		n.confirmRng = a.Range
		if p.confirmSet == nil {
			p.confirmSet = map[*Node]bool{}
		}
		p.confirmSet[n] = true
	}
	if a := content.Attributes["unavailable_after"]; a != nil {
		n.unavailable = a.Expr
	}
	if a := content.Attributes["drill_safe"]; a != nil {
		b, d := p.constBool(a, "drill_safe flag")
		diags = append(diags, d...)
		n.DrillSafe = b
	}
	for i, b := range content.Blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate retry block",
				Detail: "A step has at most one retry block.", Subject: &b.DefRange})
			continue
		}
		c, d := b.Body.Content(retrySchema)
		diags = append(diags, d...)
		if a := c.Attributes["attempts"]; a != nil {
			n.attempts = a.Expr
		}
		if a := c.Attributes["backoff"]; a != nil {
			n.backoff = a.Expr
		}
		if n.attempts == nil {
			// A retry block that names no count still means retrying.
			n.attempts = hcl.StaticExpr(cty.NumberIntVal(DefaultRetryAttempts), b.DefRange)
		}
	}
	return diags
}
