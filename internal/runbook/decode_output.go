package runbook

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"}},
}

func (p *parser) decodeOutput(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		return hcl.Diagnostics{invalidName("output", name, block.LabelRanges[0])}
	}
	if p.outputNames == nil {
		p.outputNames = map[string]*Output{}
	}
	if prev := p.outputNames[name]; prev != nil {
		return hcl.Diagnostics{duplicate("output", fmt.Sprintf("%q", name), prev.DeclRange, block.DefRange)}
	}
	o := &Output{Name: name, DeclRange: block.DefRange}
	p.outputNames[name] = o
	p.rb.Outputs = append(p.rb.Outputs, o)
	content, diags := block.Body.Content(outputSchema)
	if a := content.Attributes["value"]; a != nil {
		o.expr = a.Expr
	}
	diags = append(diags, p.decodeShown(content.Attributes, "output", &o.Description, &o.Sensitive)...)
	return diags
}
