package drill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
)

// Report is what a drill measured and did, written as Markdown, JSON and
// JUnit to the run's directory and wherever --report says.
type Report struct {
	RunID   string `json:"run_id"`
	Runbook string `json:"runbook"`
	Target  string `json:"target,omitempty"`
	// Status is how the drill's run ended; Error says why it did not
	// succeed.
	Status runbook.RunStatus `json:"status"`
	Error  string            `json:"error,omitempty"`
	Failed []StepFailure     `json:"failed,omitempty"`

	Started          time.Time `json:"started"`
	Finished         time.Time `json:"finished,omitzero"`
	IncidentAt       time.Time `json:"incident_at"`
	IncidentDeclared bool      `json:"incident_declared"`

	RTO            Objective       `json:"rto"`
	RPO            Objective       `json:"rpo"`
	RecoveryPoints []RecoveryPoint `json:"recovery_points,omitempty"`

	Steps            []*StepTiming `json:"steps"`
	CriticalPath     []string      `json:"critical_path"`
	CriticalDuration time.Duration `json:"critical_duration_ns"`

	Faults   []string        `json:"faults,omitempty"`
	Teardown TeardownSummary `json:"teardown"`
}

// StepFailure is a step that failed, and why.
type StepFailure struct {
	Node  string `json:"node"`
	Error string `json:"error"`
}

// TeardownSummary is what the teardown did.
type TeardownSummary struct {
	Status  string           `json:"status"` // "finished", "failed", "not run"
	Actions []TeardownRecord `json:"actions,omitempty"`
	Errors  []StepFailure    `json:"errors,omitempty"`
}

// TeardownRecord is one teardown action.
type TeardownRecord struct {
	Node   string         `json:"node"`
	Action runbook.Change `json:"action"`
}

// Passed reports whether the drill succeeded and met every objective the
// runbook declares.
func (rep *Report) Passed() bool {
	return rep.Status == runbook.StatusSucceeded && rep.RTO.Pass && rep.RPO.Pass
}

// Report file names in a run's directory.
const (
	ReportMarkdown = "drill-report.md"
	ReportJSON     = "drill-report.json"
	ReportJUnit    = "drill-report.xml"
)

// Write writes the report in every format into dir (a run's directory).
func (rep *Report) Write(dir string) error {
	for name, write := range map[string]func(io.Writer) error{
		ReportMarkdown: rep.WriteMarkdown, ReportJSON: rep.WriteJSON, ReportJUnit: rep.WriteJUnit,
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

// ReportFormat says which format a report written to path takes: format
// when given ("markdown", "json" or "junit"), else the one path's
// extension names. Commands check it before a drill starts.
func ReportFormat(path, format string) (string, error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".md", ".markdown":
			return "markdown", nil
		case ".json":
			return "json", nil
		case ".xml":
			return "junit", nil
		}
		return "", fmt.Errorf("report %s: cannot tell the format from the extension: use .md, .json or .xml, or --report-format", path)
	}
	switch format {
	case "markdown", "md":
		return "markdown", nil
	case "json":
		return "json", nil
	case "junit", "xml":
		return "junit", nil
	}
	return "", fmt.Errorf("report format %q: want markdown, json or junit", format)
}

// WriteFile writes the report to path in the format ReportFormat picks.
func (rep *Report) WriteFile(path, format string) error {
	f, err := ReportFormat(path, format)
	if err != nil {
		return err
	}
	write := map[string]func(io.Writer) error{"markdown": rep.WriteMarkdown, "json": rep.WriteJSON, "junit": rep.WriteJUnit}[f]
	return writeFile(path, write)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// ReadReport reads the JSON report a drill wrote into its run directory.
func ReadReport(runDir string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(runDir, ReportJSON))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read drill report: %s holds no drill report", runDir)
		}
		return nil, fmt.Errorf("read drill report: %w", err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("read drill report %s: %w", runDir, err)
	}
	return &rep, nil
}

// WriteJSON writes the report as one indented JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func passWord(o Objective) string {
	switch {
	case !o.Measured:
		return "FAIL (not measured)"
	case o.Pass:
		return "PASS"
	}
	return "FAIL"
}

func objectiveWords(o Objective) string {
	if o.Objective == 0 {
		return "none declared"
	}
	return short(o.Objective)
}

func achievedWords(o Objective) string {
	if !o.Measured {
		return "-"
	}
	return short(o.Achieved)
}

