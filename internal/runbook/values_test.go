package runbook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestOutputsJSONRoundTrip(t *testing.T) {
	ty := cty.Object(map[string]cty.Type{
		"copied": cty.Number,
		"keys":   cty.List(cty.String),
		"tags":   cty.Map(cty.String),
		"ok":     cty.Bool,
		"note":   cty.String,
	})
	v := cty.ObjectVal(map[string]cty.Value{
		"copied": cty.NumberIntVal(12345678901),
		"keys":   cty.ListVal([]cty.Value{cty.StringVal("models/a b.bin"), cty.StringVal("ü/+%")}),
		"tags":   cty.MapVal(map[string]cty.Value{"Name": cty.StringVal("ai")}),
		"ok":     cty.True,
		"note":   cty.NullVal(cty.String),
	})
	raw, err := OutputsJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"copied":12345678901,"keys":["models/a b.bin","ü/+%"],"note":null,"ok":true,"tags":{"Name":"ai"}}`
	if string(raw) != want {
		t.Errorf("json %s; want %s", raw, want)
	}
	back, err := OutputsFromJSON(ty, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !back.RawEquals(v) {
		t.Errorf("round trip %#v; want %#v", back, v)
	}
	if _, err := OutputsFromJSON(ty, json.RawMessage(`{"copied":"many"}`)); err == nil || !strings.Contains(err.Error(), "read outputs") {
		t.Errorf("bad outputs read: %v", err)
	}
	dyn, err := OutputsFromJSON(cty.DynamicPseudoType, json.RawMessage(`{"a":[1,2]}`))
	if err != nil || dyn.GetAttr("a").LengthInt() != 2 {
		t.Errorf("dynamic read %#v, %v", dyn, err)
	}
}

func TestOutputsJSONUnknownAndDynamic(t *testing.T) {
	tests := []struct {
		name string
		v    cty.Value
		want string
	}{
		{"nil", cty.NilVal, `null`},
		{"unknown", cty.UnknownVal(cty.Object(map[string]cty.Type{"n": cty.Number})), `null`},
		{"nested unknown", cty.ObjectVal(map[string]cty.Value{"n": cty.UnknownVal(cty.Number), "s": cty.StringVal("x")}), `{"n":null,"s":"x"}`},
		{"dynamic unknown", cty.ObjectVal(map[string]cty.Value{"d": cty.DynamicVal}), `{"d":null}`},
		{"dynamic null", cty.ObjectVal(map[string]cty.Value{"d": cty.NullVal(cty.DynamicPseudoType)}), `{"d":null}`},
		{"tuple with dynamic null", cty.TupleVal([]cty.Value{cty.NullVal(cty.DynamicPseudoType), cty.True}), `[null,true]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := OutputsJSON(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Errorf("%s; want %s", raw, tc.want)
			}
		})
	}
}
