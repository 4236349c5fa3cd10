package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/drconsole/drconsole/internal/redact"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Options control one execution of a runbook.
type Options struct {
	RunID  string
	DryRun bool // Plan every step, Apply none, ask no gate
	// Parallelism bounds how many nodes run at once; 0 takes the runbook's,
	// and DefaultParallelism when the runbook sets none.
	Parallelism int
	// Vars are the variables' values, as ResolveVars returns them. Missing
	// ones take their defaults.
	Vars map[string]cty.Value
	// Registry, when set, supplies the implementations by type name in place
	// of those the runbook was parsed with (same names, same specs).
	Registry    Registry
	Approver    Approver // nil: every gate reached is refused
	AutoApprove bool     // approve every gate, recorded as "auto-approve"
	Sink        Sink     // nil: events are dropped
	Now         func() time.Time
	// Rand draws retry jitter; nil uses the global source. A *rand.Rand is
	// not safe for concurrent use: the engine serialises its calls.
	Rand *rand.Rand
	// ProgressInterval is the least time between two step_progress events
	// of one step; 0 means 50ms.
	ProgressInterval time.Duration
	// CallWatch, when set, wraps the context of each Plan and Apply of a
	// step so that the calls made under it are watched (awsx.WatchCalls):
	// the returned context ends, its cause saying why, once one service in
	// one region has failed every call for unavailable (0: never), and
	// retried hears of each call the SDK retries. The engine turns the
	// first into a named step failure and the second into step_retried
	// events and throttling summaries.
	CallWatch func(ctx context.Context, now func() time.Time, unavailable time.Duration,
		retried func(call, reason string, throttled bool)) (context.Context, context.CancelFunc)
	// RetrySummaryInterval is how often a step's throttled and further
	// retried calls are summed up in one step_log line; 0 means 10s.
	RetrySummaryInterval time.Duration

	// EarlierLogs, when set, reads back from the journal the step_log
	// lines node recorded before its latest step_started: those of its
	// earlier attempts, when called while an attempt runs. Steps get it as
	// StepContext.Earlier on a retry and in a resumed run.
	EarlierLogs func(node string, fn func(line string) error) error

	Target, Operator, Host string
	Resume                 *ResumeState // nil: a fresh run
	// Drill, when set, runs the runbook as a drill: each step is rewritten
	// by its type's DrillPlan (or runs as is when it says drill_safe), and
	// a step that can do neither fails. DrillInfo is recorded in
	// run_started.
	Drill     *Drill
	DrillInfo *DrillInfo
}

// ResumeState is what an earlier run of the same runbook achieved, read
// from its journal.
type ResumeState struct {
	From string // the earlier run's id
	// Finished maps a step's address to its outputs as recorded in
	// step_finished. Those steps are not run again; their outputs feed the
	// expressions that use them.
	Finished map[string]json.RawMessage
	// Skipped maps a node's address to the reason it was skipped. Nodes
	// skipped because their condition was false stay skipped; the others
	// are evaluated again.
	Skipped map[string]string
	// Approved maps a gate's address (or a confirmed step's) to who
	// approved it; those approvals stand.
	Approved map[string]string
	// Drill is set when the earlier run was a drill. A drill is not
	// resumed: its remaining steps would run against production.
	Drill bool
}

// Result is how a run ended.
type Result struct {
	Status  RunStatus
	Outputs map[string]cty.Value // the runbook's outputs; unknown where not computed
	Failed  []string             // addresses of the steps that failed, in order
	Err     error                // why the run did not succeed; nil on success
}

// SkipReasonWhen is the reason recorded when a node's when is false.
const SkipReasonWhen = "when is false"

// WouldAsk is the reason of gate_asked events in dry-run.
const WouldAsk = "would ask (dry-run)"

// ReasonCancelled is the reason of the step_failed event of a step the
// run's cancellation stopped.
const ReasonCancelled = "cancelled"

type nodeStatus int

