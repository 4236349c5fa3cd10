package runbook

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DiagError carries diagnostics through an error return, so a caller that
// prints them with their source (file:line:column and the snippet) can get
// them back with errors.As, and one that cannot still has a readable
// message.
type DiagError struct {
	// What names what was being done ("load runbooks/a.hcl",
	// "variables", "drill"); it leads the message.
	What  string
	Diags hcl.Diagnostics
	// Sources are the files the diagnostics point into, for a writer
	// that shows the source line; nil when unknown.
	Sources map[string]*hcl.File
}

// NewDiagnosticWriter is hcl's diagnostic writer over e's sources.
func (e *DiagError) NewDiagnosticWriter(w io.Writer, color bool, width uint) hcl.DiagnosticWriter {
	return hcl.NewDiagnosticTextWriter(w, e.Sources, width, color)
}

// Error lists the error diagnostics on one line.
func (e *DiagError) Error() string {
	var msgs []string
	errs := e.Diags.Errs()
	for i, err := range errs {
		if i == MaxShownDiagnostics {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(errs)-i))
			break
		}
		// hcl's own Error() writes "<nil>:" for a diagnostic that points
		// at no source (a variable given on the command line).
		d, ok := err.(*hcl.Diagnostic)
		switch {
		case !ok:
			msgs = append(msgs, err.Error())
		case d.Subject != nil:
			msgs = append(msgs, d.Error())
		case d.Detail != "":
			msgs = append(msgs, d.Summary+": "+d.Detail)
		default:
			msgs = append(msgs, d.Summary)
		}
	}
	s := strings.Join(msgs, "; ")
	if e.What != "" {
		s = e.What + ": " + s
	}
	return s
}

// DiagsError returns diags as a *DiagError when any is an error, else nil:
// the one bridge from diagnostics to Go errors.
func DiagsError(what string, diags hcl.Diagnostics) error {
	if !diags.HasErrors() {
		return nil
	}
	return &DiagError{What: what, Diags: diags}
}
