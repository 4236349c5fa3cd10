package drill

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

func TestCriticalPath(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name    string
		nodes   []PathNode
		want    []string
		total   time.Duration
		wantErr string
	}{
		{name: "empty"},
		{name: "one node", nodes: []PathNode{{Addr: "a", Duration: 3 * s}}, want: []string{"a"}, total: 3 * s},
		{name: "chain", nodes: []PathNode{
			{Addr: "a", Duration: 1 * s}, {Addr: "b", Duration: 2 * s, Deps: []string{"a"}}, {Addr: "c", Duration: 3 * s, Deps: []string{"b"}},
		}, want: []string{"a", "b", "c"}, total: 6 * s},
		{name: "parallel branches: the longer one", nodes: []PathNode{
			{Addr: "snap", Duration: 2 * s},
			{Addr: "restore", Duration: 5 * s, Deps: []string{"snap"}},
			{Addr: "backup", Duration: 6 * s},
			{Addr: "gate", Duration: 0, Deps: []string{"restore", "backup"}},
			{Addr: "scale", Duration: 4 * s, Deps: []string{"gate"}},
		}, want: []string{"snap", "restore", "gate", "scale"}, total: 11 * s},
		{name: "parallel branches: a single long step wins", nodes: []PathNode{
			{Addr: "snap", Duration: 2 * s},
			{Addr: "restore", Duration: 3 * s, Deps: []string{"snap"}},
			{Addr: "backup", Duration: 9 * s},
			{Addr: "gate", Duration: 1 * s, Deps: []string{"restore", "backup"}},
		}, want: []string{"backup", "gate"}, total: 10 * s},
		{name: "independent sinks: the longest chain overall", nodes: []PathNode{
			{Addr: "a", Duration: 1 * s}, {Addr: "b", Duration: 1 * s, Deps: []string{"a"}},
			{Addr: "x", Duration: 5 * s},
		}, want: []string{"x"}, total: 5 * s},
		{name: "diamond", nodes: []PathNode{
			{Addr: "top", Duration: 1 * s},
			{Addr: "left", Duration: 2 * s, Deps: []string{"top"}},
			{Addr: "right", Duration: 3 * s, Deps: []string{"top"}},
			{Addr: "bottom", Duration: 1 * s, Deps: []string{"left", "right"}},
		}, want: []string{"top", "right", "bottom"}, total: 5 * s},
		{name: "tie: the branch listed first", nodes: []PathNode{
			{Addr: "a", Duration: 2 * s}, {Addr: "b", Duration: 2 * s}, {Addr: "c", Duration: 1 * s, Deps: []string{"b", "a"}},
		}, want: []string{"a", "c"}, total: 3 * s},
		{name: "nodes listed before their dependencies", nodes: []PathNode{
			{Addr: "c", Duration: 1 * s, Deps: []string{"b"}}, {Addr: "b", Duration: 1 * s, Deps: []string{"a"}}, {Addr: "a", Duration: 1 * s},
		}, want: []string{"a", "b", "c"}, total: 3 * s},
		{name: "unknown dependencies are ignored", nodes: []PathNode{
			{Addr: "a", Duration: 1 * s, Deps: []string{"gone"}},
		}, want: []string{"a"}, total: 1 * s},
		{name: "negative durations count as zero", nodes: []PathNode{
			{Addr: "a", Duration: -5 * s}, {Addr: "b", Duration: 1 * s, Deps: []string{"a"}},
		}, want: []string{"a", "b"}, total: 1 * s},
		{name: "cycle", nodes: []PathNode{
			{Addr: "a", Deps: []string{"b"}}, {Addr: "b", Deps: []string{"a"}},
		}, wantErr: "cycle"},
		{name: "duplicate", nodes: []PathNode{{Addr: "a"}, {Addr: "a"}}, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := CriticalPath(tt.nodes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || total != tt.total {
				t.Errorf("path %v (%v), want %v (%v)", got, total, tt.want, tt.total)
			}
		})
	}
}

