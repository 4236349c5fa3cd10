package e2e_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// The shipped runbooks and drconsole's code take the estate's names from
// variables: none of the sandbox's default names may appear in them, or a
// run against another estate would act on a resource of the sandbox's.
func TestNoSandboxNamesOutsideSandbox(t *testing.T) {
	root := filepath.Join("..", "..")
	var names []string
	n := reflect.ValueOf(sandbox.DefaultNames())
	for i := range n.NumField() {
		s := n.Field(i).String()
		// Regions and the models prefix are ordinary words of any estate.
		switch n.Type().Field(i).Name {
		case "PrimaryRegion", "DRRegion", "ModelsPrefix", "ReplicationRule":
			continue
		}
		names = append(names, s)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == filepath.Join("internal", "sandbox") || rel == "testdata" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		isRunbook := filepath.Dir(rel) == "runbooks" && strings.HasSuffix(rel, ".hcl")
		isCode := strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")
		if !isRunbook && !isCode {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, name := range names {
				if containsName(line, name) {
					t.Errorf("%s:%d names the sandbox's %q: take it from a variable", rel, i+1, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// containsName reports whether name occurs in line as a whole name, not as
// part of a longer one (ai-inference in ai-inference-dr counts, since the
// longer name is checked too, but batch-workers in my-batch-workers-x does
// not).
func containsName(line, name string) bool {
	for off := 0; ; {
		i := strings.Index(line[off:], name)
		if i < 0 {
			return false
		}
		i += off
		before, after := byte(' '), byte(' ')
		if i > 0 {
			before = line[i-1]
		}
		if j := i + len(name); j < len(line) {
			after = line[j]
		}
		if !isNameByte(before) && (!isNameByte(after) || after == '-') {
			return true
		}
		off = i + 1
	}
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}
