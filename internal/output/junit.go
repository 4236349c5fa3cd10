package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

// JUnit collects a run and writes it as JUnit XML when the run ends: one
// test case per step and gate, failed steps and refused gates as failures,
// skipped ones as skipped, logs as system-out. CI systems show that as a
// test report.
type JUnit struct {
	mu      sync.Mutex
	w       io.Writer
	suite   string
	run     runbook.RunState
	out     map[string]*strings.Builder // system-out by node
	written bool
}

// maxSystemOut bounds the log kept per test case.
const maxSystemOut = 64 << 10

// NewJUnit returns a JUnit printer. suite names the test suite (the
// runbook's path); nodes lists every step and gate address in execution
// order, so nodes that never ran still appear, as skipped.
func NewJUnit(w io.Writer, suite string, nodes []string) *JUnit {
	j := &JUnit{w: w, suite: suite, out: map[string]*strings.Builder{}}
	for _, n := range nodes {
		j.run.Node(n)
	}
	return j
}

// log adds a line to node's system-out.
func (j *JUnit) log(node, s string) {
	b := j.out[node]
	if b == nil {
		b = &strings.Builder{}
		j.out[node] = b
	}
	if b.Len() < maxSystemOut {
		b.WriteString(s)
		b.WriteByte('\n')
	}
}

// Emit implements runbook.Sink; the report is written on run_finished.
func (j *JUnit) Emit(e runbook.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.run.Apply(e)
	switch e.Kind {
	case runbook.StepPlanned:
		for _, ch := range e.Changes {
			j.log(e.Node, "plan: "+ch.String())
		}
	case runbook.StepLog:
		j.log(e.Node, e.Line)
	case runbook.StepRetried:
		if e.Call != "" {
			j.log(e.Node, fmt.Sprintf("%s failed: %s; retried", e.Call, e.Error))
			break
		}
		j.log(e.Node, fmt.Sprintf("attempt %d failed: %s", e.Attempt, e.Error))
	case runbook.StepFinished:
		if e.Reason != "" {
			j.log(e.Node, e.Reason)
		}
	case runbook.GateAsked:
		j.log(e.Node, "asked: "+e.Line)
		if e.Reason != "" {
			j.log(e.Node, e.Reason)
		}
	case runbook.GateApproved:
		j.log(e.Node, "approved by "+e.Actor)
	case runbook.RunFinished:
		return j.write()
	}
	return nil
}

// Close writes the report if the run ended before run_finished, for
// example when the run could not start.
func (j *JUnit) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.written {
		return nil
	}
	return j.write()
}

// JUnitSuites is a JUnit XML report as CI systems read it: a run's report
// and a drill's share these types.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one test suite of a JUnit report.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         string          `xml:"id,attr,omitempty"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

// JUnitProperty is a name and value recorded with a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one test case: passed, failed or skipped.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	Skipped   *JUnitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure says why a case failed.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnitSkipped says why a case did not run.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

// NewJUnitSuites makes a report of one suite, counting the suite's and
// the report's totals from its cases.
func NewJUnitSuites(s JUnitSuite) JUnitSuites {
	s.Tests, s.Failures, s.Skipped = len(s.Cases), 0, 0
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return JUnitSuites{Name: "drconsole", Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []JUnitSuite{s}}
}

// Encode writes the report, indented, with the XML header.
func (r JUnitSuites) Encode(w io.Writer) error {
	out, err := xml.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, out)
	return err
}

// JUnitSeconds renders a duration as JUnit's time attribute.
func JUnitSeconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func (j *JUnit) write() error {
	j.written = true
	run := &j.run
	s := JUnitSuite{Name: j.suite, ID: run.RunID}
	if !run.Started.IsZero() {
		s.Timestamp = run.Started.UTC().Format(time.RFC3339)
		s.Time = JUnitSeconds(run.Ended.Sub(run.Started))
	} else {
		s.Time = JUnitSeconds(0)
	}
	s.Properties = []JUnitProperty{{"run_id", run.RunID}, {"status", string(run.Status)}}
	if run.Err != "" {
		s.SystemErr = run.Err
	}
	for _, n := range run.Nodes() {
		xc := JUnitCase{Name: n.Node, Classname: j.suite + "." + caseClass(n.Node), Time: JUnitSeconds(max(caseDuration(n), 0))}
		if b := j.out[n.Node]; b != nil {
			xc.SystemOut = b.String()
		}
		switch {
		case n.Status == runbook.NodeFailed:
			xc.Failure = &JUnitFailure{Message: firstLine(n.Error), Type: "step_failed", Text: n.Error}
		case n.Status == runbook.NodeRefused:
			xc.Failure = &JUnitFailure{Message: firstLine(n.Reason), Type: "gate_refused", Text: n.Reason}
		case n.Status == runbook.NodeSkipped:
			xc.Skipped = &JUnitSkipped{Message: n.Reason}
		case !n.Status.Ended() && !(n.Status == runbook.NodePlanned && n.Reason != ""):
			// A dry-run's gate that would ask passed; any other node
			// that did not end did not run.
			xc.Skipped = &JUnitSkipped{Message: "not run"}
		}
		s.Cases = append(s.Cases, xc)
	}
	if err := NewJUnitSuites(s).Encode(j.w); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// caseClass groups steps by their type and gates together.
func caseClass(node string) string {
	a, ok := runbook.ParseAddress(node)
	switch {
	case !ok:
		return node
	case a.Kind == runbook.KindGate:
		return "gate"
	}
	return a.Type
}

// caseDuration is how long a case took: a finished step's last attempt as
// the engine timed it; else from its latest attempt's start, or from its
// first event when no attempt started (a gate, a step's confirmation), to
// its end.
func caseDuration(n *runbook.NodeState) time.Duration {
	switch {
	case n.Finished.IsZero():
		return 0
	case n.Status == runbook.NodeSucceeded && n.Duration != 0:
		return n.Duration
	case n.Attempt > 0:
		return n.Finished.Sub(n.Began)
	}
	return n.Finished.Sub(n.Seen)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