const (
	statusPending nodeStatus = iota
	statusDone               // finished, planned, approved or restored
	statusSkippedWhen
	statusFailed
	statusCancelled // stopped by the run ending, not by its own fault
	statusBlocked   // skipped: something it waits for failed
	statusRefused
)

type run struct {
	rb     *Runbook
	opts   Options
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelCauseFunc
	par    int
	sc     *scope

	emitMu  sync.Mutex
	emitErr error
	randMu  sync.Mutex
	// sensitive masks sensitive variables' values in every event;
	// secrets are those values, for steps that must mask before they cut.
	sensitive *redact.Redactor
	secrets   []string

	mu       sync.Mutex
	values   []cty.Value
	status   []nodeStatus
	nodeErrs []string
	// confirmed holds, by step address, the gate approvals that confirm
	// the step; tokens maps each token asked for to the node it was
	// asked for, so two questions never share one.
	confirmed map[string]coverage
	tokens    map[string]string
}

// Execute runs (or with opts.DryRun, plans) a runbook and reports how it
// ended. Events go to opts.Sink as they happen, each before the action it
// announces. A runbook with errors is refused without running anything.
func Execute(ctx context.Context, rb *Runbook, opts Options) *Result {
	if rb == nil {
		return &Result{Status: StatusFailed, Err: errors.New("no runbook to run")}
	}
	if rb.diags.HasErrors() || (rb.order == nil && len(rb.Nodes) > 0) {
		return &Result{Status: StatusFailed, Err: fmt.Errorf("runbook %s has errors; validate it and fix them first", rb.Path)}
	}
	if opts.Resume != nil && (opts.Resume.Drill || opts.Drill != nil) {
		return &Result{Status: StatusFailed, Err: fmt.Errorf("run %s was a drill, and drills are not resumed (their remaining steps would act on production): "+
			"finish its teardown with drconsole drill --teardown %s, then start a new drill", opts.Resume.From, opts.Resume.From)}
	}
	r := &run{rb: rb, opts: opts, now: opts.Now, sensitive: redact.Literals()}
	if r.now == nil {
		r.now = time.Now
	}
	if opts.Sink == nil {
		r.opts.Sink = SinkFunc(func(Event) error { return nil })
	}
	if r.opts.ProgressInterval <= 0 {
		r.opts.ProgressInterval = 50 * time.Millisecond
	}
	r.par = opts.Parallelism
	if r.par <= 0 {
		r.par = rb.Parallelism
	}
	if r.par <= 0 {
		r.par = DefaultParallelism
	}
	vars, err := r.bindVars()
	if err != nil {
		return &Result{Status: StatusFailed, Err: err}
	}
	r.values = make([]cty.Value, len(rb.Nodes))
	r.status = make([]nodeStatus, len(rb.Nodes))
	r.nodeErrs = make([]string, len(rb.Nodes))
	r.sc = &scope{
		funcs: functions(r.now),
		vars:  cty.ObjectVal(vars),
		run:   cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(opts.RunID), "dry_run": cty.BoolVal(opts.DryRun)}),
		value: r.value,
	}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)

	start := r.now()
	info := &RunInfo{
		RunbookPath: rb.Path, RunbookHash: rb.Hash, Variables: map[string]string{},
		Operator: opts.Operator, Host: opts.Host, DryRun: opts.DryRun, Parallelism: r.par, Target: opts.Target,
	}
	for _, v := range rb.Variables {
		if v.Sensitive {
			info.Variables[v.Name] = redact.Marker
		} else {
			info.Variables[v.Name] = renderValue(vars[v.Name])
		}
	}
	if opts.Resume != nil {
		info.ResumedFrom = opts.Resume.From
	}
	if opts.Drill != nil {
		info.Drill = opts.DrillInfo
		if info.Drill == nil {
			info.Drill = &DrillInfo{TargetBucket: opts.Drill.TargetBucket, TargetPrefix: opts.Drill.TargetPrefix}
		}
	}
	if err := r.emit(Event{Kind: RunStarted, Run: info}); err != nil {
		return &Result{Status: StatusFailed, Err: err}
	}

	refusal := r.walk()

	res := &Result{Outputs: map[string]cty.Value{}}
	for _, n := range rb.order {
		if r.status[n.index] == statusFailed {
			res.Failed = append(res.Failed, n.Addr)
		}
	}
	switch {
	case r.emitError() != nil:
		res.Status, res.Err = StatusFailed, r.emitError()
	case refusal != nil:
		res.Status, res.Err = StatusRefused, refusal
	case ctx.Err() != nil:
		res.Status, res.Err = StatusCancelled, fmt.Errorf("run cancelled: %w", context.Cause(ctx))
	case len(res.Failed) > 0:
		res.Status = StatusFailed
		first := rb.nodeByAddr[res.Failed[0]]
		res.Err = fmt.Errorf("%s failed: %s", first.Addr, r.nodeErrs[first.index])
		if len(res.Failed) > 1 {
			res.Err = fmt.Errorf("%w (and %d more steps failed)", res.Err, len(res.Failed)-1)
		}
	default:
		res.Status = StatusSucceeded
	}

	outJSON := r.evalOutputs(res)
	fin := Event{Kind: RunFinished, Status: res.Status, Outputs: outJSON, Duration: r.now().Sub(start)}
	if res.Err != nil {
		fin.Error = r.redact(res.Err.Error())
	}
	if err := r.emit(fin); err != nil && res.Status == StatusSucceeded {
		res.Status, res.Err = StatusFailed, err
	}
	return res
}

