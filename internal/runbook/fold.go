package runbook

import (
	"encoding/json"
	"time"
)

// NodeStatus is where a step or gate stands, as its events tell. The
// console, the printers, the journal and the drill report all read a run
// through RunState, so these are the only state names there are; each of
// them may still print its own word for one (the console's "done", the
// drill report's "finished").
//
// There is no cancelled status: the engine reports a step it cancelled as
// step_failed with the reason ReasonCancelled (NodeState.Cancelled), and
// the run's own status says it was cancelled.
type NodeStatus string

// The node statuses.
const (
	NodePending   NodeStatus = "pending"   // no event has moved it yet
	NodePlanned   NodeStatus = "planned"   // step_planned; in a dry-run also gate_asked ("would ask")
	NodeWaiting   NodeStatus = "waiting"   // gate_asked: the gate, or the step's confirmation, waits for an answer
	NodeApproved  NodeStatus = "approved"  // gate_approved (a confirmed step then starts)
	NodeRefused   NodeStatus = "refused"   // gate_refused
	NodeRunning   NodeStatus = "running"   // step_started
	NodeRetrying  NodeStatus = "retrying"  // step_retried: an attempt failed, the next one waits for its back-off
	NodeSucceeded NodeStatus = "succeeded" // step_finished
	NodeFailed    NodeStatus = "failed"    // step_failed
	NodeSkipped   NodeStatus = "skipped"   // step_skipped
)

// Ended reports whether the node, or the question its gate asked, came to
// an end: it succeeded, failed, was skipped, approved or refused.
func (s NodeStatus) Ended() bool {
	switch s {
	case NodeSucceeded, NodeFailed, NodeSkipped, NodeApproved, NodeRefused:
		return true
	}
	return false
}

// NodeState is what a run's events tell about one step or gate.
type NodeState struct {
	// Node is the address as the events write it.
	Node   string
	Status NodeStatus
	// Since is the ordinal (from 1) of the event that set Status, so nodes
	// can be put in the order they reached it.
	Since int

	// Seen is the time of the first event about the node.
	Seen time.Time
	// Started is when the node first began: its first step_started or
	// gate_asked.
	Started time.Time
	// Began is when what the node does now began: its latest attempt, or
	// the question its gate asks (not a dry-run's). A step that finished
	// without starting in these events (it finished in the run this one
	// resumes) began its duration before it finished.
	Began time.Time
	// Finished is its latest step_finished, step_failed, gate_approved or
	// gate_refused.
	Finished time.Time
	// Duration is step_finished's: the last attempt, as the engine timed it.
	Duration time.Duration
	// Attempt is the latest step_started's attempt (1 on the first try).
	Attempt int

	// Changes are what the step would do (step_planned), or what the gate
	// asked about (gate_asked).
	Changes []Change
	// Prompt is the question gate_asked put.
	Prompt string
	// Redirects and Drill are what a drill changed about the step and what
	// teardown needs (step_drilled).
	Redirects []Change
	Drill     *DrillRecord
	// Outputs are step_finished's; a step that starts or fails again has
	// none.
	Outputs json.RawMessage
	// Error is why the step failed, or why its latest attempt did while it
	// waits to retry; a new attempt clears it.
	Error string
	// Reason is the latest reason an event gave: why the node was skipped
	// or refused, why a finish or an approval stands without running
	// ("finished in run ID"), or that a dry-run would ask.
	Reason string
	// Actor is who answered the node's gate, approving or refusing;
	// Approved says the latest answer was yes.
	Actor    string
	Approved bool
	// Progress is the latest step_progress.
	Progress *Progress
	// Logs are the newest step_log lines, as many as RunState.KeepLogs
	// asks for; LogCount counts them all.
	Logs     []LogLine
	LogCount int
	// CallRetries counts the step_retried events about one call the SDK
	// retried; each is kept among Logs too, so a view of the step's log
	// shows it in order.
	CallRetries int
	// Cancelled marks a failed step that the run's cancellation stopped,
	// rather than one that failed on its own.
	Cancelled bool
	// Waited is the time the node's questions waited for a person, from
	// gate_asked to its answer: part of Took, not machine time.
	Waited time.Duration
}

