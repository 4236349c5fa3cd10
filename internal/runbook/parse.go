package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "runbook"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "step", LabelNames: []string{"type", "name"}},
		{Type: "gate", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
	},
}

var runbookSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "parallelism"}},
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
		{Name: "kind", Required: true}, {Name: "rate"}, {Name: "service"}, {Name: "operation"}, {Name: "region"},
		{Name: "latency"}, {Name: "after"}, {Name: "at_step"},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

// stepMetaSchema holds the meta-arguments every step takes; PartialContent
// takes them out and leaves the step type's own attributes for hcldec.
var stepMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "depends_on"}, {Name: "timeout"}, {Name: "on_failure"}, {Name: "confirm"},
		{Name: "when"}, {Name: "description"}, {Name: "drill_safe"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "retry"}},
}

var retrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attempts"}, {Name: "backoff"}},
}

var gateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "prompt"}, {Name: "timeout"}, {Name: "depends_on"}, {Name: "when"}, {Name: "description"},
	},
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"}},
}

// Load reads a runbook: a .hcl file, or a directory whose *.hcl files form
// one runbook. The returned runbook is non-nil whenever any file could be
// read, so its Files can render the diagnostics; callers must not run it
// when the diagnostics hold errors.
func Load(path string, reg Registry) (*Runbook, hcl.Diagnostics) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read runbook", Detail: err.Error()}}
	}
	files := map[string][]byte{}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read runbook", Detail: err.Error()}}
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
				continue
			}
			name := filepath.Join(path, e.Name())
			src, err := os.ReadFile(name)
			if err != nil {
				return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read runbook", Detail: err.Error()}}
			}
			files[name] = src
		}
		if len(files) == 0 {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No runbook files",
				Detail: fmt.Sprintf("The directory %s holds no *.hcl files.", path)}}
		}
	} else {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read runbook", Detail: err.Error()}}
		}
		files[path] = src
	}
	rb, diags := Parse(files, reg)
	rb.Path = path
	return rb, diags
}

// Parse decodes in-memory sources (file name -> content) into one runbook,
// validates references, the dependency graph and every expression's type,
// and returns what it found. The runbook is always non-nil; it must not be
// executed when the diagnostics hold errors (Execute refuses it).
func Parse(files map[string][]byte, reg Registry) (*Runbook, hcl.Diagnostics) {
	rb := &Runbook{
		Files:       map[string]*hcl.File{},
		nodeByAddr:  map[string]*Node{},
		varByName:   map[string]*Variable{},
		localByName: map[string]*Local{},
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	rb.Hash = hashSources(names, files)

	var diags hcl.Diagnostics
	var parsed []*hcl.File
	for _, name := range names {
		f, d := hclsyntax.ParseConfig(files[name], name, hcl.InitialPos)
		diags = append(diags, d...)
		if f != nil {
			rb.Files[name] = f
			parsed = append(parsed, f)
		}
	}
	if len(names) == 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No runbook files", Detail: "A runbook needs at least one file."})
	}
	if diags.HasErrors() {
		rb.diags = diags
		return rb, diags
	}

	p := &parser{rb: rb, reg: reg, funcs: functions(nil)}
	for _, f := range parsed {
		content, d := f.Body.Content(rootSchema)
		diags = append(diags, d...)
		for _, block := range content.Blocks {
			switch block.Type {
			case "runbook":
				diags = append(diags, p.decodeRunbook(block)...)
			case "variable":
				diags = append(diags, p.decodeVariable(block)...)
			case "locals":
				diags = append(diags, p.decodeLocals(block)...)
			case "step":
				diags = append(diags, p.decodeStep(block)...)
			case "gate":
				diags = append(diags, p.decodeGate(block)...)
			case "output":
				diags = append(diags, p.decodeOutput(block)...)
			}
		}
	}
	diags = append(diags, p.link()...)
	if !diags.HasErrors() {
		diags = append(diags, p.validateExpressions()...)
	}
	rb.diags = diags
	return rb, diags
}

func hashSources(names []string, files map[string][]byte) string {
	h := sha256.New()
	for _, name := range names {
		base := filepath.Base(name)
		fmt.Fprintf(h, "%d:%s\x00%d:", len(base), base, len(files[name]))
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

type parser struct {
	rb          *Runbook
	reg         Registry
	funcs       funcTable
	sawRunbook  *hcl.Range
	outputNames map[string]*Output
	// explicit holds each node's depends_on targets with their ranges.
	explicit map[*Node][]hcl.Traversal
	// confirmSet records steps whose confirm was written out.
	confirmSet map[*Node]bool
}

func (p *parser) constCtx() *hcl.EvalContext {
	return &hcl.EvalContext{Functions: p.funcs}
}

// constValue evaluates an expression that may use functions but no
// references, converted to ty.
func (p *parser) constValue(expr hcl.Expression, ty cty.Type, what string) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(p.constCtx())
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		rng := expr.Range()
		return cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("Inappropriate value for %s: %s.", what, err),
			Subject:  &rng,
		}}
	}
	if cv.IsNull() {
		rng := expr.Range()
		return cty.NilVal, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Missing value",
			Detail: fmt.Sprintf("The %s must not be null.", what), Subject: &rng,
		}}
	}
	return cv, nil
}

func (p *parser) constString(attr *hcl.Attribute, what string) (string, hcl.Diagnostics) {
	v, diags := p.constValue(attr.Expr, cty.String, what)
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), nil
}

func (p *parser) constBool(attr *hcl.Attribute, what string) (bool, hcl.Diagnostics) {
	v, diags := p.constValue(attr.Expr, cty.Bool, what)
	if diags.HasErrors() {
		return false, diags
	}
	return v.True(), nil
}