func (r *run) bindVars() (map[string]cty.Value, error) {
	vars := map[string]cty.Value{}
	var secrets []string
	for _, v := range r.rb.Variables {
		val, ok := r.opts.Vars[v.Name]
		if !ok {
			if !v.HasDefault {
				return nil, fmt.Errorf("variable %q is not set and has no default", v.Name)
			}
			val = v.Default
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", v.Name, err)
		}
		vars[v.Name] = cv
		if v.Sensitive {
			collectStrings(cv, &secrets)
		}
	}
	// Exactly these values and no credential patterns: the engine knows
	// what is sensitive, while the patterns belong where events are
	// written (the journal, the printers), so a sink gets every other
	// text as the step wrote it.
	r.sensitive = redact.Literals(secrets...)
	r.secrets = secrets
	return vars, nil
}

func (r *run) emit(e Event) error {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if r.emitErr != nil {
		return r.emitErr
	}
	e.Time = r.now()
	e.RunID = r.opts.RunID
	e = e.Redact(r.sensitive)
	if err := r.opts.Sink.Emit(e); err != nil {
		r.emitErr = fmt.Errorf("record %s event: %w", e.Kind, err)
		r.cancel(r.emitErr)
		return r.emitErr
	}
	return nil
}

func (r *run) emitError() error {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	return r.emitErr
}

// typeOf is the implementation of n's step type: reg's when it has one,
// else the one the runbook was parsed with.
func (reg Registry) typeOf(n *Node) StepType {
	if t := reg[n.Type]; t != nil {
		return t
	}
	return n.StepType
}

// value is a node's current value as expressions see it.
func (r *run) value(n *Node) cty.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.status[n.index] {
	case statusDone:
		return r.values[n.index]
	case statusSkippedWhen:
		if n.Kind == KindGate {
			return cty.NullVal(gateType)
		}
		return cty.NullVal(n.StepType.Outputs())
	}
	return unknownValue(n)
}

func (r *run) setStatus(n *Node, st nodeStatus, v cty.Value, errText string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[n.index] = st
	if v != cty.NilVal {
		r.values[n.index] = v
	}
	if errText != "" {
		r.nodeErrs[n.index] = errText
	}
}

func (r *run) statusOf(n *Node) nodeStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[n.index]
}
