package runbook

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

func (p *parser) decodeLocals(block *hcl.Block) hcl.Diagnostics {
	attrs, diags := block.Body.JustAttributes()
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return posLess(list[i].Range, list[j].Range) })
	for _, a := range list {
		if prev := p.rb.localByName[a.Name]; prev != nil {
			diags = append(diags, duplicate("local value", fmt.Sprintf("%q", a.Name), prev.DeclRange, a.NameRange))
			continue
		}
		l := &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.NameRange}
		p.rb.localByName[a.Name] = l
		p.rb.Locals = append(p.rb.Locals, l)
	}
	return diags
}
