package runbook_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/hashicorp/hcl/v2"
)

func hostileRegistry() runbook.Registry { return runbook.Registry{"wait": noopStep{}} }

const oneStep = "step \"wait\" \"a\" {\n  duration = \"0s\"\n}\n"

// Anything that is not UTF-8 text is refused with one diagnostic that
// names the file and where the first bad byte is.
func TestParseRefusesBinaryWithOneDiagnostic(t *testing.T) {
	garbage := make([]byte, 200<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	for _, c := range []struct {
		name string
		src  []byte
		pos  string // line:column of the first bad byte
	}{
		{"nul", []byte(oneStep + "# é\x00"), "4:4"},
		{"latin1", []byte("step \"wait\" \"caf\xe9\" {}\n"), "1:17"},
		{"truncated rune", []byte(oneStep + "\xe2\x82"), "4:1"},
		{"elf", append([]byte("\x7fELF\x02\x01\x01\x00"), garbage[:4096]...), "1:8"},
		{"random", garbage, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := runbook.Parse(map[string][]byte{"bin.hcl": c.src}, hostileRegistry())
			if len(diags) != 1 || diags[0].Summary != "Not a text file" {
				t.Fatalf("diagnostics = %d: %v", len(diags), firstOf(diags))
			}
			d := diags[0]
			if d.Subject == nil || d.Subject.Filename != "bin.hcl" || !strings.Contains(d.Detail, "bin.hcl") {
				t.Errorf("diagnostic does not name the file: %v %q", d.Subject, d.Detail)
			}
			if c.pos != "" {
				if got := fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column); got != c.pos || !strings.Contains(d.Detail, " at "+c.pos+" ") {
					t.Errorf("at %s (%q), want %s", got, d.Detail, c.pos)
				}
			}
		})
	}
}

func firstOf(diags hcl.Diagnostics) hcl.Diagnostics { return diags[:min(3, len(diags))] }

// Nesting deeper than the parser may recurse is a diagnostic, never a
// stack overflow; nesting a runbook really uses is fine.
func TestParseBoundsNesting(t *testing.T) {
	const deep = 100000
	for _, c := range []struct {
		name, expr string
	}{
		{"parentheses", strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep)},
		{"unclosed parentheses", strings.Repeat("(", deep)},
		{"lists", strings.Repeat("[", deep) + strings.Repeat("]", deep)},
		{"objects", strings.Repeat("{a=", deep) + "1" + strings.Repeat("}", deep)},
		{"interpolations", strings.Repeat("\"${", deep) + "1" + strings.Repeat("}\"", deep)},
		{"negations", strings.Repeat("!", deep) + "true"},
		{"minus", strings.Repeat("-", deep) + "1"},
		{"conditionals", strings.Repeat("true ? 1 : ", deep) + "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := oneStep + "locals {\n  x = " + c.expr + "\n}\n"
			_, diags := runbook.Parse(map[string][]byte{"deep.hcl": []byte(src)}, hostileRegistry())
			if len(diags) != 1 || diags[0].Summary != "Expression nested too deeply" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 5 {
				t.Fatalf("diagnostics = %d: %v", len(diags), firstOf(diags))
			}
		})
	}
	const fine = runbook.MaxNesting / 2
	var lines strings.Builder
	for i := range 2 * runbook.MaxNesting {
		fmt.Fprintf(&lines, "true ? 1 : 2\n  y%d = ", i)
	}
	for _, expr := range []string{
		strings.Repeat("(", fine) + "1" + strings.Repeat(")", fine),
		strings.Repeat("[", fine) + strings.Repeat("]", fine),
		strings.Repeat("true ? 1 : ", fine) + "2",
		// Conditionals on many lines of one block do not add up.
		lines.String() + "3",
	} {
		src := oneStep + "locals {\n  x = " + expr + "\n}\n"
		if _, diags := runbook.Parse(map[string][]byte{"ok.hcl": []byte(src)}, hostileRegistry()); diags.HasErrors() {
			t.Errorf("%.40q…: %v", expr, firstOf(diags))
		}
	}
}

