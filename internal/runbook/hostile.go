package runbook

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting is how deeply brackets, braces, template interpolations,
// chained unary operators and conditionals may nest in a runbook file.
// hcl's parser recurses once per level, so without a bound a file of a few
// hundred kilobytes of "(" exhausts the Go stack; real runbooks stay far
// below it.
const MaxNesting = 256

// MaxShownDiagnostics is how many diagnostics are printed before the rest
// are summed up as "and N more": a file that is not a runbook at all
// would otherwise print thousands.
const MaxShownDiagnostics = 20

// checkText refuses a file that is not UTF-8 text, with one diagnostic at
// the first offending byte: hcl would report one diagnostic per bad byte
// and take time quadratic in the file's size doing so.
func checkText(name string, src []byte) *hcl.Diagnostic {
	bad, what := -1, ""
	if i := bytes.IndexByte(src, 0); i >= 0 {
		bad, what = i, "a NUL byte"
	}
	if !utf8.Valid(src) {
		for i := 0; i < len(src) && (bad < 0 || i < bad); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				bad, what = i, "a byte that is not UTF-8"
				break
			}
			i += n
		}
	}
	if bad < 0 {
		return nil
	}
	pos := posAt(src, bad)
	rng := hcl.Range{Filename: name, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: pos.Byte + 1}}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Not a text file",
		Detail: fmt.Sprintf("%s holds %s at %d:%d (byte %d): a runbook is UTF-8 text in HCL. Is this the right file?",
			name, what, pos.Line, pos.Column, bad),
		Subject: &rng,
	}
}

// posAt is the line and column (in characters) of byte offset off.
func posAt(src []byte, off int) hcl.Pos {
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	return hcl.Pos{Line: line, Column: utf8.RuneCount(src[start:off]) + 1, Byte: off}
}

// checkNesting refuses a file whose expressions nest deeper than
// MaxNesting, looking only at its tokens (hcl's lexer does not recurse),
// before the parser would recurse that deep.
func checkNesting(name string, src []byte) *hcl.Diagnostic {
	tokens, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	// Each open bracket is a level; within it, each "?" of a chain of
	// conditionals nests one more until the statement ends, and a run of
	// unary operators nests one per operator.
	type level struct {
		closer    hclsyntax.TokenType
		questions int
	}
	stack := []level{{}}
	depth, unary := 0, 0
	for _, tok := range tokens {
		top := &stack[len(stack)-1]
		opened := hclsyntax.TokenNil
		switch tok.Type {
		case hclsyntax.TokenOParen:
			opened = hclsyntax.TokenCParen
		case hclsyntax.TokenOBrack:
			opened = hclsyntax.TokenCBrack
		case hclsyntax.TokenOBrace:
			opened = hclsyntax.TokenCBrace
		case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			opened = hclsyntax.TokenTemplateSeqEnd
		case hclsyntax.TokenOQuote:
			opened = hclsyntax.TokenCQuote
		case hclsyntax.TokenOHeredoc:
			opened = hclsyntax.TokenCHeredoc
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			// An unbalanced closer is the parser's to report; only a
			// matching one ends a level.
			if len(stack) > 1 && top.closer == tok.Type {
				depth -= 1 + top.questions
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenQuestion:
			top.questions++
			depth++
		case hclsyntax.TokenNewline:
			// A newline ends a statement only outside brackets, where the
			// parser reads it at all.
			if top.closer == hclsyntax.TokenNil || top.closer == hclsyntax.TokenCBrace {
				depth -= top.questions
				top.questions = 0
			}
		}
		if tok.Type == hclsyntax.TokenBang || tok.Type == hclsyntax.TokenMinus {
			unary++
		} else {
			unary = 0
		}
		if opened != hclsyntax.TokenNil {
			stack = append(stack, level{closer: opened})
			depth++
		}
		if depth+unary > MaxNesting {
			rng := tok.Range
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Expression nested too deeply",
				Detail: fmt.Sprintf("Brackets, braces, interpolations, conditionals and operators nest more than %d deep here. "+
					"Split the expression into locals.", MaxNesting),
				Subject: &rng,
			}
		}
	}
	return nil
}

// checkHasSteps refuses a runbook without a step: running it would do
// nothing and report success, which is never what was meant (an empty or
// wrong file, a directory of variable files).
func checkHasSteps(rb *Runbook, names []string) *hcl.Diagnostic {
	for _, n := range rb.Nodes {
		if n.Kind == KindStep {
			return nil
		}
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "No steps",
		Detail:   "The runbook declares no step blocks, so it would do nothing. Add a step \"TYPE\" \"NAME\" { ... } block, or check that this is the right file.",
	}
	if len(names) > 0 {
		rng := hcl.Range{Filename: names[0], Start: hcl.InitialPos, End: hcl.InitialPos}
		d.Subject = &rng
	}
	return d
}
