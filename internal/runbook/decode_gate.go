package runbook

import "github.com/hashicorp/hcl/v2"

var gateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "prompt"}, {Name: "timeout"}, {Name: "depends_on"}, {Name: "when"}, {Name: "description"},
	},
}

func (p *parser) decodeGate(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	n := &Node{Addr: GateAddress(name).String(), Kind: KindGate, Name: name, DeclRange: block.DefRange, OnFailure: OnFailureAbort}
	if d := p.addNode(n, block.LabelRanges[0]); d.HasErrors() {
		return d
	}
	content, diags := block.Body.Content(gateSchema)
	diags = append(diags, p.decodeCommonMeta(n, content.Attributes)...)
	if a := content.Attributes["prompt"]; a != nil {
		n.prompt = a.Expr
	}
	return diags
}
