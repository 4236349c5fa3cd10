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
	order   []string
	cases   map[string]*junitCase
	start   time.Time
	end     time.Time
	runID   string
	status  runbook.RunStatus
	runErr  string
	written bool
}

// maxSystemOut bounds the log kept per test case.
const maxSystemOut = 64 << 10

type junitCase struct {
	start    time.Time
	duration time.Duration
	failure  string
	failKind string
	skipped  string
	done     bool
	out      strings.Builder
}

// NewJUnit returns a JUnit printer. suite names the test suite (the
// runbook's path); nodes lists every step and gate address in execution
// order, so nodes that never ran still appear, as skipped.
func NewJUnit(w io.Writer, suite string, nodes []string) *JUnit {
	j := &JUnit{w: w, suite: suite, cases: map[string]*junitCase{}}
	for _, n := range nodes {
		j.node(n)
	}
	return j
}

func (j *JUnit) node(addr string) *junitCase {
	c, ok := j.cases[addr]
	if !ok {
		c = &junitCase{}
		j.cases[addr] = c
		j.order = append(j.order, addr)
	}
	return c
}

func (c *junitCase) log(s string) {
	if c.out.Len() < maxSystemOut {
		c.out.WriteString(s)
		c.out.WriteByte('\n')
	}
}

// Emit implements runbook.Sink; the report is written on run_finished.
func (j *JUnit) Emit(e runbook.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var c *junitCase
	if e.Node != "" {
		c = j.node(e.Node)
		if c.start.IsZero() {
			c.start = e.Time
		}
	}
	switch e.Kind {
	case runbook.RunStarted:
		if j.start.IsZero() {
			j.start = e.Time
		}
		j.runID = e.RunID
	case runbook.StepPlanned:
		for _, ch := range e.Changes {
			c.log("plan: " + ch.String())
		}
	case runbook.StepStarted:
		c.start = e.Time
	case runbook.StepLog:
		c.log(e.Line)
	case runbook.StepRetried:
		c.log(fmt.Sprintf("attempt %d failed: %s", e.Attempt, e.Error))
	case runbook.StepFinished:
		c.done, c.failure, c.skipped = true, "", ""
		c.duration = e.Duration
		if c.duration == 0 && !c.start.IsZero() {
			c.duration = e.Time.Sub(c.start)
		}
		if e.Reason != "" {
			c.log(e.Reason)
		}
	case runbook.StepFailed:
		c.done, c.failure, c.failKind = true, e.Error, "step_failed"
		if !c.start.IsZero() {
			c.duration = e.Time.Sub(c.start)
		}
	case runbook.StepSkipped:
		c.done, c.skipped = true, e.Reason
	case runbook.GateAsked:
		c.log("asked: " + e.Line)
		if e.Reason != "" {
			c.done = true
			c.log(e.Reason)
		}
	case runbook.GateApproved:
		c.done, c.failure = true, ""
		c.duration = e.Time.Sub(c.start)
		c.log("approved by " + e.Actor)
	case runbook.GateRefused:
		c.done, c.failure, c.failKind = true, e.Reason, "gate_refused"
		c.duration = e.Time.Sub(c.start)
	case runbook.RunFinished:
		j.end, j.status, j.runErr = e.Time, e.Status, e.Error
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
	s := JUnitSuite{Name: j.suite, ID: j.runID}
	if !j.start.IsZero() {
		s.Timestamp = j.start.UTC().Format(time.RFC3339)
		s.Time = JUnitSeconds(j.end.Sub(j.start))
	} else {
		s.Time = JUnitSeconds(0)
	}
	s.Properties = []JUnitProperty{{"run_id", j.runID}, {"status", string(j.status)}}
	if j.runErr != "" {
		s.SystemErr = j.runErr
	}
	for _, addr := range j.order {
		c := j.cases[addr]
		kind, _, _ := strings.Cut(addr, ".")
		class := j.suite + "." + kind
		if kind == "step" {
			if parts := strings.SplitN(addr, ".", 3); len(parts) == 3 {
				class = j.suite + "." + parts[1]
			}
		}
		xc := JUnitCase{Name: addr, Classname: class, Time: JUnitSeconds(max(c.duration, 0)), SystemOut: c.out.String()}
		switch {
		case c.failure != "":
			xc.Failure = &JUnitFailure{Message: firstLine(c.failure), Type: c.failKind, Text: c.failure}
		case c.skipped != "":
			xc.Skipped = &JUnitSkipped{Message: c.skipped}
		case !c.done:
			xc.Skipped = &JUnitSkipped{Message: "not run"}
		}
		s.Cases = append(s.Cases, xc)
	}
	if err := NewJUnitSuites(s).Encode(j.w); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
