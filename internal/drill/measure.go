// Package drill runs game-day drills: a runbook rehearsed with every step
// that could hurt production redirected (the step types' drill modes), the
// faults a team asked for injected into the sandbox, a teardown that undoes
// what the drill created, and a report measuring the recovery time and
// recovery point achieved against the runbook's objectives.
package drill

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
)

// PathNode is one node of the graph the critical path runs through.
type PathNode struct {
	Addr     string
	Duration time.Duration
	Deps     []string // addresses this node waits for
}

// CriticalPath returns the longest chain of nodes along dependency edges,
// weighing each node by its duration, and that chain's total: the chain
// that bounded how fast the run could end. Ties go to the node listed
// first. Dependencies on nodes not listed are ignored; a cycle is an error.
func CriticalPath(nodes []PathNode) ([]string, time.Duration, error) {
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := index[n.Addr]; dup {
			return nil, 0, fmt.Errorf("critical path: node %s listed twice", n.Addr)
		}
		index[n.Addr] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(nodes))
	best := make([]time.Duration, len(nodes)) // longest chain ending at i, i included
	prev := make([]int, len(nodes))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("critical path: cycle through %s", nodes[i].Addr)
		}
		state[i] = visiting
		prev[i] = -1
		var longest time.Duration
		for _, d := range nodes[i].Deps {
			j, ok := index[d]
			if !ok {
				continue
			}
			if err := visit(j); err != nil {
				return err
			}
			if prev[i] == -1 || best[j] > longest || best[j] == longest && j < prev[i] {
				longest, prev[i] = best[j], j
			}
		}
		best[i] = longest + max(nodes[i].Duration, 0)
		state[i] = done
		return nil
	}
	end := -1
	for i := range nodes {
		if err := visit(i); err != nil {
			return nil, 0, err
		}
		if end == -1 || best[i] > best[end] {
			end = i
		}
	}
	if end == -1 {
		return nil, 0, nil
	}
	var path []string
	for i := end; i != -1; i = prev[i] {
		path = append(path, nodes[i].Addr)
	}
	slices.Reverse(path)
	return path, best[end], nil
}

// waited is the drill's time waiting for people: its questions' waits.
func (rep *Report) waited() time.Duration {
	var w time.Duration
	for _, st := range rep.Steps {
		w += st.Waited
	}
	return w
}

// StepTiming is how one node of a drill went.
type StepTiming struct {
	Node     string        `json:"node"`
	Status   string        `json:"status"` // finished, failed, skipped, approved, refused, not run
	Started  time.Time     `json:"started,omitzero"`
	Finished time.Time     `json:"finished,omitzero"`
	Duration time.Duration `json:"duration_ns"`
	// Waited is the part of Duration its questions waited for a person.
	Waited    time.Duration    `json:"waited_ns,omitempty"`
	Attempts  int              `json:"attempts,omitempty"`
	Error     string           `json:"error,omitempty"`
	Reason    string           `json:"reason,omitempty"`
	Redirects []runbook.Change `json:"redirects,omitempty"`
	Critical  bool             `json:"critical,omitempty"`
	Deps      []string         `json:"deps,omitempty"`
	outputs   json.RawMessage  // step_finished outputs
	record    *runbook.DrillRecord
}

// Objective is one recovery objective and what the drill achieved.
type Objective struct {
	Name      string        `json:"name"` // "rto" or "rpo"
	Objective time.Duration `json:"objective_ns,omitempty"`
	Achieved  time.Duration `json:"achieved_ns"`
	// Measured is false when the drill could not measure it (recovery did
	// not complete; no step said what state it restored).
	Measured bool   `json:"measured"`
	Pass     bool   `json:"pass"`
	Detail   string `json:"detail"`
}

// RecoveryPoint is one restored state the RPO is measured from.
type RecoveryPoint struct {
	Node   string        `json:"node"`
	Source string        `json:"source"` // "to_time", "recovery_point_created", "replication lag"
	At     time.Time     `json:"at"`
	Age    time.Duration `json:"age_ns"` // incident time minus At
}

