package runbook

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/sourcegraph/conc/pool"
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
	secrets []string

	mu       sync.Mutex
	values   []cty.Value
	status   []nodeStatus
	nodeErrs []string
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
	r := &run{rb: rb, opts: opts, now: opts.Now}
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
			info.Variables[v.Name] = "(sensitive)"
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
			collectStrings(cv, &r.secrets)
		}
	}
	return vars, nil
}

// minSecretLen is the shortest sensitive string the engine masks in
// events: masking every "a" or "12" would garble every record while
// protecting nothing a credential looks like.
const minSecretLen = 4

// collectStrings gathers the string leaves of a sensitive value so they
// can be masked wherever a step echoes them.
func collectStrings(v cty.Value, out *[]string) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch {
	case v.Type() == cty.String:
		if s := v.AsString(); len(s) >= minSecretLen {
			*out = append(*out, s)
		}
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			collectStrings(e, out)
		}
	}
}

func (r *run) redact(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "(sensitive)")
	}
	return s
}

// redactEvent masks sensitive variables' values wherever a step or an
// expression copied them into an event: errors, log lines, prompts, planned
// changes and outputs.
func (r *run) redactEvent(e *Event) {
	if len(r.secrets) == 0 {
		return
	}
	e.Error, e.Reason, e.Line = r.redact(e.Error), r.redact(e.Reason), r.redact(e.Line)
	if len(e.Changes) > 0 {
		cs := make([]Change, len(e.Changes))
		for i, c := range e.Changes {
			cs[i] = Change{Action: r.redact(c.Action), Target: r.redact(c.Target), Detail: r.redact(c.Detail)}
		}
		e.Changes = cs
	}
	if len(e.Outputs) > 0 {
		e.Outputs = r.redactJSON(e.Outputs)
	}
	if e.Drill != nil && len(e.Drill.Config) > 0 {
		d := *e.Drill
		d.Config = r.redactJSON(d.Config)
		e.Drill = &d
	}
}

// redactJSON masks secrets inside the strings of a JSON document, keeping
// it valid JSON.
func (r *run) redactJSON(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return json.RawMessage(`"(unreadable outputs)"`)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return r.redact(x)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(doc))
	if err != nil {
		return json.RawMessage(`"(unreadable outputs)"`)
	}
	return out
}

