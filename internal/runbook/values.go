package runbook

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// OutputsJSON renders a step's or the runbook's outputs as plain JSON, as
// they are recorded in step_finished and run_finished events. Unknown values
// (dry-run) become null.
func OutputsJSON(v cty.Value) (json.RawMessage, error) {
	if v == cty.NilVal {
		return json.RawMessage("null"), nil
	}
	known, err := cty.Transform(v, func(_ cty.Path, x cty.Value) (cty.Value, error) {
		if x.IsKnown() {
			return x, nil
		}
		t := x.Type()
		if t == cty.DynamicPseudoType {
			t = cty.String
		}
		return cty.NullVal(t), nil
	})
	if err != nil {
		return nil, fmt.Errorf("render outputs: %w", err)
	}
	ty := known.Type()
	if !ty.IsPrimitiveType() && ty.HasDynamicTypes() {
		// A dynamic type would make ctyjson wrap the value with its type;
		// records hold the plain value.
		ty = unifyDynamic(known)
	}
	b, err := ctyjson.Marshal(known, ty)
	if err != nil {
		return nil, fmt.Errorf("render outputs: %w", err)
	}
	return json.RawMessage(b), nil
}

// unifyDynamic returns the concrete type of a value whose declared type
// holds dynamic parts.
func unifyDynamic(v cty.Value) cty.Type {
	if v.IsNull() {
		if v.Type() == cty.DynamicPseudoType {
			return cty.String
		}
		return v.Type()
	}
	t := v.Type()
	switch {
	case t == cty.DynamicPseudoType:
		return cty.String
	case t.IsObjectType():
		attrs := map[string]cty.Type{}
		for k, x := range v.AsValueMap() {
			attrs[k] = unifyDynamic(x)
		}
		return cty.Object(attrs)
	case t.IsTupleType():
		var elems []cty.Type
		for _, x := range v.AsValueSlice() {
			elems = append(elems, unifyDynamic(x))
		}
		return cty.Tuple(elems)
	}
	return t
}

// OutputsFromJSON reads outputs recorded by OutputsJSON back as a value of
// type t (the step type's Outputs()), as resume does.
func OutputsFromJSON(t cty.Type, raw json.RawMessage) (cty.Value, error) {
	if t == cty.DynamicPseudoType {
		it, err := ctyjson.ImpliedType(raw)
		if err != nil {
			return cty.NilVal, fmt.Errorf("read outputs: %w", err)
		}
		t = it
	}
	v, err := ctyjson.Unmarshal(raw, t)
	if err != nil {
		return cty.NilVal, fmt.Errorf("read outputs: %w", err)
	}
	return v, nil
}

// renderValue shows a variable's value in a run record.
func renderValue(v cty.Value) string {
	if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
		return v.AsString()
	}
	b, err := OutputsJSON(v)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}
