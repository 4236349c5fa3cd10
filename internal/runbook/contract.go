// The types the rest of drconsole builds on: the step type interface that
// internal/steps implements, the event stream that the journal, the
// printers and the console consume, and the approver interface that gates
// go through.

package runbook

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// StepType is one kind of step ("wait", "exec", "s3_restore", ...). A step
// type is stateless: the engine hands it the step's evaluated configuration
// on every call, so one value serves every step of that type in every run.
type StepType interface {
	// Spec describes the attributes and blocks a step of this type takes in
	// its body, besides the meta-arguments every step has (depends_on,
	// timeout, retry, on_failure, confirm, when, description).
	Spec() hcldec.ObjectSpec
	// Outputs is the object type of what Apply returns. References to
	// step.TYPE.NAME.ATTR are checked against it when a runbook is decoded,
	// and in dry-run every step's outputs are cty.UnknownVal(Outputs()).
	Outputs() cty.Type
	// Destructive reports whether the step changes state that someone could
	// regret. A destructive step must be behind a gate: its own confirm
	// (the default for destructive types) or an upstream gate.
	Destructive() bool
	// Plan reads only and returns the changes Apply would make, in words a
	// person reads. cfg may hold unknown values (dry-run of a step whose
	// inputs come from an upstream step); Plan then describes what it can.
	Plan(ctx context.Context, sc *StepContext, cfg cty.Value) ([]Change, error)
	// Apply makes the changes and returns the step's outputs, an object of
	// type Outputs(). It must be idempotent: after a crash the engine calls it
	// again, and it finds what an earlier attempt already did (tags, client
	// tokens) instead of doing it twice.
	Apply(ctx context.Context, sc *StepContext, cfg cty.Value) (cty.Value, error)
}

// Registry maps a step type name, as written in `step "TYPE" "NAME"`, to its
// implementation. It is built by the caller (cmd/drconsole wires
// internal/steps), never held in package state.
type Registry map[string]StepType

// StepContext is what the engine tells a step about the run it is part of.
type StepContext struct {
	RunID   string
	Address string // "step.TYPE.NAME"
	Attempt int    // 1 on the first try
	DryRun  bool
	// Target names where the run acts ("sandbox" or "aws"), for reports.
	Target string
	// Progress reports done out of total units (objects, instances, ...).
	// It is cheap to call often: consumers coalesce.
	Progress func(done, total int64, unit string)
	// Log records a line the step wants the operator and the journal to see
	// (a command's output, a resource it found). Never pass credentials.
	Log func(line string)
	// Concurrency, when the step adapts how many requests it keeps in
	// flight (halving when a service throttles, climbing back when it
	// stops), is told the new bound at each change. The engine reports it
	// in the step's periodic throttling line ("concurrency now K"). Nil
	// outside the engine.
	Concurrency func(k int)
	// Now is the engine's clock, so steps that measure time are testable.
	Now func() time.Time
	// Sensitive holds the string values of the run's sensitive variables.
	// The engine masks them in every event, but only where they are whole:
	// a step that cuts, splits or bounds text before it logs or returns it
	// masks these values first, so no piece of one survives the cut.
	Sensitive []string
	// Earlier, when set, reads back the lines this step logged in its
	// earlier attempts (retries in this run, and the attempts of the runs
	// it resumes), oldest first, as the journal recorded them. A step
	// whose outputs count what the whole run did, not only this attempt,
	// reads them; nil on a first attempt, and when nothing was journalled.
	Earlier func(fn func(line string) error) error
}

// Change is one thing a step would do, as Plan returns it.
type Change struct {
	Action string `json:"action"`           // e.g. "CopyObject", "SetDesiredCapacity", "exec"
	Target string `json:"target"`           // e.g. "my-models/models/a.bin"
	Detail string `json:"detail,omitempty"` // e.g. "<- version 3HL4kq", "0 -> 4"
}

// String renders the change on one line.
func (c Change) String() string {
	s := c.Action + " " + c.Target
	if c.Detail != "" {
		s += " " + c.Detail
	}
	return s
}

// EventKind names what happened in a run.
type EventKind string

// The events of a run, in the order they usually occur.
const (
	RunStarted   EventKind = "run_started"
	StepPlanned  EventKind = "step_planned"
	StepStarted  EventKind = "step_started"
	StepProgress EventKind = "step_progress"
	StepLog      EventKind = "step_log"
	StepRetried  EventKind = "step_retried"
	StepFinished EventKind = "step_finished"
	StepFailed   EventKind = "step_failed"
	StepSkipped  EventKind = "step_skipped"
	GateAsked    EventKind = "gate_asked"
	GateApproved EventKind = "gate_approved"
	GateRefused  EventKind = "gate_refused"
	RunFinished  EventKind = "run_finished"

	// Drill events. step_drilled comes before a drill step plans or
	// applies: what the drill redirects and what teardown will need. The
	// teardown events follow run_finished.
	StepDrilled      EventKind = "step_drilled"
	TeardownStarted  EventKind = "teardown_started"
	TeardownAction   EventKind = "teardown_action"
	TeardownFailed   EventKind = "teardown_failed"
	TeardownFinished EventKind = "teardown_finished"
)

