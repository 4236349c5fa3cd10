package runbook

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix prefixes environment variables that set runbook variables:
// DRCONSOLE_VAR_restore_to sets var.restore_to.
const VarEnvPrefix = "DRCONSOLE_VAR_"

// VarInputs are the places variable values come from. Later sources win:
// the runbook's defaults, then Defaults, then Env, then Files in order,
// then Flags in order.
type VarInputs struct {
	// Defaults are the front end's values for variables it knows about
	// (the estate's names), taken as Env's are. Variables the runbook does
	// not declare are ignored: the same defaults serve every runbook.
	Defaults map[string]string
	Flags    []string // "name=value" from --var
	// FlagName is how diagnostics name where Flags came from: "--var"
	// when empty; the console says "field".
	FlagName string
	Files    []string // --var-file paths, HCL attribute syntax (name = value)
	Env      []string // os.Environ(): DRCONSOLE_VAR_<name>=value
	// Unknown makes a variable given no value unknown, of its declared
	// type, in the values returned, as terraform validate takes every
	// variable: a required one is not missing, and a default is checked by
	// the validation blocks but stands for no particular value (a null
	// that only an incident replaces). A validation checks the runbook
	// where CI lints, without what only an incident knows (a restore
	// time, a key); the values that are given are still checked.
	Unknown bool
}

// ResolveVars gathers the variables' values from in, converts them to the
// declared types, applies defaults, reports missing required variables and
// runs the validation blocks. Values from flags and the environment are
// taken as strings for string variables and parsed as HCL expressions for
// the others (--var 'zones=["a","b"]').
func (rb *Runbook) ResolveVars(in VarInputs) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	raw := map[string]cty.Value{}
	where := map[string]*hcl.Range{}
	// given records variables that had a value, even one that failed to
	// parse, so they are not also reported missing.
	given := map[string]bool{}

	defNames := keys(in.Defaults)
	sort.Strings(defNames)
	for _, name := range defNames {
		v := rb.varByName[name]
		if v == nil {
			continue
		}
		given[name] = true
		cv, d := parseCLIValue(v, in.Defaults[name], "default of variable "+name)
		diags = append(diags, d...)
		if !d.HasErrors() {
			raw[name], where[name] = cv, nil
		}
	}
	for _, kv := range in.Env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, VarEnvPrefix) {
			continue
		}
		name = strings.TrimPrefix(name, VarEnvPrefix)
		v := rb.varByName[name]
		if v == nil {
			continue // the environment is shared with other runbooks
		}
		given[name] = true
		cv, d := parseCLIValue(v, val, "environment variable "+VarEnvPrefix+name)
		diags = append(diags, d...)
		if !d.HasErrors() {
			raw[name], where[name] = cv, nil
		}
	}
	for _, path := range in.Files {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file",
				Detail: err.Error()})
			continue
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if rb.Files != nil {
			// Kept so the diagnostic writer can show lines of the file.
			rb.varFiles(path, f)
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		names := keys(attrs)
		sort.Strings(names)
		for _, name := range names {
			a := attrs[name]
			if rb.varByName[name] == nil {
				// A variables file may serve many runbooks (an estate's
				// names), so, as Terraform does for tfvars, a value no
				// variable takes is a warning.
				rng := a.NameRange
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable",
					Detail:  fmt.Sprintf("The runbook declares no variable %q; the value is ignored.%s", name, didYouMean(name, keys(rb.varByName))),
					Subject: &rng})
				continue
			}
			given[name] = true
			val, d := a.Expr.Value(&hcl.EvalContext{Functions: functions(nil)})
			diags = append(diags, d...)
			if !d.HasErrors() {
				rng := a.Expr.Range()
				raw[name], where[name] = val, &rng
			}
		}
	}
	flagName := in.FlagName
	if flagName == "" {
		flagName = "--var"
	}
	for _, kv := range in.Flags {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + flagName,
				Detail: fmt.Sprintf("%q is not NAME=VALUE.", kv)})
			continue
		}
		v := rb.varByName[name]
		if v == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("%s %s: the runbook declares no variable %q.%s", flagName, name, name, didYouMean(name, keys(rb.varByName)))})
			continue
		}
		given[name] = true
		cv, d := parseCLIValue(v, val, flagName+" "+name)
		diags = append(diags, d...)
		if !d.HasErrors() {
			raw[name], where[name] = cv, nil
		}
	}

	out := map[string]cty.Value{}
	var defaulted []*Variable
	for _, v := range rb.Variables {
		val, ok := raw[v.Name]
		if !ok {
			if given[v.Name] {
				continue
			}
			if !v.HasDefault && in.Unknown {
				out[v.Name] = cty.UnknownVal(v.Type)
				continue
			}
			if !v.HasDefault {
				rng := v.DeclRange
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required variable",
					Detail: fmt.Sprintf("Variable %q has no default: set it with --var %s=..., a --var-file, or %s%s.",
						v.Name, v.Name, VarEnvPrefix, v.Name),
					Subject: &rng})
				continue
			}
			out[v.Name] = v.Default
			defaulted = append(defaulted, v)
			continue
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			rng := v.DeclRange
			if where[v.Name] != nil {
				rng = *where[v.Name]
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail:  fmt.Sprintf("Variable %q is of type %s: %s.", v.Name, typeexpr.TypeString(v.Type), err),
				Subject: &rng})
			continue
		}
		out[v.Name] = cv
	}
	if diags.HasErrors() {
		return out, diags
	}
	for _, v := range rb.Variables {
		diags = append(diags, v.validate(out[v.Name])...)
	}
	if in.Unknown {
		for _, v := range defaulted {
			out[v.Name] = cty.UnknownVal(v.Type)
		}
	}
	return out, diags
}

