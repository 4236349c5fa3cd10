package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(dir, name, src string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600)
}

// FuzzParse decodes arbitrary source: whatever it is, Parse returns
// diagnostics, never panics, and a runbook it accepts has a complete order.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/valid/*.hcl", "testdata/invalid/*.hcl", "../../runbooks/*.hcl"} {
		paths, _ := filepath.Glob(pattern)
		seeds = append(seeds, paths...)
	}
	for _, p := range seeds {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(gatedRunbook))
	f.Add([]byte(varsRunbook))
	// Hostile shapes: empty, not text, nested past the bound and just
	// under it, and noise the parser must recover from.
	f.Add([]byte{})
	f.Add([]byte("step \"wait\" \"a\" {}\n\x00\x7fELF"))
	f.Add([]byte("step \"wait\" \"caf\xe9\" {}"))
	f.Add([]byte("locals {\n  x = " + strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1) + "\n}\n"))
	f.Add([]byte("locals {\n  x = " + strings.Repeat("[", MaxNesting-2) + strings.Repeat("]", MaxNesting-2) + "\n}\n"))
	f.Add([]byte("locals {\n  x = " + strings.Repeat("!", MaxNesting+1) + "true ? 1 : true ? 2 : 3\n}\n"))
	f.Add([]byte("locals {\n  x = \"${\"${\"${1}\"}\"}\"\n}\n" + strings.Repeat("}) ] = \"é\n step x ? : <<EOT\n", 50)))
	f.Fuzz(func(t *testing.T, src []byte) {
		reg, _, _ := testRegistry()
		rb, diags := Parse(map[string][]byte{"fuzz.hcl": src}, reg)
		if rb == nil {
			t.Fatal("Parse returned no runbook")
		}
		if diags.HasErrors() {
			return
		}
		if len(rb.Order()) != len(rb.Nodes) {
			t.Fatalf("order has %d of %d nodes", len(rb.Order()), len(rb.Nodes))
		}
		for _, n := range rb.Order() {
			for _, d := range n.Deps {
				if rb.Node(d) == nil {
					t.Fatalf("%s depends on unknown %s", n.Addr, d)
				}
			}
		}
	})
}