func (r *run) emit(e Event) error {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if r.emitErr != nil {
		return r.emitErr
	}
	e.Time = r.now()
	e.RunID = r.opts.RunID
	r.redactEvent(&e)
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

// nodeEnd is how a node ended: its status and, for a refused gate, why.
type nodeEnd struct {
	status  nodeStatus
	refusal error
}

// outcome is what running one node came to.
type outcome struct {
	node    *Node
	status  nodeStatus
	refusal error // set when a gate was refused
}

// walk runs the graph: a node starts once everything it waits for is
// resolved, at most r.par at a time, earliest-declared first.
func (r *run) walk() (refusal error) {
	var stopReason string
	nodes := r.rb.Nodes
	pending := make([]int, len(nodes))
	ready := &nodeHeap{}
	for _, n := range nodes {
		pending[n.index] = len(n.deps)
		if len(n.deps) == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready)
	done := make(chan outcome, r.par)
	p := pool.New().WithMaxGoroutines(r.par)
	running := 0
	stopping := false

	// resolve counts a finished node out of its dependents, and skips the
	// dependents that can no longer run, transitively.
	var resolve func(n *Node)
	resolve = func(n *Node) {
		for _, d := range n.dependents {
			pending[d.index]--
			if pending[d.index] > 0 {
				continue
			}
			if cause := r.blockedBy(d); cause != nil {
				what := "failed"
				if r.statusOf(cause) != statusFailed {
					what = "was skipped"
				}
				_ = r.emit(Event{Kind: StepSkipped, Node: d.Addr, Reason: fmt.Sprintf("depends on %s, which %s", cause.Addr, what)})
				r.setStatus(d, statusBlocked, cty.NilVal, "")
				resolve(d)
				continue
			}
			heap.Push(ready, d)
		}
	}

	for {
		if r.ctx.Err() != nil {
			stopping = true
		}
		for !stopping && running < r.par && ready.Len() > 0 {
			n := heap.Pop(ready).(*Node)
			running++
			p.Go(func() { done <- r.runNode(n) })
		}
		if running == 0 {
			break
		}
		o := <-done
		running--
		switch o.status {
		case statusFailed:
			if o.node.OnFailure != OnFailureContinue {
				stopping = true
				if stopReason == "" {
					stopReason = fmt.Sprintf("run aborted: %s failed", o.node.Addr)
				}
				r.cancel(errors.New(stopReason))
			}
		case statusRefused:
			stopping = true
			if refusal == nil {
				refusal = o.refusal
				stopReason = "run stopped: " + o.refusal.Error()
			}
			r.cancel(errors.New(stopReason))
		}
		if r.ctx.Err() != nil {
			stopping = true
		}
		if !stopping {
			resolve(o.node)
		}
	}
	p.Wait()

	if stopReason == "" {
		stopReason = "run cancelled"
	}
	if r.emitError() == nil {
		for _, n := range r.rb.order {
			if r.statusOf(n) == statusPending {
				_ = r.emit(Event{Kind: StepSkipped, Node: n.Addr, Reason: stopReason})
			}
		}
	}
	return refusal
}

// blockedBy returns a dependency that failed or was blocked itself, or nil.
func (r *run) blockedBy(n *Node) *Node {
	for _, d := range n.deps {
		switch r.statusOf(d) {
		case statusFailed, statusBlocked, statusCancelled, statusRefused:
			return d
		}
	}
	return nil
}

// runNode runs one step or gate; a panicking step type fails its step
// instead of the process.
func (r *run) runNode(n *Node) (o outcome) {
	o.node = n
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprintf("step type %s panicked: %v", n.Type, p)
			_ = r.emit(Event{Kind: StepFailed, Node: n.Addr, Error: msg})
			r.setStatus(n, statusFailed, cty.NilVal, msg)
			o.status = statusFailed
		}
	}()
	var end nodeEnd
	var err error
	if n.Kind == KindGate {
		end, err = r.runGate(n)
	} else {
		end, err = r.runStep(n)
	}
	o.status, o.refusal = end.status, end.refusal
	if err != nil {
		msg := r.redact(err.Error())
		if o.status == statusPending {
			o.status = statusFailed
			if r.ctx.Err() != nil {
				o.status = statusCancelled
			}
		}
		if o.status != statusRefused {
			_ = r.emit(Event{Kind: StepFailed, Node: n.Addr, Error: msg})
		}
		r.setStatus(n, o.status, cty.NilVal, msg)
	} else if o.status == statusRefused {
		// gate_refused was this node's terminal event; recording the status
		// keeps the run's stop from reporting it skipped as well.
		r.setStatus(n, statusRefused, cty.NilVal, "")
	}
	return o
}

func diagError(what string, diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		m := d.Summary
		if d.Detail != "" {
			m += ": " + d.Detail
		}
		if d.Subject != nil {
			m = d.Subject.String() + ": " + m
		}
		msgs = append(msgs, m)
	}
	return fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))
}

// prepare evaluates a node's condition and settings against what has run.
// skip reports a false condition.
func (r *run) prepare(n *Node) (st settings, skip bool, err error) {
	ctx, diags := r.sc.evalContext(n.scopeNodes, n.scopeLocals)
	if diags.HasErrors() {
		return st, false, diagError("evaluate locals", diags)
	}
	ok, diags := n.evalWhen(ctx)
	if diags.HasErrors() {
		return st, false, diagError("evaluate when", diags)
	}
	if !ok {
		return st, true, nil
	}
	st, diags = n.evalSettings(ctx)
	if diags.HasErrors() {
		return st, false, diagError("evaluate configuration", diags)
	}
	return st, false, nil
}

// begin evaluates a node's settings, or skips it when its condition is
// false, now or in the run being resumed. ended reports that the node
// ended here, with end and err.
func (r *run) begin(n *Node) (st settings, end nodeEnd, ended bool, err error) {
	if r.skippedBefore(n) {
		end, err = r.skipWhen(n)
		return st, end, true, err
	}
	st, skip, err := r.prepare(n)
	if err != nil {
		return st, nodeEnd{statusPending, nil}, true, err
	}
	if skip {
		end, err = r.skipWhen(n)
		return st, end, true, err
	}
	return st, nodeEnd{}, false, nil
}

func (r *run) resumeApproval(n *Node) (string, bool) {
	if r.opts.Resume == nil {
		return "", false
	}
	by, ok := r.opts.Resume.Approved[n.Addr]
	return by, ok
}

