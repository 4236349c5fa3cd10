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
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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
	// Parse accepts sources without a step (a variables-only fragment is
	// useful to a program); a runbook file that would run nothing is
	// refused here, where files are what an operator named.
	if !diags.HasErrors() {
		if d := checkHasSteps(rb, sortedNames(files)); d != nil {
			diags = append(diags, d)
			rb.diags = diags
		}
	}
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
	names := sortedNames(files)
	rb.Hash = hashSources(names, files)

	var diags hcl.Diagnostics
	var parsed []*hcl.File
	for _, name := range names {
		// A file that is not text, or nests deeper than the parser can
		// recurse, gets one diagnostic and is not parsed at all.
		if d := checkText(name, files[name]); d != nil {
			diags = append(diags, d)
			continue
		}
		if d := checkNesting(name, files[name]); d != nil {
			diags = append(diags, d)
			continue
		}
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

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
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

func posLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

// decodeShown takes what variables and outputs share about how they are
// shown: a description, and whether the value is sensitive. kind names the
// block in messages.
func (p *parser) decodeShown(attrs hcl.Attributes, kind string, description *string, sensitive *bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a := attrs["description"]; a != nil {
		s, d := p.constString(a, kind+" description")
		diags = append(diags, d...)
		*description = s
	}
	if a := attrs["sensitive"]; a != nil {
		b, d := p.constBool(a, kind+" sensitive flag")
		diags = append(diags, d...)
		*sensitive = b
	}
	return diags
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
