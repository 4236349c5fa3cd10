package runbook_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

var foldT0 = time.Date(2026, 11, 22, 16, 45, 0, 0, time.UTC)

// at is the time s seconds into the run.
func at(s int) time.Time { return foldT0.Add(time.Duration(s) * time.Second) }

// foldEvent is an event of kind about node at second s, with f's fields.
func foldEvent(kind runbook.EventKind, node string, s int, f func(*runbook.Event)) runbook.Event {
	e := runbook.Event{Time: at(s), RunID: "20261122T164500Z-3f9a1c", Kind: kind, Node: node}
	if f != nil {
		f(&e)
	}
	return e
}

func TestFoldNodes(t *testing.T) {
	const step, gate = "step.exec.a", "gate.go"
	changes := []runbook.Change{{Action: "CopyObject", Target: "b/k"}}
	tests := []struct {
		name   string
		events []runbook.Event
		want   runbook.NodeState
	}{{
		name: "a step that logs, reports progress and finishes",
		events: []runbook.Event{
			foldEvent(runbook.StepStarted, step, 1, func(e *runbook.Event) { e.Attempt = 1 }),
			foldEvent(runbook.StepProgress, step, 2, func(e *runbook.Event) { e.Progress = &runbook.Progress{Done: 1, Total: 2, Unit: "objects"} }),
			foldEvent(runbook.StepLog, step, 2, func(e *runbook.Event) { e.Line = "stdout: hi" }),
			foldEvent(runbook.StepFinished, step, 3, func(e *runbook.Event) {
				e.Attempt, e.Duration, e.Outputs = 1, 1500*time.Millisecond, json.RawMessage(`{"x":1}`)
			}),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeSucceeded, Since: 4, Seen: at(1), Started: at(1), Began: at(1), Finished: at(3),
			Duration: 1500 * time.Millisecond, Attempt: 1, Outputs: json.RawMessage(`{"x":1}`),
			Progress: &runbook.Progress{Done: 1, Total: 2, Unit: "objects"}, LogCount: 1},
	}, {
		name: "retries: the last attempt's start and error",
		events: []runbook.Event{
			foldEvent(runbook.StepStarted, step, 1, func(e *runbook.Event) { e.Attempt = 1 }),
			foldEvent(runbook.StepRetried, step, 2, func(e *runbook.Event) { e.Attempt, e.Error, e.Delay = 1, "exit status 1", time.Second }),
			foldEvent(runbook.StepStarted, step, 3, func(e *runbook.Event) { e.Attempt = 2 }),
			foldEvent(runbook.StepFailed, step, 5, func(e *runbook.Event) { e.Error = "attempt 2 of 2: exit status 2" }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeFailed, Since: 4, Seen: at(1), Started: at(1), Began: at(3), Finished: at(5),
			Attempt: 2, Error: "attempt 2 of 2: exit status 2"},
	}, {
		name: "waiting to retry",
		events: []runbook.Event{
			foldEvent(runbook.StepStarted, step, 1, func(e *runbook.Event) { e.Attempt = 1 }),
			foldEvent(runbook.StepRetried, step, 2, func(e *runbook.Event) { e.Attempt, e.Error = 1, "throttled" }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeRetrying, Since: 2, Seen: at(1), Started: at(1), Began: at(1), Attempt: 1, Error: "throttled"},
	}, {
		name: "a new attempt clears the last one's error and outputs",
		events: []runbook.Event{
			foldEvent(runbook.StepFinished, step, 1, func(e *runbook.Event) { e.Outputs = json.RawMessage(`{}`) }),
			foldEvent(runbook.StepRetried, step, 2, func(e *runbook.Event) { e.Error = "boom" }),
			foldEvent(runbook.StepStarted, step, 3, func(e *runbook.Event) { e.Attempt = 1 }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeRunning, Since: 3, Seen: at(1), Started: at(3), Began: at(3), Finished: at(1), Attempt: 1},
	}, {
		name: "a confirmed step: planned, asked, approved, run",
		events: []runbook.Event{
			foldEvent(runbook.StepPlanned, step, 1, func(e *runbook.Event) { e.Changes = changes }),
			foldEvent(runbook.GateAsked, step, 2, func(e *runbook.Event) { e.Changes, e.Line = changes, "Apply?" }),
			foldEvent(runbook.GateApproved, step, 4, func(e *runbook.Event) { e.Actor = "alice" }),
			foldEvent(runbook.StepStarted, step, 5, func(e *runbook.Event) { e.Attempt = 1 }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeRunning, Since: 4, Seen: at(1), Started: at(2), Began: at(5), Finished: at(4),
			Attempt: 1, Changes: changes, Prompt: "Apply?", Actor: "alice", Approved: true, Waited: at(4).Sub(at(2))},
	}, {
		name: "a gate waits",
		events: []runbook.Event{
			foldEvent(runbook.GateAsked, gate, 2, func(e *runbook.Event) { e.Line = "Fail over?" }),
		},
		want: runbook.NodeState{Node: gate, Status: runbook.NodeWaiting, Since: 1, Seen: at(2), Started: at(2), Began: at(2), Prompt: "Fail over?"},
	}, {
		name: "a gate refused",
		events: []runbook.Event{
			foldEvent(runbook.GateAsked, gate, 2, func(e *runbook.Event) { e.Line = "Fail over?" }),
			foldEvent(runbook.GateRefused, gate, 9, func(e *runbook.Event) { e.Actor, e.Reason = "bob", "not now" }),
		},
		want: runbook.NodeState{Node: gate, Status: runbook.NodeRefused, Since: 2, Seen: at(2), Started: at(2), Began: at(2), Finished: at(9),
			Prompt: "Fail over?", Actor: "bob", Reason: "not now", Waited: at(9).Sub(at(2))},
	}, {
		name: "a refusal withdraws an earlier approval",
		events: []runbook.Event{
			foldEvent(runbook.GateApproved, gate, 1, func(e *runbook.Event) { e.Actor = "alice" }),
			foldEvent(runbook.GateRefused, gate, 2, func(e *runbook.Event) { e.Reason = "no answer within 1m0s" }),
		},
		want: runbook.NodeState{Node: gate, Status: runbook.NodeRefused, Since: 2, Seen: at(1), Finished: at(2), Reason: "no answer within 1m0s"},
	}, {
		name: "skipped",
		events: []runbook.Event{
			foldEvent(runbook.StepSkipped, step, 1, func(e *runbook.Event) { e.Reason = runbook.SkipReasonWhen }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeSkipped, Since: 1, Seen: at(1), Reason: runbook.SkipReasonWhen},
	}, {
		name: "dry-run: a confirmed step is planned and would ask",
		events: []runbook.Event{
			foldEvent(runbook.StepPlanned, step, 1, func(e *runbook.Event) { e.Changes = changes }),
			foldEvent(runbook.GateAsked, step, 1, func(e *runbook.Event) { e.Changes, e.Line, e.Reason = changes, "Apply?", runbook.WouldAsk }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodePlanned, Since: 2, Seen: at(1), Started: at(1), Changes: changes,
			Prompt: "Apply?", Reason: runbook.WouldAsk},
	}, {
		name: "planning does not undo a later state",
		events: []runbook.Event{
			foldEvent(runbook.StepStarted, step, 1, func(e *runbook.Event) { e.Attempt = 1 }),
			foldEvent(runbook.StepPlanned, step, 2, nil),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeRunning, Since: 1, Seen: at(1), Started: at(1), Began: at(1), Attempt: 1},
	}, {
		name: "resumed: finished and approved in the earlier run",
		events: []runbook.Event{
			foldEvent(runbook.GateApproved, step, 1, func(e *runbook.Event) { e.Actor, e.Reason = "alice", "approved in run r1" }),
			foldEvent(runbook.StepFinished, step, 1, func(e *runbook.Event) { e.Outputs, e.Reason = json.RawMessage(`{}`), "finished in run r1" }),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodeSucceeded, Since: 2, Seen: at(1), Began: at(1), Finished: at(1),
			Outputs: json.RawMessage(`{}`), Reason: "finished in run r1", Actor: "alice", Approved: true},
	}, {
		name: "drilled",
		events: []runbook.Event{
			foldEvent(runbook.StepDrilled, step, 1, func(e *runbook.Event) {
				e.Changes, e.Drill = changes, &runbook.DrillRecord{Type: "exec", Safe: true}
			}),
		},
		want: runbook.NodeState{Node: step, Status: runbook.NodePending, Seen: at(1), Redirects: changes, Drill: &runbook.DrillRecord{Type: "exec", Safe: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := runbook.Fold(tt.events)
			n, ok := s.Lookup(tt.want.Node)
			if !ok {
				t.Fatalf("no state for %s", tt.want.Node)
			}
			if !reflect.DeepEqual(*n, tt.want) {
				t.Errorf("state\n%+v\nwant\n%+v", *n, tt.want)
			}
			if s.Events != len(tt.events) || len(s.Nodes()) != 1 {
				t.Errorf("%d events, %d nodes", s.Events, len(s.Nodes()))
			}
		})
	}
}

func TestFoldRun(t *testing.T) {
	info := &runbook.RunInfo{RunbookPath: "runbooks/x.hcl", RunbookHash: "abc"}
	s := runbook.Fold([]runbook.Event{
		foldEvent(runbook.RunStarted, "", 0, func(e *runbook.Event) { e.Run = info }),
		foldEvent(runbook.StepFailed, "step.exec.a", 1, func(e *runbook.Event) { e.Error = "boom" }),
		foldEvent(runbook.RunFinished, "", 2, func(e *runbook.Event) {
			e.Status, e.Error, e.Duration, e.Outputs = runbook.StatusFailed, "step.exec.a failed", 2*time.Second, json.RawMessage(`{"o":1}`)
		}),
	})
	if s.Info != info || s.RunID != "20261122T164500Z-3f9a1c" || !s.Started.Equal(at(0)) || !s.Ended.Equal(at(2)) ||
		s.Status != runbook.StatusFailed || s.Err != "step.exec.a failed" || s.Duration != 2*time.Second || string(s.Outputs) != `{"o":1}` || s.Resumes != 0 {
		t.Errorf("run %+v", s)
	}

	// A resumption: the first run_started stays the run's; how it ended
	// waits for the new attempt.
	s.Apply(foldEvent(runbook.RunStarted, "", 10, func(e *runbook.Event) {
		e.Run = &runbook.RunInfo{RunbookPath: "runbooks/x.hcl", ResumedFrom: "20261122T164500Z-3f9a1c"}
	}))
	if s.Info != info || !s.Started.Equal(at(0)) || s.Status != "" || s.Err != "" || s.Outputs != nil || s.Resumes != 1 {
		t.Errorf("resumed run %+v", s)
	}
	s.Apply(foldEvent(runbook.StepStarted, "step.exec.a", 11, func(e *runbook.Event) { e.Attempt = 1 }))
	s.Apply(foldEvent(runbook.StepFinished, "step.exec.a", 12, nil))
	s.Apply(foldEvent(runbook.RunFinished, "", 13, func(e *runbook.Event) { e.Status = runbook.StatusSucceeded }))
	n, _ := s.Lookup("step.exec.a")
	if s.Status != runbook.StatusSucceeded || n.Status != runbook.NodeSucceeded || n.Error != "" || !n.Started.Equal(at(11)) {
		t.Errorf("after the resumption: run %s, node %+v", s.Status, n)
	}
}

func TestFoldTeardown(t *testing.T) {
	s := runbook.Fold([]runbook.Event{
		foldEvent(runbook.RunFinished, "", 0, func(e *runbook.Event) { e.Status = runbook.StatusSucceeded }),
		foldEvent(runbook.TeardownStarted, "", 1, nil),
		foldEvent(runbook.TeardownAction, "step.asg_scale.s", 2, func(e *runbook.Event) {
			e.Changes = []runbook.Change{{Action: "SetDesiredCapacity", Target: "g", Detail: "4 -> 0"}, {Action: "DeleteTags", Target: "g"}}
		}),
		foldEvent(runbook.StepLog, "step.s3_restore.m", 2, func(e *runbook.Event) { e.Line = "deleting drill copies" }),
		foldEvent(runbook.TeardownFailed, "step.s3_restore.m", 3, func(e *runbook.Event) { e.Error = "access denied" }),
		foldEvent(runbook.TeardownFinished, "", 4, func(e *runbook.Event) { e.Status, e.Error = runbook.StatusFailed, "1 step" }),
	})
	want := runbook.TeardownState{Status: runbook.StatusFailed, Err: "1 step", Steps: []runbook.TeardownStep{
		{Node: "step.asg_scale.s", Action: runbook.Change{Action: "SetDesiredCapacity", Target: "g", Detail: "4 -> 0"}},
		{Node: "step.asg_scale.s", Action: runbook.Change{Action: "DeleteTags", Target: "g"}},
		{Node: "step.s3_restore.m", Failed: true, Error: "access denied"},
	}}
	if !reflect.DeepEqual(s.Teardown, want) {
		t.Errorf("teardown %+v\nwant %+v", s.Teardown, want)
	}
	if s.Status != runbook.StatusSucceeded {
		t.Errorf("teardown changed the run's status to %q", s.Status)
	}
	// Teardown events are the run's; the log line is its step's.
	if got := addrs(s); !slices.Equal(got, []string{"step.s3_restore.m"}) {
		t.Errorf("nodes %v", got)
	}

	// A teardown run again starts over.
	s.Apply(foldEvent(runbook.TeardownStarted, "", 5, nil))
	if s.Teardown.Status != "" || s.Teardown.Err != "" || len(s.Teardown.Steps) != 3 {
		t.Errorf("teardown run again %+v", s.Teardown)
	}
	s.Apply(foldEvent(runbook.TeardownFinished, "", 6, func(e *runbook.Event) { e.Status = runbook.StatusSucceeded }))
	if s.Teardown.Status != runbook.StatusSucceeded {
		t.Errorf("teardown %+v", s.Teardown)
	}
}

func addrs(s *runbook.RunState) []string {
	var out []string
	for _, n := range s.Nodes() {
		out = append(out, n.Node)
	}
	return out
}

// Nodes added first keep their order; the rest follow as events name
// them. Since orders nodes by when they reached their status.
func TestFoldOrderAndCount(t *testing.T) {
	var s runbook.RunState
	s.Node("step.exec.b")
	s.Node("gate.g")
	for _, e := range []runbook.Event{
		foldEvent(runbook.StepFailed, "step.exec.c", 1, func(e *runbook.Event) { e.Error = "x" }),
		foldEvent(runbook.StepFailed, "step.exec.b", 2, func(e *runbook.Event) { e.Error = "y" }),
		foldEvent(runbook.StepSkipped, "step.exec.d", 3, nil),
		foldEvent(runbook.StepStarted, "", 4, nil), // names no node
	} {
		s.Apply(e)
	}
	if got := addrs(&s); !slices.Equal(got, []string{"step.exec.b", "gate.g", "step.exec.c", "step.exec.d"}) {
		t.Errorf("order %v", got)
	}
	if s.Count(runbook.NodeFailed) != 2 || s.Count(runbook.NodeSkipped) != 1 || s.Count(runbook.NodePending) != 1 || s.Events != 4 {
		t.Errorf("counts: %d failed, %d skipped, %d pending, %d events",
			s.Count(runbook.NodeFailed), s.Count(runbook.NodeSkipped), s.Count(runbook.NodePending), s.Events)
	}
	b, _ := s.Lookup("step.exec.b")
	c, _ := s.Lookup("step.exec.c")
	if c.Since >= b.Since {
		t.Errorf("c failed first, yet Since %d >= %d", c.Since, b.Since)
	}
	if n := s.Node("step.exec.b"); n != b {
		t.Error("Node added a second state for a known address")
	}
}

// Logs keep the newest lines only when asked, and count them all.
func TestFoldKeepLogs(t *testing.T) {
	for _, keep := range []int{0, 2, 5} {
		s := runbook.RunState{KeepLogs: keep}
		for i, line := range []string{"a", "b", "c"} {
			s.Apply(foldEvent(runbook.StepLog, "step.exec.a", i, func(e *runbook.Event) { e.Line = line }))
		}
		n, _ := s.Lookup("step.exec.a")
		var got []string
		for _, l := range n.Logs {
			got = append(got, l.Line)
		}
		want := map[int][]string{0: nil, 2: {"b", "c"}, 5: {"a", "b", "c"}}[keep]
		if !slices.Equal(got, want) || n.LogCount != 3 || len(n.Logs) > 0 && !n.Logs[len(n.Logs)-1].Time.Equal(at(2)) {
			t.Errorf("keep %d: logs %v, count %d", keep, got, n.LogCount)
		}
	}
}

func TestNodeStatusEnded(t *testing.T) {
	for st, want := range map[runbook.NodeStatus]bool{
		runbook.NodePending: false, runbook.NodePlanned: false, runbook.NodeWaiting: false, runbook.NodeRunning: false, runbook.NodeRetrying: false,
		runbook.NodeApproved: true, runbook.NodeRefused: true, runbook.NodeSucceeded: true, runbook.NodeFailed: true, runbook.NodeSkipped: true,
	} {
		if st.Ended() != want {
			t.Errorf("%s.Ended() = %v", st, !want)
		}
	}
}

// nodeStatuses is the one set of node statuses.
func nodeStatuses() []runbook.NodeStatus {
	return []runbook.NodeStatus{runbook.NodePending, runbook.NodePlanned, runbook.NodeWaiting, runbook.NodeApproved, runbook.NodeRefused,
		runbook.NodeRunning, runbook.NodeRetrying, runbook.NodeSucceeded, runbook.NodeFailed, runbook.NodeSkipped}
}

// FuzzFold applies any sequence of events: it never panics, every node
// has a status of the one set, and the counts add up.
func FuzzFold(f *testing.F) {
	f.Add([]byte{0, 2, 3, 4, 5, 6, 7, 12})
	f.Add([]byte{0, 1, 10, 11, 16, 0, 2, 8, 17, 18, 19, 20})
	f.Add([]byte{0xff, 0x7f, 0x3c, 0x10, 0x01})
	kinds := []runbook.EventKind{
		runbook.RunStarted, runbook.StepPlanned, runbook.StepStarted, runbook.StepProgress, runbook.StepLog, runbook.StepRetried,
		runbook.StepFinished, runbook.StepFailed, runbook.StepSkipped, runbook.GateAsked, runbook.GateApproved, runbook.GateRefused,
		runbook.RunFinished, runbook.StepDrilled, runbook.TeardownStarted, runbook.TeardownAction, runbook.TeardownFailed,
		runbook.TeardownFinished, "unknown_kind",
	}
	nodes := []string{"", "step.exec.a", "gate.g", "step.wait.b", "not an address"}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := runbook.RunState{KeepLogs: int(len(data) % 3)}
		for i, b := range data {
			e := runbook.Event{
				Time: at(int(b) % 7), Kind: kinds[int(b)%len(kinds)], Node: nodes[(int(b)/len(kinds)+i)%len(nodes)], Attempt: int(b % 4),
				Error: string(rune('a' + b%3)), Reason: []string{"", runbook.WouldAsk, "r"}[b%3], Duration: time.Duration(b%5) * time.Second,
				Changes: []runbook.Change{{Action: "x"}}[:b%2],
			}
			if b%5 == 0 {
				e.Run = &runbook.RunInfo{DryRun: b%2 == 0}
			}
			s.Apply(e)
		}
		if s.Events != len(data) {
			t.Fatalf("%d events counted of %d", s.Events, len(data))
		}
		total := 0
		for _, st := range nodeStatuses() {
			total += s.Count(st)
		}
		if total != len(s.Nodes()) {
			for _, n := range s.Nodes() {
				if !slices.Contains(nodeStatuses(), n.Status) {
					t.Fatalf("%s has status %q, not one of the set", n.Node, n.Status)
				}
			}
			t.Fatalf("statuses count %d of %d nodes", total, len(s.Nodes()))
		}
		for _, n := range s.Nodes() {
			if n.Node == "" || n.LogCount < len(n.Logs) || len(n.Logs) > s.KeepLogs {
				t.Fatalf("node %+v", n)
			}
			if got, ok := s.Lookup(n.Node); !ok || got != n {
				t.Fatalf("lookup of %s", n.Node)
			}
		}
	})
}

// BenchmarkFoldProgress applies 100,000 progress events, what the console
// takes in during a long restore.
func BenchmarkFoldProgress(b *testing.B) {
	const n = 100000
	nodes := []string{"step.s3_restore.models", "step.s3_restore.datasets", "step.ebs_snapshot.volumes", "step.backup_restore.efs"}
	events := make([]runbook.Event, n)
	for i := range events {
		events[i] = runbook.Event{Time: foldT0.Add(time.Duration(i) * time.Millisecond), Kind: runbook.StepProgress, Node: nodes[i%len(nodes)],
			Attempt: 1, Progress: &runbook.Progress{Done: int64(i), Total: n, Unit: "objects"}}
	}
	b.ReportAllocs()
	for b.Loop() {
		s := runbook.RunState{KeepLogs: 500}
		for _, e := range events {
			s.Apply(e)
		}
		if s.Events != n {
			b.Fatal(s.Events)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