func (r *run) skippedBefore(n *Node) bool {
	return r.opts.Resume != nil && r.opts.Resume.Skipped[n.Addr] == SkipReasonWhen
}

func (r *run) runGate(n *Node) (nodeEnd, error) {
	if by, ok := r.resumeApproval(n); ok {
		v := cty.ObjectVal(map[string]cty.Value{"approved": cty.True, "by": cty.StringVal(by)})
		if err := r.emit(Event{Kind: GateApproved, Node: n.Addr, Actor: by, Reason: "approved in run " + r.opts.Resume.From}); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
		r.setStatus(n, statusDone, v, "")
		return nodeEnd{statusDone, nil}, nil
	}
	st, end, ended, err := r.begin(n)
	if ended {
		return end, err
	}
	prompt := st.prompt
	if prompt == "" {
		prompt = fmt.Sprintf("Continue past gate %s?", n.Name)
	}
	if r.opts.DryRun {
		if err := r.emit(Event{Kind: GateAsked, Node: n.Addr, Line: prompt, Reason: WouldAsk}); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
		r.setStatus(n, statusDone, cty.UnknownVal(gateType), "")
		return nodeEnd{statusDone, nil}, nil
	}
	ap, err := r.approve(n, GateRequest{Node: n.Addr, Prompt: prompt, Token: n.Name, Timeout: st.timeout})
	if err != nil || ap.refusal != nil {
		return nodeEnd{statusRefusedOr(ap.refusal), ap.refusal}, err
	}
	v := cty.ObjectVal(map[string]cty.Value{"approved": cty.True, "by": cty.StringVal(ap.by)})
	r.setStatus(n, statusDone, v, "")
	return nodeEnd{statusDone, nil}, nil
}

func statusRefusedOr(refusal error) nodeStatus {
	if refusal != nil {
		return statusRefused
	}
	return statusPending
}

func (r *run) skipWhen(n *Node) (nodeEnd, error) {
	if err := r.emit(Event{Kind: StepSkipped, Node: n.Addr, Reason: SkipReasonWhen}); err != nil {
		return nodeEnd{statusPending, nil}, err
	}
	r.setStatus(n, statusSkippedWhen, cty.NilVal, "")
	return nodeEnd{statusSkippedWhen, nil}, nil
}

// approval is a gate's answer: who approved it, or why it was refused.
type approval struct {
	by      string
	refusal error
}

// approve asks for a gate. It returns who approved, or a refusal, or an
// error when the run ended while asking.
func (r *run) approve(n *Node, req GateRequest) (approval, error) {
	req.RunID = r.opts.RunID
	if err := r.emit(Event{Kind: GateAsked, Node: n.Addr, Changes: req.Changes, Line: req.Prompt}); err != nil {
		return approval{}, err
	}
	refuse := func(actor, reason string) (approval, error) {
		err := r.emit(Event{Kind: GateRefused, Node: n.Addr, Actor: actor, Reason: reason})
		return approval{refusal: fmt.Errorf("%s refused: %s", n.Addr, reason)}, err
	}
	if r.opts.AutoApprove {
		err := r.emit(Event{Kind: GateApproved, Node: n.Addr, Actor: "auto-approve"})
		return approval{by: "auto-approve"}, err
	}
	if r.opts.Approver == nil {
		what := "gate " + n.Name
		if n.Kind == KindStep {
			what = "step " + n.Addr
		}
		return refuse("", what+" needs approval: run in a terminal or pass --auto-approve")
	}
	actx, cancel := r.within(req.Timeout)
	defer cancel()
	dec, aerr := r.opts.Approver.Approve(actx, req)
	switch {
	case r.ctx.Err() != nil:
		return approval{}, fmt.Errorf("asking for %s: %w", n.Addr, context.Cause(r.ctx))
	case aerr != nil && actx.Err() != nil:
		return refuse("", fmt.Sprintf("no answer within %s", req.Timeout))
	case aerr != nil:
		return refuse("", fmt.Sprintf("could not ask: %s", aerr))
	case !dec.Approved:
		reason := dec.Reason
		if reason == "" {
			reason = "refused"
		}
		return refuse(dec.By, reason)
	}
	if dec.By == "" {
		dec.By = "unknown"
	}
	err := r.emit(Event{Kind: GateApproved, Node: n.Addr, Actor: dec.By})
	return approval{by: dec.By}, err
}