// short renders a duration to the second, or to the millisecond when
// under a second.
func short(d time.Duration) string {
	if d < time.Second && d > -time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// WriteMarkdown writes the report for a postmortem document.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict := "PASSED"
	if !rep.Passed() {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "# Drill report: %s\n\n", rep.Runbook)
	fmt.Fprintf(&b, "- Drill: `%s` on %s, %s\n", rep.RunID, orDash(rep.Target), verdict)
	fmt.Fprintf(&b, "- Started: %s; run %s\n", rep.Started.UTC().Format(time.RFC3339), statusWord(rep.Status))
	fmt.Fprintf(&b, "- Incident time: %s (%s)\n", rep.IncidentAt.UTC().Format(time.RFC3339), rep.incidentWords())
	if len(rep.Faults) > 0 {
		fmt.Fprintf(&b, "- Faults injected: %s\n", strings.Join(rep.Faults, "; "))
	}
	if rep.Error != "" {
		fmt.Fprintf(&b, "- Error: %s\n", mdEscape(rep.Error))
	}
	b.WriteString("\n## Objectives\n\n| Objective | Target | Achieved | Result | How measured |\n|---|---|---|---|---|\n")
	for _, o := range []Objective{rep.RTO, rep.RPO} {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.ToUpper(o.Name), objectiveWords(o), achievedWords(o), passWord(o), mdEscape(o.Detail))
	}
	if len(rep.RecoveryPoints) > 0 {
		b.WriteString("\nRecovery points used:\n\n")
		for _, p := range rep.RecoveryPoints {
			fmt.Fprintf(&b, "- `%s`: %s %s (age %s)\n", p.Node, p.Source, p.At.UTC().Format(time.RFC3339), short(p.Age))
		}
	}
	if len(rep.Failed) > 0 {
		b.WriteString("\n## What failed\n\n")
		for _, f := range rep.Failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.Node, mdEscape(f.Error))
		}
	}
	b.WriteString("\n## Steps\n\n| Step | Status | Duration | Waiting for people | Critical | Drill mode |\n|---|---|---|---|---|---|\n")
	for _, st := range rep.Steps {
		crit := ""
		if st.Critical {
			crit = "yes"
		}
		var red []string
		for _, c := range st.Redirects {
			red = append(red, c.String())
		}
		status := st.Status
		if st.Error != "" {
			status += ": " + st.Error
		} else if st.Reason != "" {
			status += ": " + st.Reason
		}
		waited := ""
		if st.Waited > 0 {
			waited = short(st.Waited)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", st.Node, mdEscape(status), short(st.Duration), waited, crit, mdEscape(strings.Join(red, "; ")))
	}
	fmt.Fprintf(&b, "\nCritical path (%s): %s\n", short(rep.CriticalDuration), strings.Join(quoteAll(rep.CriticalPath), " -> "))
	fmt.Fprintf(&b, "\n## Teardown: %s\n\n", rep.Teardown.Status)
	for _, a := range rep.Teardown.Actions {
		fmt.Fprintf(&b, "- `%s`: %s\n", a.Node, mdEscape(a.Action.String()))
	}
	for _, e := range rep.Teardown.Errors {
		fmt.Fprintf(&b, "- `%s` FAILED: %s\n", e.Node, mdEscape(e.Error))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

// mdEscape keeps a table cell one cell: pipes and newlines would break
// the row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", "").Replace(s)
}

// WriteJUnit writes the report as JUnit XML: one test case per objective
// and one per step, so CI shows a drill that missed its objectives as
// failed tests.
func (rep *Report) WriteJUnit(w io.Writer) error {
	suite := output.JUnitSuite{Name: "drill " + rep.Runbook, Time: output.JUnitSeconds(rep.Finished.Sub(rep.Started))}
	for _, o := range []Objective{rep.RTO, rep.RPO} {
		c := output.JUnitCase{Name: strings.ToUpper(o.Name), Classname: "objectives", Time: output.JUnitSeconds(o.Achieved),
			SystemOut: fmt.Sprintf("objective %s, achieved %s: %s", objectiveWords(o), achievedWords(o), o.Detail)}
		if !o.Pass {
			c.Failure = &output.JUnitFailure{Message: fmt.Sprintf("%s %s", strings.ToUpper(o.Name), passWord(o)), Text: o.Detail}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, st := range rep.Steps {
		c := output.JUnitCase{Name: st.Node, Classname: "steps", Time: output.JUnitSeconds(st.Duration)}
		switch st.Status {
		case "failed", "refused":
			c.Failure = &output.JUnitFailure{Message: st.Status, Text: st.Error + st.Reason}
		case "skipped", "not run":
			c.Skipped = &output.JUnitSkipped{Message: orDash(st.Reason)}
		}
		var red []string
		for _, ch := range st.Redirects {
			red = append(red, ch.String())
		}
		c.SystemOut = strings.Join(red, "\n")
		suite.Cases = append(suite.Cases, c)
	}
	return output.NewJUnitSuites(suite).Encode(w)
}
