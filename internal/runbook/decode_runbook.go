package runbook

import (
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

var runbookSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "parallelism"}, {Name: "unavailable_after"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "objectives"}, {Type: "drill"}},
}

var objectivesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "rto"}, {Name: "rpo"}},
}

var drillSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "target_bucket"}, {Name: "target_prefix"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "fault"}},
}

var faultSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "kind", Required: true}, {Name: "rate"}, {Name: "per_second"}, {Name: "every"}, {Name: "writes"},
		{Name: "service"}, {Name: "operation"}, {Name: "region"},
		{Name: "latency"}, {Name: "after"}, {Name: "at_step"},
	},
}

func (p *parser) decodeRunbook(block *hcl.Block) hcl.Diagnostics {
	if p.sawRunbook != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate runbook block",
			Detail:   fmt.Sprintf("A runbook has one runbook block; the first is at %s.", p.sawRunbook),
			Subject:  &block.DefRange,
		}}
	}
	p.sawRunbook = &block.DefRange
	content, diags := block.Body.Content(runbookSchema)
	if a := content.Attributes["description"]; a != nil {
		s, d := p.constString(a, "runbook description")
		diags = append(diags, d...)
		p.rb.Description = s
	}
	if a := content.Attributes["unavailable_after"]; a != nil {
		s, d := p.constString(a, "unavailable_after")
		diags = append(diags, d...)
		if !d.HasErrors() {
			dur, err := ParseDuration(s)
			switch {
			case err != nil:
				diags = append(diags, invalidDuration(a.Expr.Range(), "unavailable_after", err))
			case dur == 0:
				p.rb.UnavailableAfter = Never
			default:
				p.rb.UnavailableAfter = dur
			}
		}
	}
	if a := content.Attributes["parallelism"]; a != nil {
		v, d := p.constValue(a.Expr, cty.Number, "parallelism")
		diags = append(diags, d...)
		if !d.HasErrors() {
			var n int
			if err := gocty.FromCtyValue(v, &n); err != nil || n < 1 {
				rng := a.Expr.Range()
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid parallelism",
					Detail: "The parallelism must be a whole number of at least 1.", Subject: &rng})
			} else {
				p.rb.Parallelism = n
			}
		}
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "objectives":
			if p.rb.Objectives != nil {
				diags = append(diags, secondBlock(b))
				continue
			}
			c, d := b.Body.Content(objectivesSchema)
			diags = append(diags, d...)
			obj := &Objectives{}
			if a := c.Attributes["rto"]; a != nil {
				obj.RTO, d = p.constDuration(a, "recovery time objective (rto)")
				diags = append(diags, d...)
			}
			if a := c.Attributes["rpo"]; a != nil {
				obj.RPO, d = p.constDuration(a, "recovery point objective (rpo)")
				diags = append(diags, d...)
			}
			p.rb.Objectives = obj
		case "drill":
			if p.rb.Drill != nil {
				diags = append(diags, secondBlock(b))
				continue
			}
			c, d := b.Body.Content(drillSchema)
			diags = append(diags, d...)
			dt := &DrillTarget{}
			if a := c.Attributes["target_bucket"]; a != nil {
				dt.TargetBucket, dt.TargetBucketExpr, d = p.drillString(a, "drill target_bucket")
				diags = append(diags, d...)
			}
			if a := c.Attributes["target_prefix"]; a != nil {
				dt.TargetPrefix, dt.TargetPrefixExpr, d = p.drillString(a, "drill target_prefix")
				diags = append(diags, d...)
			}
			for _, fb := range c.Blocks {
				f, d := p.decodeFault(fb)
				diags = append(diags, d...)
				dt.Faults = append(dt.Faults, f)
			}
			p.rb.Drill = dt
		}
	}
	return diags
}

// secondBlock reports a block of a kind the runbook block holds one of.
func secondBlock(b *hcl.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + b.Type + " block",
		Detail: "A runbook has one " + b.Type + " block.", Subject: &b.DefRange}
}