// A runbook file without a step is refused: /dev/null, a file of variables
// only, an empty directory entry. In-memory fragments stay parseable.
func TestLoadRefusesRunbookWithoutSteps(t *testing.T) {
	dir := t.TempDir()
	varsOnly := filepath.Join(dir, "vars.hcl")
	if err := os.WriteFile(varsOnly, []byte("variable \"x\" {\n  type = string\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "empty")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "a.hcl"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{os.DevNull, varsOnly, sub} {
		rb, diags := runbook.Load(path, hostileRegistry())
		if len(diags) != 1 || diags[0].Summary != "No steps" {
			t.Errorf("%s: diagnostics %v", path, diags)
			continue
		}
		if rb == nil || runbook.Execute(t.Context(), rb, runbook.Options{RunID: "x", Sink: runbook.SinkFunc(func(runbook.Event) error { return nil })}).Err == nil {
			t.Errorf("%s: a runbook without steps ran", path)
		}
	}
	if _, diags := runbook.Parse(map[string][]byte{"frag.hcl": nil}, hostileRegistry()); diags.HasErrors() {
		t.Errorf("an empty in-memory fragment: %v", diags)
	}
}

// generateRunbook writes a runbook of about size bytes: layers of steps
// wired by reference and depends_on, with descriptions, locals and
// conditions, the shapes real runbooks have.
func generateRunbook(size int) []byte {
	var b strings.Builder
	b.WriteString("runbook {\n  description = \"generated\"\n  parallelism = 8\n}\n")
	b.WriteString("variable \"region\" {\n  type    = string\n  default = \"us-west-2\"\n}\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "locals {\n  l%d = { name = \"s%d-${var.region}\", tags = [\"a\", \"b\", %q] }\n}\n", i, i, strings.Repeat("t", i%40))
		fmt.Fprintf(&b, "step \"wait\" \"s%d\" {\n  description = \"step %d of the generated runbook\"\n", i, i)
		if i >= 10 {
			fmt.Fprintf(&b, "  duration = step.wait.s%d.waited\n  depends_on = [step.wait.s%d]\n  when = length(local.l%d.tags) > 1 && local.l%d.name != \"\" ? true : false\n", i-10, i-7, i, i)
		} else {
			b.WriteString("  duration = \"0s\"\n")
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// A 1 MB runbook decodes, whole and without error. How fast is
// BenchmarkDecode1MB's to say: this test never fails on time.
func TestDecode1MB(t *testing.T) {
	src := generateRunbook(1 << 20)
	start := time.Now()
	rb, diags := runbook.Parse(map[string][]byte{"big.hcl": src}, hostileRegistry())
	if diags.HasErrors() {
		t.Fatal(firstOf(diags))
	}
	if len(rb.Order()) != len(rb.Nodes) || len(rb.Nodes) < 1000 {
		t.Fatalf("%d nodes, %d in order", len(rb.Nodes), len(rb.Order()))
	}
	t.Logf("%d bytes, %d steps decoded in %s", len(src), len(rb.Nodes), time.Since(start))
}

// BenchmarkDecode1MB decodes a generated 1 MB runbook; -benchmem's MB/s
// is the decoding rate.
func BenchmarkDecode1MB(b *testing.B) {
	src := generateRunbook(1 << 20)
	reg := hostileRegistry()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, diags := runbook.Parse(map[string][]byte{"big.hcl": src}, reg); diags.HasErrors() {
			b.Fatal(firstOf(diags))
		}
	}
}

// garbageText is size bytes of printable, valid-UTF-8 noise built from
// HCL's own punctuation and words, which gets past the text check. With
// open brackets among them it soon nests too deep; without, it keeps the
// parser's error recovery busy for the whole file.
func garbageText(size int, brackets bool) []byte {
	pieces := []string{"}", ")", "]", "\"", "=", ",", "\n", " ", "step", "x", "1", "?", ":", "#", "<<EOT\n", "EOT\n", "é", "-", "!", "*", "/", ".", "locals", "\"a\""}
	if brackets {
		pieces = append(pieces, "{", "(", "[", "${")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return []byte(b.String())
}

// BenchmarkDecodeGarbage decodes text noise of growing size: MB/s should
// stay about the same from 20 KB to 200 KB, decoding being linear.
func BenchmarkDecodeGarbage(b *testing.B) {
	for _, brackets := range []bool{false, true} {
		for _, size := range []int{20 << 10, 50 << 10, 100 << 10, 200 << 10} {
			b.Run(fmt.Sprintf("brackets=%t/%dKB", brackets, size>>10), func(b *testing.B) {
				src := garbageText(size, brackets)
				reg := hostileRegistry()
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					runbook.Parse(map[string][]byte{"garbage.hcl": src}, reg)
				}
			})
		}
	}
}
