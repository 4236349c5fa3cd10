package sandbox

import (
	"strings"
	"testing"
)

func TestNamesVarsFileRoundTrip(t *testing.T) {
	n := DefaultNames()
	n.ModelBucket, n.DRGroup, n.AlarmHealth = "acme-ml-models", "serving-standby", "acme-health"
	got, err := ParseNames(n.VarsFile(), "estate.vars")
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, n)
	}
	if v := n.Vars()["dr_alarms"]; v != `["ai-inference-dr-capacity", "acme-health"]` {
		t.Errorf("dr_alarms = %s", v)
	}
}

func TestParseNames(t *testing.T) {
	for _, tc := range []struct {
		name, src, err string
		check          func(Names) bool
	}{
		{name: "partial, unknown keys left to runbooks",
			src: "model_bucket = \"acme-ml-models\"\nrestore_to = \"2026-03-01T12:00:00Z\"\n",
			check: func(n Names) bool {
				return n.ModelBucket == "acme-ml-models" && n.withDefaults().DRGroup == DefaultNames().DRGroup
			}},
		{name: "dr_alarms sets the two DR alarms", src: `dr_alarms = ["cap", "health"]`,
			check: func(n Names) bool { return n.AlarmDRCapacity == "cap" && n.AlarmHealth == "health" }},
		{name: "dr_alarms of one", src: `dr_alarms = ["cap"]`, err: "two alarm names"},
		{name: "not a string", src: `dr_group = ["a"]`, err: "dr_group must be a string"},
		{name: "not HCL", src: `model_bucket = `, err: "parse sandbox names"},
		{name: "variable reference", src: `model_bucket = var.x`, err: "parse sandbox names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseNames([]byte(tc.src), "f.vars")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(n) {
				t.Errorf("names %+v", n)
			}
		})
	}
}

func TestNamesValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    Names
		err  string
	}{
		{"bad bucket", Names{ModelBucket: "Acme_Models"}, "model_bucket"},
		{"same buckets", Names{ModelBucket: "acme", ReplicaBucket: "acme"}, "both"},
		{"prefix without slash", Names{ModelsPrefix: "models"}, "must end in /"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Names: tc.n})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func FuzzParseNames(f *testing.F) {
	f.Add([]byte(DefaultNames().VarsFile()))
	f.Add([]byte(`dr_alarms = ["a", "b"]`))
	f.Fuzz(func(t *testing.T, src []byte) {
		n, err := ParseNames(src, "f.vars")
		if err != nil {
			return
		}
		if _, err := ParseNames(n.withDefaults().VarsFile(), "again.vars"); err != nil {
			t.Fatalf("VarsFile of parsed names does not parse: %v", err)
		}
	})
}
