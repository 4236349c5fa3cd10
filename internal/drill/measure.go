// Package drill runs game-day drills: a runbook rehearsed with every step
// that could hurt production redirected (the step types' drill modes), the
// faults a team asked for injected into the sandbox, a teardown that undoes
// what the drill created, and a report measuring the recovery time and
// recovery point achieved against the runbook's objectives.
package drill

import (
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

// StepTiming is how one node of a drill went.
type StepTiming struct {
	Node      string           `json:"node"`
	Status    string           `json:"status"` // finished, failed, skipped, approved, refused, not run
	Started   time.Time        `json:"started,omitzero"`
	Finished  time.Time        `json:"finished,omitzero"`
	Duration  time.Duration    `json:"duration_ns"`
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
	byNode := map[string]*StepTiming{}
	for _, n := range nodes {
		st := &StepTiming{Node: n.Addr, Status: "not run", Deps: n.Deps}
		byNode[n.Addr] = st
		rep.Steps = append(rep.Steps, st)
	}
	get := func(addr string) *StepTiming {
		st, ok := byNode[addr]
		if !ok {
			st = &StepTiming{Node: addr, Status: "not run"}
			byNode[addr] = st
			rep.Steps = append(rep.Steps, st)
		}
		return st
	}
	var lastEnd time.Time
	for _, e := range events {
		switch e.Kind {
		case runbook.RunStarted:
			if rep.Started.IsZero() {
				rep.Started = e.Time
			}
		case runbook.RunFinished:
			rep.Finished, rep.Status, rep.Error = e.Time, e.Status, e.Error
		case runbook.StepDrilled:
			st := get(e.Node)
			st.Redirects, st.record = e.Changes, e.Drill
		case runbook.StepStarted:
			st := get(e.Node)
			if st.Started.IsZero() {
				st.Started = e.Time
			}
			st.Attempts = max(st.Attempts, e.Attempt)
			st.Status = "running"
		case runbook.GateAsked:
			st := get(e.Node)
			if st.Started.IsZero() {
				st.Started = e.Time
			}
		case runbook.StepFinished:
			st := get(e.Node)
			st.Status, st.Finished, st.outputs = "finished", e.Time, e.Outputs
			if st.Started.IsZero() {
				st.Started = e.Time
			}
			if e.Time.After(lastEnd) {
				lastEnd = e.Time
			}
		case runbook.StepFailed:
			st := get(e.Node)
			st.Status, st.Finished, st.Error = "failed", e.Time, e.Error
			if st.Started.IsZero() {
				st.Started = e.Time
			}
			rep.Failed = append(rep.Failed, StepFailure{Node: e.Node, Error: e.Error})
		case runbook.StepSkipped:
			st := get(e.Node)
			st.Status, st.Reason = "skipped", e.Reason
		case runbook.GateApproved:
			st := get(e.Node)
			if st.Status == "not run" {
				st.Status = "approved"
			}
			st.Finished = e.Time
			if st.Started.IsZero() {
				st.Started = e.Time
			}
		case runbook.GateRefused:
			st := get(e.Node)
			st.Status, st.Finished, st.Reason = "refused", e.Time, e.Reason
		}
	}
	for _, st := range rep.Steps {
		if !st.Started.IsZero() && !st.Finished.IsZero() {
			st.Duration = st.Finished.Sub(st.Started)
		}
	}
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