// RunStatus is how a run ended.
type RunStatus string

// Run outcomes, each with its own exit code in cmd/drconsole.
const (
	StatusSucceeded RunStatus = "succeeded" // exit 0
	StatusFailed    RunStatus = "failed"    // exit 1: a step failed
	StatusRefused   RunStatus = "refused"   // exit 3: a gate was refused or timed out
	StatusCancelled RunStatus = "cancelled" // exit 130
)

// Event is one record of the run's event stream. The same value is written
// to the journal (one JSON object per line), printed as --output json, and
// shown by the console. Fields that do not apply to a kind are empty.
type Event struct {
	Time  time.Time `json:"time"`
	RunID string    `json:"run_id"`
	Kind  EventKind `json:"kind"`
	// Node is the graph address: "step.TYPE.NAME" or "gate.NAME".
	Node    string `json:"node,omitempty"`
	Attempt int    `json:"attempt,omitempty"`

	Run      *RunInfo        `json:"run,omitempty"`      // run_started
	Changes  []Change        `json:"changes,omitempty"`  // step_planned, gate_asked
	Outputs  json.RawMessage `json:"outputs,omitempty"`  // step_finished; run_finished (runbook outputs)
	Error    string          `json:"error,omitempty"`    // step_failed, step_retried, run_finished
	Reason   string          `json:"reason,omitempty"`   // step_skipped, gate_refused
	Actor    string          `json:"actor,omitempty"`    // gate_approved, gate_refused: who
	Progress *Progress       `json:"progress,omitempty"` // step_progress
	Line     string          `json:"line,omitempty"`     // step_log
	Status   RunStatus       `json:"status,omitempty"`   // run_finished
	Duration time.Duration   `json:"duration_ns,omitempty"`
	// Delay is the back-off before the next attempt (step_retried).
	Delay time.Duration `json:"delay_ns,omitempty"`
	// Call names the AWS call the SDK retried ("s3 CopyObject in
	// us-east-1") in a step_retried event about one call, not the step:
	// the step carries on, Error says why the call is retried.
	Call string `json:"call,omitempty"`
	// Drill is a drill step's configuration and state (step_drilled).
	Drill *DrillRecord `json:"drill,omitempty"`
}

// RunInfo describes a run when it starts.
type RunInfo struct {
	RunbookPath string            `json:"runbook_path"`
	RunbookHash string            `json:"runbook_hash"` // sha256 of the source files, hex
	Variables   map[string]string `json:"variables"`    // rendered; sensitive ones redacted
	Operator    string            `json:"operator"`
	Host        string            `json:"host"`
	DryRun      bool              `json:"dry_run"`
	Parallelism int               `json:"parallelism"`
	Target      string            `json:"target,omitempty"`
	ResumedFrom string            `json:"resumed_from,omitempty"`
	Drill       *DrillInfo        `json:"drill,omitempty"` // set when the run is a drill
}

// Progress is a step's done/total count.
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit,omitempty"`
}

// Sink receives a run's events, in order, from the engine. Emit is called
// synchronously before the action the event announces, so a journal sink
// that syncs to disk in Emit guarantees the record exists before the action
// starts; an error from Emit stops the run. Sinks that feed slow consumers
// (the console) must not block.
type Sink interface {
	Emit(Event) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event) error

// Emit calls f.
func (f SinkFunc) Emit(e Event) error { return f(e) }

// GateRequest is what an Approver is asked.
type GateRequest struct {
	RunID string
	// Node is the gate's address ("gate.NAME"), or the address of the step
	// whose confirm gate this is.
	Node   string
	Prompt string
	// Token is what the operator must type to approve: the resource the
	// decision changes (a destructive step's blast radius, or that of the
	// one step a gate confirms), else the gate's or step's name. It never
	// holds a run id, and is unique within the run.
	Token   string
	Changes []Change
	// Covers lists the steps a gate's approval also confirms (their
	// planned changes are in Changes): they do not ask again.
	Covers  []string
	Timeout time.Duration // 0: none
}

// CoversLine says, for a gate's question, which steps approving it
// confirms: every front end words it the same.
func CoversLine(steps []string) string {
	return "Approving confirms " + strings.Join(steps, ", ") + " (planned changes below): it will not ask again."
}

// Decision is an Approver's answer.
type Decision struct {
	Approved bool
	By       string // who decided, recorded in the journal
	Reason   string // why, when refused
}

// Approver decides gates: the console's modal, a terminal prompt,
// --auto-approve, or the non-interactive default that refuses. It returns
// an error only when it could not ask (the context ended, the terminal
// closed); a timeout is a refusal with a reason.
type Approver interface {
	Approve(ctx context.Context, req GateRequest) (Decision, error)
}