// decodeFault reads a drill's fault block. Which kinds, services and
// rates are valid is the sandbox's to say when the drill installs it.
func (p *parser) decodeFault(b *hcl.Block) (DrillFault, hcl.Diagnostics) {
	f := DrillFault{DeclRange: b.DefRange}
	c, diags := b.Body.Content(faultSchema)
	str := func(name string, dst *string) {
		if a := c.Attributes[name]; a != nil {
			s, d := p.constString(a, "fault "+name)
			diags = append(diags, d...)
			*dst = s
		}
	}
	dur := func(name string, dst *time.Duration) {
		if a := c.Attributes[name]; a != nil {
			v, d := p.constDuration(a, "fault "+name)
			diags = append(diags, d...)
			*dst = v
		}
	}
	str("kind", &f.Kind)
	str("service", &f.Service)
	str("operation", &f.Operation)
	str("region", &f.Region)
	str("at_step", &f.AtStep)
	dur("latency", &f.Latency)
	dur("after", &f.After)
	if a := c.Attributes["rate"]; a != nil {
		v, d := p.constValue(a.Expr, cty.Number, "fault rate")
		diags = append(diags, d...)
		if !d.HasErrors() {
			f.Rate, _ = v.AsBigFloat().Float64()
			if f.Rate < 0 || f.Rate > 1 {
				rng := a.Expr.Range()
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault rate",
					Detail: "The rate is the fraction of matching requests affected, from 0 to 1.", Subject: &rng})
			}
		}
	}
	if a := c.Attributes["writes"]; a != nil {
		b, d := p.constBool(a, "fault writes flag")
		diags = append(diags, d...)
		f.Writes = b
	}
	if a := c.Attributes["every"]; a != nil {
		v, d := p.constValue(a.Expr, cty.Number, "fault every")
		diags = append(diags, d...)
		if !d.HasErrors() {
			n, acc := v.AsBigFloat().Int64()
			rng := a.Expr.Range()
			switch {
			case acc != big.Exact || n < 1 || n > math.MaxInt32:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault count",
					Detail: "every is a whole number of matching requests: the fault hits the Nth, the 2Nth, and so on.", Subject: &rng})
			case f.Rate != 0:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault count",
					Detail: "Set rate (a random fraction of requests) or every (each Nth), not both.", Subject: &rng})
			default:
				f.Every = int(n)
			}
		}
	}
	if a := c.Attributes["per_second"]; a != nil {
		v, d := p.constValue(a.Expr, cty.Number, "fault per_second")
		diags = append(diags, d...)
		if !d.HasErrors() {
			f.PerSecond, _ = v.AsBigFloat().Float64()
			rng := a.Expr.Range()
			switch {
			case f.PerSecond <= 0:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault rate limit",
					Detail: "per_second is the requests a second each prefix (or operation) may make before it is throttled: a positive number.", Subject: &rng})
			case f.Kind != "throttle":
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault rate limit",
					Detail: "Only a throttle fault takes per_second.", Subject: &rng})
			case f.Rate != 0:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid fault rate limit",
					Detail: "Set rate (a fraction of requests) or per_second (a rate limit), not both.", Subject: &rng})
			}
		}
	}
	if f.After > 0 && f.AtStep != "" {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Fault starts twice",
			Detail: "Set after (from the drill's start) or at_step (when a step starts), not both.", Subject: &b.DefRange})
	}
	return f, diags
}

// drillString decodes a drill target attribute: a constant, or an
// expression of the runbook's variables (the estate's bucket), kept to be
// evaluated when the drill's variables are known.
func (p *parser) drillString(a *hcl.Attribute, what string) (string, hcl.Expression, hcl.Diagnostics) {
	refs := a.Expr.Variables()
	if len(refs) == 0 {
		s, d := p.constString(a, what)
		return s, nil, d
	}
	var diags hcl.Diagnostics
	for _, t := range refs {
		if t.RootName() != "var" {
			rng := t.SourceRange()
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference",
				Detail:  fmt.Sprintf("The %s may refer only to variables (var.NAME).", what),
				Subject: &rng})
		}
	}
	return "", a.Expr, diags
}