// FuzzCriticalPath checks, on any DAG, that the path follows dependency
// edges and that no chain is longer.
func FuzzCriticalPath(f *testing.F) {
	f.Add([]byte{3, 1, 4, 1, 5, 9, 2, 6})
	f.Add([]byte{0, 0, 0, 255, 255, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := min(len(data)/2, 12)
		nodes := make([]PathNode, n)
		for i := range n {
			nodes[i] = PathNode{Addr: string(rune('a' + i)), Duration: time.Duration(data[2*i]) * time.Millisecond}
			// Edges only to earlier nodes: a DAG.
			for j := range i {
				if data[2*i+1]>>(j%8)&1 == 1 {
					nodes[i].Deps = append(nodes[i].Deps, nodes[j].Addr)
				}
			}
		}
		path, total, err := CriticalPath(nodes)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		idx := map[string]int{}
		for i, nd := range nodes {
			idx[nd.Addr] = i
		}
		var sum time.Duration
		for k, a := range path {
			sum += nodes[idx[a]].Duration
			if k > 0 && !slices.Contains(nodes[idx[a]].Deps, path[k-1]) {
				t.Fatalf("%s does not depend on %s", a, path[k-1])
			}
		}
		if sum != total {
			t.Fatalf("total %v, path sums to %v", total, sum)
		}
		// Brute force: the longest chain ending at each node.
		best := make([]time.Duration, n)
		for i := range n {
			var longest time.Duration
			for _, d := range nodes[i].Deps {
				longest = max(longest, best[idx[d]])
			}
			best[i] = longest + nodes[i].Duration
			if best[i] > total {
				t.Fatalf("chain to %s is %v, longer than the critical path's %v", nodes[i].Addr, best[i], total)
			}
		}
	})
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		after   time.Duration
		step    string
		kind    string
		region  string
		wantErr string
	}{
		{in: "throttle:0.1,service=s3", kind: "throttle"},
		{in: "outage:us-west-2,at_step=step.asg_scale.serving", kind: "outage", region: "us-west-2", step: "step.asg_scale.serving"},
		{in: "latency:200ms,after=30s", kind: "latency", after: 30 * time.Second},
		{in: "throttle,per_second=500,service=s3,after=10s", kind: "throttle", after: 10 * time.Second},
		{in: "outage:us-east-1,after=-1s", wantErr: "after wants a duration"},
		{in: "outage:us-east-1,at_step=asg", wantErr: "step address"},
		{in: "outage:us-east-1,after=1s,at_step=step.a.b", wantErr: "not both"},
		{in: "meteor:1", wantErr: "unknown fault kind"},
		{in: "throttle:2", wantErr: "outside [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFault(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Kind) != tt.kind || f.After != tt.after || f.AtStep != tt.step || f.Region != tt.region || f.Spec != tt.in {
				t.Errorf("got %+v", f)
			}
		})
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"throttle:0.1", "outage:us-west-2,at_step=step.a.b", "latency:1s,after=2s", ",,=", "x:y,after="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFault(s)
		if err == nil && (fl.After < 0 || fl.After > 0 && fl.AtStep != "") {
			t.Fatalf("accepted %q as %+v", s, fl)
		}
	})
}