// Took is the node's one duration, the same in every view and report:
// from its first beginning (Started: the first attempt, or the question
// before it) to its latest end, retries and waits for people included
// (Waited says how much of it was waiting). 0 until it has both.
func (n *NodeState) Took() time.Duration {
	if n.Started.IsZero() || n.Finished.IsZero() || n.Finished.Before(n.Started) {
		return 0
	}
	return n.Finished.Sub(n.Started)
}

// answered ends the open question's wait at t: the question began it
// (Began), unless the node no longer waits.
func (n *NodeState) answered(t time.Time) {
	if n.Status == NodeWaiting && !t.Before(n.Began) {
		n.Waited += t.Sub(n.Began)
	}
}

// LogLine is one step_log record.
type LogLine struct {
	Time time.Time
	Line string
}

// TeardownState is what a drill's teardown events tell.
type TeardownState struct {
	// Status is teardown_finished's: StatusSucceeded, or StatusFailed with
	// Err saying what is left. It is empty while a teardown runs or before
	// one ran; teardown_started empties it again.
	Status RunStatus
	Err    string
	// Steps are the teardown's actions and failures, in order.
	Steps []TeardownStep
}

// TeardownStep is one thing a teardown did to a step's drill resources
// (teardown_action), or a step it could not undo (teardown_failed).
type TeardownStep struct {
	Node   string
	Action Change
	Failed bool
	Error  string
}

// RunState is a run folded from its events: the one reading of the event
// stream. Live consumers (the console, the printers) Apply each event as
// it comes; readers of a finished stream (the journal, the drill report)
// Fold it. Applying an event costs a map lookup and a few assignments, so
// a stream of many progress events stays cheap. The zero value is an empty
// run; a RunState is not safe for concurrent use.
type RunState struct {
	// RunID is run_started's run id.
	RunID string
	// Info is the first run_started's: the run as it was first started.
	Info *RunInfo
	// Status is how the latest attempt ended (run_finished); empty while
	// it runs, or when its events stop before it ended. Each run_started
	// (a resumption) empties it again, with Err and Outputs.
	Status   RunStatus
	Err      string
	Outputs  json.RawMessage
	Started  time.Time // the first run_started
	Ended    time.Time // the latest run_finished
	Duration time.Duration
	// Resumes counts the run_started records after the first.
	Resumes int
	// Events counts the events applied.
	Events   int
	Teardown TeardownState
	// KeepLogs is how many of its newest log lines each node keeps; 0
	// keeps none (LogCount still counts them). Set it before the first
	// event.
	KeepLogs int

	started bool
	nodes   []*NodeState
	byAddr  map[string]*NodeState
}