func (p *parser) constDuration(attr *hcl.Attribute, what string) (time.Duration, hcl.Diagnostics) {
	s, diags := p.constString(attr, what)
	if diags.HasErrors() {
		return 0, diags
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, hcl.Diagnostics{invalidDuration(attr.Expr.Range(), what, err)}
	}
	return d, nil
}

func invalidDuration(rng hcl.Range, what string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid duration",
		Detail:   fmt.Sprintf("The %s must be a duration such as \"90s\", \"15m\" or \"1h30m\": %s.", what, err),
		Subject:  &rng,
	}
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
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate objectives block",
					Detail: "A runbook has one objectives block.", Subject: &b.DefRange})
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
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate drill block",
					Detail: "A runbook has one drill block.", Subject: &b.DefRange})
				continue
			}
			c, d := b.Body.Content(drillSchema)
			diags = append(diags, d...)
			dt := &DrillTarget{}
			if a := c.Attributes["target_bucket"]; a != nil {
				dt.TargetBucket, d = p.constString(a, "drill target_bucket")
				diags = append(diags, d...)
			}
			if a := c.Attributes["target_prefix"]; a != nil {
				dt.TargetPrefix, d = p.constString(a, "drill target_prefix")
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
	if f.After > 0 && f.AtStep != "" {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Fault starts twice",
			Detail: "Set after (from the drill's start) or at_step (when a step starts), not both.", Subject: &b.DefRange})
	}
	return f, diags
}

func invalidName(kind, name string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + kind + " name",
		Detail:   fmt.Sprintf("%q is not a valid name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.", name),
		Subject:  &rng,
	}
}

func duplicate(kind, name string, first, again hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + kind,
		Detail:   fmt.Sprintf("%s %s named %s was already declared at %s. Names must be unique.", article(kind), kind, name, first),
		Subject:  &again,
	}
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "An"
	}
	return "A"
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
	if a := content.Attributes["description"]; a != nil {
		s, d := p.constString(a, "variable description")
		diags = append(diags, d...)
		v.Description = s
	}
	if a := content.Attributes["sensitive"]; a != nil {
		b, d := p.constBool(a, "variable sensitive flag")
		diags = append(diags, d...)
		v.Sensitive = b
	}
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

func posLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

func (p *parser) addNode(n *Node, labelRng hcl.Range) hcl.Diagnostics {
	if prev := p.rb.nodeByAddr[n.Addr]; prev != nil {
		return hcl.Diagnostics{duplicate(n.Kind.String(), n.Addr, prev.DeclRange, n.DeclRange)}
	}
	if !hclsyntax.ValidIdentifier(n.Name) {
		return hcl.Diagnostics{invalidName(n.Kind.String(), n.Name, labelRng)}
	}
	n.index = len(p.rb.Nodes)
	p.rb.nodeByAddr[n.Addr] = n
	p.rb.Nodes = append(p.rb.Nodes, n)
	return nil
}

func (p *parser) decodeStep(block *hcl.Block) hcl.Diagnostics {
	typ, name := block.Labels[0], block.Labels[1]
	n := &Node{
		Addr: "step." + typ + "." + name, Kind: KindStep, Type: typ, Name: name,
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

// decodeCommonMeta takes the meta-arguments steps and gates share.
func (p *parser) decodeCommonMeta(n *Node, attrs hcl.Attributes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a := attrs["description"]; a != nil {
		s, d := p.constString(a, "description")
		diags = append(diags, d...)
		n.Description = s
	}
	if a := attrs["when"]; a != nil {
		n.when = a.Expr
	}
	if a := attrs["timeout"]; a != nil {
		n.timeout = a.Expr
	}
	if a := attrs["depends_on"]; a != nil {
		exprs, d := hcl.ExprList(a.Expr)
		diags = append(diags, d...)
		for _, e := range exprs {
			tr, d := hcl.AbsTraversalForExpr(e)
			if d.HasErrors() || !isNodeRef(tr) {
				rng := e.Range()
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Invalid depends_on reference",
					Detail:  "depends_on lists steps and gates: step.TYPE.NAME or gate.NAME.",
					Subject: &rng,
				})
				continue
			}
			if p.explicit == nil {
				p.explicit = map[*Node][]hcl.Traversal{}
			}
			p.explicit[n] = append(p.explicit[n], tr)
		}
	}
	return diags
}

func isNodeRef(tr hcl.Traversal) bool {
	switch tr.RootName() {
	case "step":
		return len(tr) == 3 && isAttr(tr[1]) && isAttr(tr[2])
	case "gate":
		return len(tr) == 2 && isAttr(tr[1])
	}
	return false
}

func isAttr(t hcl.Traverser) bool {
	_, ok := t.(hcl.TraverseAttr)
	return ok
}

func (p *parser) decodeGate(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	n := &Node{Addr: "gate." + name, Kind: KindGate, Name: name, DeclRange: block.DefRange, OnFailure: OnFailureAbort}
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
	if a := content.Attributes["description"]; a != nil {
		s, d := p.constString(a, "output description")
		diags = append(diags, d...)
		o.Description = s
	}
	if a := content.Attributes["sensitive"]; a != nil {
		b, d := p.constBool(a, "output sensitive flag")
		diags = append(diags, d...)
		o.Sensitive = b
	}
	return diags
}

// suggest returns the candidate nearest to name, or "" when none is close.
// Swapped letters count as one edit, the commonest typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", len(name)/3+2
	sort.Strings(candidates)
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // transposition
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