// A report built from a hand-written event stream: a failed drill with a
// declared incident time.
func TestReportFromEvents(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	cfg, _ := json.Marshal(map[string]any{"to_time": "2026-03-01T11:00:00Z"})
	events := []runbook.Event{
		{Kind: runbook.RunStarted, Time: at(0), RunID: "r", Run: &runbook.RunInfo{RunbookPath: "g.hcl",
			Drill: &runbook.DrillInfo{IncidentAt: "2026-03-01T11:50:00Z", Faults: []string{"outage:us-west-2"}}}},
		{Kind: runbook.StepDrilled, Time: at(0), Node: "step.s3_restore.m", Drill: &runbook.DrillRecord{Type: "s3_restore", Config: cfg},
			Changes: []runbook.Change{{Action: "redirect", Target: "b/drills/r/m/"}}},
		{Kind: runbook.StepStarted, Time: at(1), Node: "step.s3_restore.m", Attempt: 1},
		{Kind: runbook.StepFinished, Time: at(61), Node: "step.s3_restore.m", Outputs: json.RawMessage(`{"copied":3}`)},
		{Kind: runbook.StepStarted, Time: at(62), Node: "step.asg_scale.s", Attempt: 1},
		{Kind: runbook.StepFailed, Time: at(70), Node: "step.asg_scale.s", Error: "ServiceUnavailable"},
		{Kind: runbook.RunFinished, Time: at(71), Status: runbook.StatusFailed, Error: "step.asg_scale.s failed"},
		{Kind: runbook.TeardownStarted, Time: at(72)},
	}
	rep := NewReport(events, nil, "sandbox")
	if !rep.IncidentDeclared || !rep.IncidentAt.Equal(time.Date(2026, 3, 1, 11, 50, 0, 0, time.UTC)) {
		t.Errorf("incident %v declared %v", rep.IncidentAt, rep.IncidentDeclared)
	}
	if rep.RTO.Measured || rep.RTO.Pass || !strings.Contains(rep.RTO.Detail, "did not complete") {
		t.Errorf("RTO of a failed drill %+v", rep.RTO)
	}
	if !rep.RPO.Measured || rep.RPO.Achieved != 50*time.Minute || !rep.RPO.Pass {
		t.Errorf("RPO %+v", rep.RPO)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Node != "step.asg_scale.s" {
		t.Errorf("failed %+v", rep.Failed)
	}
	if rep.Steps[0].Duration != time.Minute {
		t.Errorf("restore took %v", rep.Steps[0].Duration)
	}

	var x bytes.Buffer
	if err := rep.WriteJUnit(&x); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x.Bytes(), &suites); err != nil {
		t.Fatalf("junit: %v\n%s", err, x.String())
	}
	s := suites.Suites[0]
	// RTO, RPO and two steps; the RTO and the failed step fail.
	if s.Tests != 4 || s.Failures != 2 || s.Cases[0].Name != "RTO" || s.Cases[0].Failure == nil || s.Cases[1].Failure != nil {
		t.Errorf("junit suite %+v", s)
	}
	var j bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back.RPO != rep.RPO || len(back.Steps) != 2 {
		t.Errorf("json round trip: %v %+v", err, back.RPO)
	}
	var md bytes.Buffer
	_ = rep.WriteMarkdown(&md)
	for _, want := range []string{"FAILED", "outage:us-west-2", "`step.asg_scale.s`: ServiceUnavailable", "| RPO | none declared | 50m0s | PASS"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// The recovery points the RPO is measured from, per step type.
func TestRecoveryPointsPerStepType(t *testing.T) {
	incident := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := func(m map[string]any) json.RawMessage { b, _ := json.Marshal(m); return b }
	steps := []*StepTiming{
		{Node: "step.s3_restore.a", Status: "finished", record: &runbook.DrillRecord{Type: "s3_restore", Config: cfg(map[string]any{"to_time": "2026-03-01T11:00:00Z"})}},
		{Node: "step.backup_restore.snap", Status: "finished", record: &runbook.DrillRecord{Type: "backup_restore", Config: cfg(map[string]any{"to_time": "2026-03-01T11:30:00Z"})},
			outputs: cfg(map[string]any{"continuous": false, "recovery_point_created": "2026-03-01T05:00:00Z"})},
		{Node: "step.backup_restore.cont", Status: "finished", record: &runbook.DrillRecord{Type: "backup_restore", Config: cfg(map[string]any{"to_time": "2026-03-01T11:45:00Z"})},
			outputs: cfg(map[string]any{"continuous": true, "recovery_point_created": "2026-02-01T00:00:00Z"})},
		{Node: "step.replication_check.lag", Status: "finished", Started: incident.Add(time.Minute), record: &runbook.DrillRecord{Type: "replication_check"},
			outputs: cfg(map[string]any{"lag_seconds": 300})},
		{Node: "step.s3_restore.failed", Status: "failed", record: &runbook.DrillRecord{Type: "s3_restore", Config: cfg(map[string]any{"to_time": "2026-01-01T00:00:00Z"})}},
		{Node: "step.wait.w", Status: "finished", record: &runbook.DrillRecord{Type: "wait"}},
	}
	got := recoveryPoints(steps, incident)
	want := map[string]time.Duration{
		"step.s3_restore.a":          time.Hour,
		"step.backup_restore.snap":   7 * time.Hour,
		"step.backup_restore.cont":   15 * time.Minute,
		"step.replication_check.lag": 4 * time.Minute,
	}
	if len(got) != len(want) {
		t.Fatalf("points %+v", got)
	}
	for _, p := range got {
		if want[p.Node] != p.Age {
			t.Errorf("%s: age %v (%s), want %v", p.Node, p.Age, p.Source, want[p.Node])
		}
	}
}

func TestReportFormat(t *testing.T) {
	for _, tt := range []struct{ path, format, want string }{
		{"r.md", "", "markdown"}, {"R.JSON", "", "json"}, {"r.xml", "", "junit"}, {"r.txt", "junit", "junit"},
		{"r.txt", "", ""}, {"r.md", "pdf", ""},
	} {
		got, err := ReportFormat(tt.path, tt.format)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%s %q: %q %v", tt.path, tt.format, got, err)
		}
	}
}

// A runbook's fault blocks become the sandbox faults they describe, rate
// limits and counted faults included.
func TestFromRunbook(t *testing.T) {
	rb, diags := runbook.Parse(map[string][]byte{"drill.hcl": []byte(`
runbook {
  drill {
    fault {
      kind       = "throttle"
      service    = "s3"
      per_second = 500
    }
    fault {
      kind   = "drop"
      writes = true
      every  = 10
      after  = "30s"
    }
  }
}
`)}, runbook.Registry{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fs, err := FromRunbook(rb)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Kind != sandbox.FaultThrottle || fs[0].PerSecond != 500 || fs[0].Service != "s3" ||
		fs[1].Kind != sandbox.FaultDrop || fs[1].Every != 10 || !fs[1].Writes || fs[1].After != 30*time.Second {
		t.Fatalf("faults %+v", fs)
	}
}

// Time waiting for people is part of a step's duration, said apart, the
// same in the report's steps and its RTO.
func TestReportSaysTheTimeWaitingForPeople(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	events := []runbook.Event{
		{Kind: runbook.RunStarted, Time: at(0), RunID: "r", Run: &runbook.RunInfo{RunbookPath: "g.hcl", Drill: &runbook.DrillInfo{}}},
		{Kind: runbook.GateAsked, Time: at(10), Node: "step.asg_scale.s", Line: "Scale?"},
		{Kind: runbook.GateApproved, Time: at(70), Node: "step.asg_scale.s", Actor: "alice"},
		{Kind: runbook.StepStarted, Time: at(70), Node: "step.asg_scale.s", Attempt: 1},
		{Kind: runbook.StepFinished, Time: at(100), Node: "step.asg_scale.s", Attempt: 1, Duration: 30 * time.Second},
		{Kind: runbook.RunFinished, Time: at(101), Status: runbook.StatusSucceeded},
	}
	rep := NewReport(events, nil, "sandbox")
	var st *StepTiming
	for i := range rep.Steps {
		if rep.Steps[i].Node == "step.asg_scale.s" {
			st = rep.Steps[i]
		}
	}
	if st == nil || st.Duration != 90*time.Second || st.Waited != time.Minute {
		t.Fatalf("step timing %+v: want 1m30s, 1m0s of it waiting", st)
	}
	if !strings.Contains(rep.RTO.Detail, "1m0s of it waiting for people at gates") {
		t.Errorf("RTO detail %q", rep.RTO.Detail)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| Waiting for people |") || !strings.Contains(md.String(), "| 1m30s | 1m0s |") {
		t.Errorf("markdown:\n%s", md.String())
	}
}
