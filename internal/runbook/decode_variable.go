package runbook

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

func (p *parser) decodeVariable(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(name) {
		return append(diags, invalidName("variable", name, block.LabelRanges[0]))
	}
	if prev := p.rb.varByName[name]; prev != nil {
		return append(diags, duplicate("variable", fmt.Sprintf("%q", name), prev.DeclRange, block.DefRange))
	}
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: block.DefRange}
	p.rb.varByName[name] = v
	p.rb.Variables = append(p.rb.Variables, v)

	content, d := block.Body.Content(variableSchema)
	diags = append(diags, d...)
	if a := content.Attributes["type"]; a != nil {
		ty, d := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	diags = append(diags, p.decodeShown(content.Attributes, "variable", &v.Description, &v.Sensitive)...)
	if a := content.Attributes["default"]; a != nil {
		val, d := a.Expr.Value(p.constCtx())
		diags = append(diags, d...)
		if !d.HasErrors() {
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				rng := a.Expr.Range()
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default of variable %q does not fit its type %s: %s.", name, typeexpr.TypeString(v.Type), err),
					Subject:  &rng,
				})
			} else {
				v.Default, v.HasDefault = cv, true
			}
		}
	}
	for _, b := range content.Blocks {
		c, d := b.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		cond, msg := c.Attributes["condition"], c.Attributes["error_message"]
		for _, tr := range cond.Expr.Variables() {
			if tr.RootName() == "var" && len(tr) > 1 {
				if at, ok := tr[1].(hcl.TraverseAttr); ok && at.Name == name {
					continue
				}
			}
			rng := tr.SourceRange()
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in variable validation",
				Detail:   fmt.Sprintf("The condition of variable %q may refer only to var.%s.", name, name),
				Subject:  &rng,
			})
		}
		v.validations = append(v.validations, &validation{condition: cond.Expr, message: msg.Expr, rng: b.DefRange})
	}
	return diags
}