// Fold reads a whole event stream.
func Fold(events []Event) *RunState {
	s := &RunState{}
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

// Node returns the state of the node at addr, adding it as pending when
// no event named it yet: callers that know the graph add its nodes first,
// in their order.
func (s *RunState) Node(addr string) *NodeState {
	if n, ok := s.byAddr[addr]; ok {
		return n
	}
	if s.byAddr == nil {
		s.byAddr = map[string]*NodeState{}
	}
	n := &NodeState{Node: addr, Status: NodePending}
	s.byAddr[addr] = n
	s.nodes = append(s.nodes, n)
	return n
}

// Lookup returns the state of the node at addr, if there is one.
func (s *RunState) Lookup(addr string) (*NodeState, bool) {
	n, ok := s.byAddr[addr]
	return n, ok
}

// Nodes returns the nodes in the order they were added or first named by
// an event. The slice is the state's own: do not change it.
func (s *RunState) Nodes() []*NodeState { return s.nodes }

// Count returns how many nodes have status st.
func (s *RunState) Count(st NodeStatus) int {
	c := 0
	for _, n := range s.nodes {
		if n.Status == st {
			c++
		}
	}
	return c
}

// Apply folds one event into the state. Teardown events are the run's:
// they add no node. An event about a node that names none is counted and
// otherwise ignored.
func (s *RunState) Apply(e Event) {
	s.Events++
	switch e.Kind {
	case RunStarted:
		if !s.started {
			s.started, s.Started, s.Info = true, e.Time, e.Run
		} else {
			s.Resumes++
		}
		s.RunID = e.RunID
		s.Status, s.Err, s.Outputs = "", "", nil
		return
	case RunFinished:
		s.Status, s.Err, s.Outputs, s.Ended, s.Duration = e.Status, e.Error, e.Outputs, e.Time, e.Duration
		return
	case TeardownStarted:
		s.Teardown.Status, s.Teardown.Err = "", ""
		return
	case TeardownAction:
		for _, c := range e.Changes {
			s.Teardown.Steps = append(s.Teardown.Steps, TeardownStep{Node: e.Node, Action: c})
		}
		return
	case TeardownFailed:
		s.Teardown.Steps = append(s.Teardown.Steps, TeardownStep{Node: e.Node, Failed: true, Error: e.Error})
		return
	case TeardownFinished:
		s.Teardown.Status, s.Teardown.Err = e.Status, e.Error
		return
	}
	if e.Node == "" {
		return
	}
	n := s.Node(e.Node)
	if n.Seen.IsZero() {
		n.Seen = e.Time
	}
	set := func(st NodeStatus) { n.Status, n.Since = st, s.Events }
	switch e.Kind {
	case StepDrilled:
		n.Redirects = append(n.Redirects, e.Changes...)
		n.Drill = e.Drill
	case StepPlanned:
		n.Changes = e.Changes
		if n.Status == NodePending {
			set(NodePlanned)
		}
	case StepStarted:
		set(NodeRunning)
		n.start(e.Time)
		n.Began, n.Attempt, n.Error, n.Outputs = e.Time, e.Attempt, "", nil
	case StepProgress:
		n.Progress = e.Progress
	case StepLog:
		n.LogCount++
		n.keepLog(s.KeepLogs, LogLine{Time: e.Time, Line: e.Line})
	case StepRetried:
		if e.Call != "" {
			// One call retried by the SDK: the step runs on.
			n.CallRetries++
			n.keepLog(s.KeepLogs, LogLine{Time: e.Time, Line: "↻ " + e.Call + ": " + e.Error + "; retrying the call"})
			break
		}
		set(NodeRetrying)
		n.Error = e.Error
	case StepFinished:
		set(NodeSucceeded)
		n.Finished, n.Duration, n.Outputs, n.Reason = e.Time, e.Duration, e.Outputs, e.Reason
		if n.Began.IsZero() {
			n.Began = e.Time.Add(-e.Duration)
		}
	case StepFailed:
		set(NodeFailed)
		n.Finished, n.Error, n.Outputs = e.Time, e.Error, nil
		n.Cancelled = e.Reason == ReasonCancelled
	case StepSkipped:
		set(NodeSkipped)
		n.Reason = e.Reason
	case GateAsked:
		n.start(e.Time)
		n.Changes, n.Prompt, n.Reason = e.Changes, e.Line, e.Reason
		if e.Reason == WouldAsk || s.Info != nil && s.Info.DryRun {
			// A plan passes gates without asking: it shows what they guard.
			set(NodePlanned)
			break
		}
		set(NodeWaiting)
		n.Began = e.Time
	case GateApproved:
		n.answered(e.Time)
		set(NodeApproved)
		n.Finished, n.Actor, n.Approved, n.Reason = e.Time, e.Actor, true, e.Reason
	case GateRefused:
		n.answered(e.Time)
		set(NodeRefused)
		n.Finished, n.Actor, n.Approved, n.Reason = e.Time, e.Actor, false, e.Reason
	}
}

// start records the node's first beginning.
func (n *NodeState) start(at time.Time) {
	if n.Started.IsZero() {
		n.Started = at
	}
}

// keepLog keeps l among the newest keep lines of the node's log.
func (n *NodeState) keepLog(keep int, l LogLine) {
	if keep <= 0 {
		return
	}
	n.Logs = append(n.Logs, l)
	if len(n.Logs) > keep {
		n.Logs = n.Logs[len(n.Logs)-keep:]
	}
}