// varFiles keeps a parsed --var-file for diagnostics. Files is shared by
// every caller of the runbook, so the map is copied, not written in place.
func (rb *Runbook) varFiles(path string, f *hcl.File) {
	if _, ok := rb.Files[path]; ok {
		return
	}
	files := make(map[string]*hcl.File, len(rb.Files)+1)
	for k, v := range rb.Files {
		files[k] = v
	}
	files[path] = f
	rb.Files = files
}

func parseCLIValue(v *Variable, s, where string) (cty.Value, hcl.Diagnostics) {
	if v.Type == cty.String {
		return cty.StringVal(s), nil
	}
	shown := fmt.Sprintf("%q", s)
	if v.Sensitive {
		shown = "the value"
	}
	expr, diags := hclsyntax.ParseExpression([]byte(s), where, hcl.InitialPos)
	if diags.HasErrors() {
		if v.Type == cty.DynamicPseudoType {
			return cty.StringVal(s), nil
		}
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s: %s is not a valid %s value.", where, shown, typeexpr.TypeString(v.Type))}}
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: functions(nil)})
	if diags.HasErrors() {
		if v.Type == cty.DynamicPseudoType {
			return cty.StringVal(s), nil
		}
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s: %s is not a valid %s value.", where, shown, typeexpr.TypeString(v.Type))}}
	}
	return val, nil
}

func (v *Variable) validate(val cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: functions(nil),
	}
	for _, vl := range v.validations {
		res, d := vl.condition.Value(ctx)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		res, err := convert.Convert(res, cty.Bool)
		rng := vl.condition.Range()
		if err != nil || res.IsNull() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
				Detail: "The condition must be true or false.", Subject: &rng})
			continue
		}
		if !res.IsKnown() || res.True() {
			continue
		}
		msg := "The value does not pass validation."
		if m, d := vl.message.Value(ctx); !d.HasErrors() {
			if m, err := convert.Convert(m, cty.String); err == nil && m.IsKnown() && !m.IsNull() {
				msg = m.AsString()
			}
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("var.%s: %s", v.Name, msg), Subject: &rng})
	}
	return diags
}

// VarFileValues reads a variables file (HCL name = value lines) into
// values as a --var flag takes them: a string as it is, anything else as
// its HCL source text. A front end uses it to turn an estate's file into
// VarInputs.Defaults shared by every runbook.
func VarFileValues(path string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read variables file: %w", err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse variables file: %w", diags)
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse variables file: %w", diags)
	}
	out := make(map[string]string, len(attrs))
	for name, a := range attrs {
		val, d := a.Expr.Value(&hcl.EvalContext{Functions: functions(nil)})
		if d.HasErrors() {
			return nil, fmt.Errorf("variables file %s: %w", path, d)
		}
		if val.Type() == cty.String && val.IsKnown() && !val.IsNull() {
			out[name] = val.AsString()
			continue
		}
		out[name] = string(a.Expr.Range().SliceBytes(src))
	}
	return out, nil
}
