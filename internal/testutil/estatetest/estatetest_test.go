package estatetest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// AcmeNames renames every resource, and no name of it contains a default
// one: a test that looks for default names in what drconsole sent would
// otherwise miss one, or find one that is not there.
func TestAcmeNamesShareNothingWithDefaults(t *testing.T) {
	n := AcmeNames()
	if _, err := sandbox.EstateVars(sandbox.Options{Names: n}); err != nil {
		t.Fatalf("the sandbox refuses the names: %v", err)
	}
	kept := map[string]bool{"PrimaryRegion": true, "DRRegion": true, "ModelsPrefix": true}
	nv, dv := reflect.ValueOf(n), reflect.ValueOf(sandbox.DefaultNames())
	var ours []string
	for i := range nv.NumField() {
		field := nv.Type().Field(i).Name
		if s := nv.Field(i).String(); s == "" != kept[field] {
			t.Errorf("%s is %q: want it set, the regions and models prefix kept", field, s)
		} else if s != "" {
			ours = append(ours, s)
		}
	}
	replaced := ReplacedDefaults(n)
	if len(replaced) != dv.NumField()-len(kept) {
		t.Errorf("replaces %d defaults, want %d: %v", len(replaced), dv.NumField()-len(kept), replaced)
	}
	for _, d := range replaced {
		for _, s := range ours {
			if strings.Contains(s, d) {
				t.Errorf("%q contains the default name %q", s, d)
			}
		}
	}
	if got := ReplacedDefaults(sandbox.DefaultNames()); len(got) != 0 {
		t.Errorf("the defaults replace %v", got)
	}
}