func (r *run) runStep(n *Node) (nodeEnd, error) {
	typ := r.opts.Registry.typeOf(n)
	if r.opts.Resume != nil {
		if raw, ok := r.opts.Resume.Finished[n.Addr]; ok {
			v, err := OutputsFromJSON(typ.Outputs(), raw)
			if err != nil {
				return nodeEnd{statusPending, nil}, fmt.Errorf("restore outputs of %s from run %s: %w", n.Addr, r.opts.Resume.From, err)
			}
			if err := r.emit(Event{Kind: StepFinished, Node: n.Addr, Outputs: raw, Reason: "finished in run " + r.opts.Resume.From}); err != nil {
				return nodeEnd{statusPending, nil}, err
			}
			r.setStatus(n, statusDone, v, "")
			return nodeEnd{statusDone, nil}, nil
		}
	}
	st, end, ended, err := r.begin(n)
	if ended {
		return end, err
	}
	if r.opts.Drill != nil {
		if typ, st.cfg, err = r.drillStep(n, typ, st.cfg); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
	}
	if r.opts.DryRun || n.Confirm {
		changes, err := r.plan(n, typ, st)
		if err != nil {
			return nodeEnd{statusPending, nil}, fmt.Errorf("plan: %w", err)
		}
		if err := r.emit(Event{Kind: StepPlanned, Node: n.Addr, Changes: changes}); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
		prompt := n.Description
		if prompt == "" {
			prompt = fmt.Sprintf("Apply %s?", n.Addr)
		}
		if r.opts.DryRun {
			if n.Confirm {
				if err := r.emit(Event{Kind: GateAsked, Node: n.Addr, Changes: changes, Line: prompt, Reason: WouldAsk}); err != nil {
					return nodeEnd{statusPending, nil}, err
				}
			}
			r.setStatus(n, statusDone, cty.UnknownVal(typ.Outputs()), "")
			return nodeEnd{statusDone, nil}, nil
		}
		if by, ok := r.resumeApproval(n); ok {
			if err := r.emit(Event{Kind: GateApproved, Node: n.Addr, Actor: by, Reason: "approved in run " + r.opts.Resume.From}); err != nil {
				return nodeEnd{statusPending, nil}, err
			}
		} else {
			token := n.Name
			if br, ok := typ.(BlastRadiuser); ok {
				if t := br.BlastRadius(st.cfg); t != "" {
					token = t
				}
			}
			ap, err := r.approve(n, GateRequest{Node: n.Addr, Prompt: prompt, Token: token, Changes: changes})
			if refusal := ap.refusal; err != nil || refusal != nil {
				return nodeEnd{statusRefusedOr(refusal), refusal}, err
			}
		}
	}
	for attempt := 1; ; attempt++ {
		if err := r.emit(Event{Kind: StepStarted, Node: n.Addr, Attempt: attempt}); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
		began := r.now()
		out, err := r.apply(n, typ, st, attempt)
		if err == nil {
			raw, jerr := OutputsJSON(out)
			if jerr != nil {
				return nodeEnd{statusPending, nil}, fmt.Errorf("outputs: %w", jerr)
			}
			if err := r.emit(Event{Kind: StepFinished, Node: n.Addr, Attempt: attempt, Outputs: raw, Duration: r.now().Sub(began)}); err != nil {
				return nodeEnd{statusPending, nil}, err
			}
			r.setStatus(n, statusDone, out, "")
			return nodeEnd{statusDone, nil}, nil
		}
		if r.ctx.Err() != nil {
			return nodeEnd{statusCancelled, nil}, fmt.Errorf("cancelled (%s): %w", context.Cause(r.ctx), err)
		}
		if attempt >= st.attempts {
			if st.attempts > 1 {
				return nodeEnd{statusFailed, nil}, fmt.Errorf("attempt %d of %d: %w", attempt, st.attempts, err)
			}
			return nodeEnd{statusFailed, nil}, err
		}
		delay := r.backoff(st.backoff, attempt)
		if err := r.emit(Event{Kind: StepRetried, Node: n.Addr, Attempt: attempt, Error: err.Error(), Delay: delay}); err != nil {
			return nodeEnd{statusPending, nil}, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return nodeEnd{statusCancelled, nil}, fmt.Errorf("cancelled while waiting to retry: %w", context.Cause(r.ctx))
		}
	}
}

// within is the run's context, ended after timeout too when timeout is set.
func (r *run) within(timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(r.ctx, timeout)
	}
	return r.ctx, func() {}
}