// measure fills the report's timings, critical path and objectives from
// the drill's events.
func (rep *Report) measure(events []runbook.Event, nodes []PathNode, obj *runbook.Objectives) {
	run := runbook.Fold(events)
	byNode := map[string]*StepTiming{}
	add := func(addr string, deps []string) {
		st := &StepTiming{Node: addr, Status: "not run", Deps: deps}
		if n, ok := run.Lookup(addr); ok {
			st.timed(n)
		}
		byNode[addr] = st
		rep.Steps = append(rep.Steps, st)
	}
	for _, n := range nodes {
		add(n.Addr, n.Deps)
	}
	var failed []*runbook.NodeState
	var lastEnd time.Time
	for _, n := range run.Nodes() {
		if byNode[n.Node] == nil {
			add(n.Node, nil)
		}
		switch n.Status {
		case runbook.NodeFailed:
			failed = append(failed, n)
		case runbook.NodeSucceeded:
			if n.Finished.After(lastEnd) {
				lastEnd = n.Finished
			}
		}
	}
	// Failures are listed in the order they happened.
	slices.SortStableFunc(failed, func(a, b *runbook.NodeState) int { return cmp.Compare(a.Since, b.Since) })
	for _, n := range failed {
		rep.Failed = append(rep.Failed, StepFailure{Node: n.Node, Error: n.Error})
	}
	rep.Started, rep.Finished, rep.Status, rep.Error = run.Started, run.Ended, run.Status, run.Err
	if rep.IncidentAt.IsZero() {
		rep.IncidentAt = rep.Started
	}

	pn := make([]PathNode, 0, len(rep.Steps))
	for _, st := range rep.Steps {
		pn = append(pn, PathNode{Addr: st.Node, Duration: st.Duration, Deps: st.Deps})
	}
	if path, total, err := CriticalPath(pn); err == nil {
		rep.CriticalPath, rep.CriticalDuration = path, total
		for _, a := range path {
			byNode[a].Critical = true
		}
	}

	rto := Objective{Name: "rto"}
	if obj != nil {
		rto.Objective = obj.RTO
	}
	switch {
	case rep.Status != runbook.StatusSucceeded:
		rto.Detail = fmt.Sprintf("recovery did not complete: the drill %s", statusWord(rep.Status))
	case lastEnd.IsZero():
		rto.Detail = "no step finished"
	default:
		rto.Measured = true
		rto.Achieved = lastEnd.Sub(rep.IncidentAt)
		rto.Detail = fmt.Sprintf("from %s to the last recovery step's end", rep.incidentWords())
		if w := rep.waited(); w > 0 {
			rto.Detail += fmt.Sprintf(", %s of it waiting for people at gates", short(w))
		}
	}
	rto.Pass = rto.Measured && (rto.Objective == 0 || rto.Achieved <= rto.Objective)
	rep.RTO = rto

	rep.RecoveryPoints = recoveryPoints(rep.Steps, rep.IncidentAt)
	rpo := Objective{Name: "rpo"}
	if obj != nil {
		rpo.Objective = obj.RPO
	}
	if len(rep.RecoveryPoints) == 0 {
		rpo.Detail = "no step restored a known point in time"
	} else {
		rpo.Measured = true
		worst := rep.RecoveryPoints[0]
		for _, p := range rep.RecoveryPoints[1:] {
			if p.Age > worst.Age {
				worst = p
			}
		}
		rpo.Achieved = max(worst.Age, 0)
		rpo.Detail = fmt.Sprintf("oldest restored state: %s of %s (%s), relative to %s",
			worst.Source, worst.Node, worst.At.UTC().Format(time.RFC3339), rep.incidentWords())
	}
	rpo.Pass = rpo.Measured && (rpo.Objective == 0 || rpo.Achieved <= rpo.Objective)
	rep.RPO = rpo
}

// timed fills the timing of a node from its folded state, in the report's
// words for its status.
func (st *StepTiming) timed(n *runbook.NodeState) {
	switch n.Status {
	case runbook.NodeRunning, runbook.NodeRetrying:
		st.Status = "running"
	case runbook.NodeSucceeded:
		st.Status = "finished"
	case runbook.NodeFailed:
		st.Status, st.Error = "failed", n.Error
	case runbook.NodeSkipped:
		st.Status, st.Reason = "skipped", n.Reason
	case runbook.NodeApproved:
		st.Status = "approved"
	case runbook.NodeRefused:
		st.Status, st.Reason = "refused", n.Reason
	}
	// A node that ended without starting (it failed before it could)
	// starts and ends at once.
	st.Started, st.Finished = n.Started, n.Finished
	if st.Started.IsZero() {
		st.Started = n.Finished
	}
	st.Duration, st.Waited = n.Took(), n.Waited
	st.Attempts, st.Redirects, st.record, st.outputs = n.Attempt, n.Redirects, n.Drill, n.Outputs
}

func statusWord(s runbook.RunStatus) string {
	switch s {
	case runbook.StatusFailed:
		return "failed"
	case runbook.StatusRefused:
		return "was refused at a gate"
	case runbook.StatusCancelled:
		return "was cancelled"
	case "":
		return "did not finish"
	}
	return string(s)
}

func (rep *Report) incidentWords() string {
	if rep.IncidentDeclared {
		return "the declared incident time"
	}
	return "the drill's start"
}

// recoveryPoints asks the step type of each step that finished which
// states it restored (runbook.RecoveryPointer): for the built-in types,
// the to_time of restores and rollbacks, the creation time of the backup
// recovery points restored, and the replication lag a replication_check
// saw. Types are found by the name the drill recorded, in the step
// types' registry, so a report read back without its runbook measures
// the same points.
func recoveryPoints(timings []*StepTiming, incident time.Time) []RecoveryPoint {
	var out []RecoveryPoint
	reg := steps.Registry(steps.Deps{})
	for _, st := range timings {
		if st.Status != "finished" || st.record == nil {
			continue
		}
		rp, ok := reg[st.record.Type].(runbook.RecoveryPointer)
		if !ok {
			continue
		}
		done := runbook.FinishedDrillStep{Config: recorded(st.record.Config), Outputs: recorded(st.outputs), Started: st.Started}
		for _, p := range rp.RecoveryPoints(done) {
			out = append(out, RecoveryPoint{Node: st.Node, Source: p.Source, At: p.At, Age: incident.Sub(p.At)})
		}
	}
	return out
}

// recorded reads a configuration or outputs recorded as JSON, with the
// types JSON implies; a null value when there is none or it does not
// read.
func recorded(raw json.RawMessage) cty.Value {
	if len(raw) == 0 {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	v, err := runbook.OutputsFromJSON(cty.DynamicPseudoType, raw)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v
}