// plan asks the step type what it would do, under the step's timeout: a
// plan that lists millions of object versions reports progress too.
func (r *run) plan(n *Node, typ StepType, st settings) ([]Change, error) {
	pctx, cancel := r.within(st.timeout)
	defer cancel()
	pr := &progressThrottle{r: r, node: n.Addr}
	defer pr.flush()
	changes, err := typ.Plan(pctx, r.stepContext(n, 0, pr), st.cfg)
	if err != nil && st.timeout > 0 && errors.Is(pctx.Err(), context.DeadlineExceeded) && r.ctx.Err() == nil {
		return nil, fmt.Errorf("timed out after %s: %w", st.timeout, err)
	}
	return changes, err
}

// apply runs one attempt under the step's timeout.
func (r *run) apply(n *Node, typ StepType, st settings, attempt int) (out cty.Value, err error) {
	actx, cancel := r.within(st.timeout)
	defer cancel()
	pr := &progressThrottle{r: r, node: n.Addr, attempt: attempt}
	sc := r.stepContext(n, attempt, pr)
	defer pr.flush()
	out, err = typ.Apply(actx, sc, st.cfg)
	if err != nil {
		if st.timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded) && r.ctx.Err() == nil {
			return cty.NilVal, fmt.Errorf("timed out after %s: %w", st.timeout, err)
		}
		return cty.NilVal, err
	}
	want := typ.Outputs()
	cv, cerr := convert.Convert(out, want)
	if cerr != nil {
		return cty.NilVal, fmt.Errorf("step type %s returned outputs that are not %s: %w", n.Type, want.FriendlyName(), cerr)
	}
	if !cv.IsWhollyKnown() {
		return cty.NilVal, fmt.Errorf("step type %s returned unknown outputs", n.Type)
	}
	return cv, nil
}

func (r *run) stepContext(n *Node, attempt int, pr *progressThrottle) *StepContext {
	sc := &StepContext{
		RunID: r.opts.RunID, Address: n.Addr, Attempt: attempt, DryRun: r.opts.DryRun,
		Target: r.opts.Target, Now: r.now,
		Progress: pr.report,
		Log: func(line string) {
			_ = r.emit(Event{Kind: StepLog, Node: n.Addr, Attempt: attempt, Line: line})
		},
	}
	return sc
}

// backoff is the delay before attempt+1: base doubling per attempt, capped
// at an hour, with equal jitter (half fixed, half random) so many retrying
// steps do not hit a throttled API in step.
func (r *run) backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	half := int64(d / 2)
	var j int64
	if r.opts.Rand != nil {
		r.randMu.Lock()
		j = r.opts.Rand.Int64N(half + 1)
		r.randMu.Unlock()
	} else {
		j = rand.Int64N(half + 1)
	}
	return time.Duration(half + j)
}

// progressThrottle turns a step's progress calls into at most one event per
// interval, plus the last one when the attempt ends.
type progressThrottle struct {
	r       *run
	node    string
	attempt int

	mu      sync.Mutex
	last    time.Time
	pending *Progress
}

func (p *progressThrottle) report(done, total int64, unit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pg := &Progress{Done: done, Total: total, Unit: unit}
	now := p.r.now()
	if !p.last.IsZero() && now.Sub(p.last) < p.r.opts.ProgressInterval {
		p.pending = pg
		return
	}
	p.last, p.pending = now, nil
	_ = p.r.emit(Event{Kind: StepProgress, Node: p.node, Attempt: p.attempt, Progress: pg})
}

func (p *progressThrottle) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending != nil {
		_ = p.r.emit(Event{Kind: StepProgress, Node: p.node, Attempt: p.attempt, Progress: p.pending})
		p.pending = nil
	}
}

// evalOutputs computes the runbook's outputs from what ran and renders
// them for run_finished, sensitive ones masked.
func (r *run) evalOutputs(res *Result) json.RawMessage {
	if len(r.rb.Outputs) == 0 {
		return nil
	}
	ctx, _ := r.sc.evalContext(r.rb.Nodes, r.rb.localOrder)
	shown := map[string]cty.Value{}
	for _, o := range r.rb.Outputs {
		v, diags := o.expr.Value(ctx)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		res.Outputs[o.Name] = v
		if o.Sensitive {
			shown[o.Name] = cty.StringVal("(sensitive)")
		} else {
			shown[o.Name] = v
		}
	}
	raw, err := OutputsJSON(cty.ObjectVal(shown))
	if err != nil {
		return nil
	}
	return raw
}
