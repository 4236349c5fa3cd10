package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Options control one drill.
type Options struct {
	Runbook *runbook.Runbook
	// Run are the engine's options (RunID, Vars, Registry, Approver, Sink,
	// ...). Drill and DrillInfo are filled in by Run.
	Run runbook.Options
	// TargetBucket and TargetPrefix override the runbook's drill block
	// (--drill-target).
	TargetBucket, TargetPrefix string
	// IncidentAt is when the rehearsed incident happened; zero: the
	// drill's start.
	IncidentAt time.Time
	// Faults are injected besides the runbook's own.
	Faults []Fault
	// Injector reaches the sandbox; nil refuses every fault (the target is
	// AWS).
	Injector Injector
	// Teardown holds the step types that undo the drill, with clients that
	// may write; nil takes Run.Registry.
	Teardown runbook.Registry
}

// Outcome is how a drill went.
type Outcome struct {
	Result *runbook.Result
	// Report is nil for a dry-run.
	Report *Report
	// TeardownErr is set when something could not be undone; the report
	// lists what.
	TeardownErr error
}

// recorder keeps a copy of every event and starts the faults that wait
// for a step, before the step acts.
type recorder struct {
	next   runbook.Sink
	faults *faultSession
	ctx    context.Context

	mu     sync.Mutex
	events []runbook.Event
}

func (r *recorder) Emit(e runbook.Event) error {
	if r.faults != nil && e.Kind == runbook.StepStarted && e.Attempt <= 1 {
		if err := r.faults.stepStarting(r.ctx, e.Node); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.next == nil {
		return nil
	}
	return r.next.Emit(e)
}

func (r *recorder) all() []runbook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// cleanupTimeout bounds removing faults after a drill, which must happen
// even when the drill was cancelled.
const cleanupTimeout = 30 * time.Second

// Run runs a drill: it refuses steps that cannot be made safe, injects the
// faults asked for, runs the runbook in drill mode, removes the faults,
// tears down what the drill created (also after a failure or a cancel)
// and measures the drill. An error means the drill did not start.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	rb := o.Runbook
	if rb == nil {
		return nil, errors.New("drill: no runbook")
	}
	reg := o.Run.Registry
	if diags := runbook.CheckDrill(rb, reg); diags.HasErrors() {
		return nil, &runbook.DiagError{What: "drill refused", Diags: diags, Sources: rb.Files}
	}
	d := runbook.Drill{ID: o.Run.RunID}
	if rb.Drill != nil {
		var diags hcl.Diagnostics
		d.TargetBucket, d.TargetPrefix, diags = rb.Drill.Resolve(o.Run.Vars)
		if diags.HasErrors() {
			return nil, &runbook.DiagError{What: "drill target", Diags: diags, Sources: rb.Files}
		}
	}
	if o.TargetBucket != "" {
		d.TargetBucket, d.TargetPrefix = o.TargetBucket, o.TargetPrefix
	}
	faults, err := FromRunbook(rb)
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	faults = append(faults, o.Faults...)
	if len(faults) > 0 && o.Injector == nil {
		return nil, errors.New("drill: faults can only be injected into the sandbox; against AWS, rehearse failures with AWS Fault Injection Service")
	}
	for _, f := range faults {
		if f.AtStep != "" && rb.Node(f.AtStep) == nil {
			return nil, fmt.Errorf("drill: fault %q waits for %s, which the runbook does not have", f.Spec, f.AtStep)
		}
	}
	if o.IncidentAt.IsZero() {
		t, err := incidentVar(rb, o.Run.Vars)
		if err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
		o.IncidentAt = t
	}
	info := &runbook.DrillInfo{TargetBucket: d.TargetBucket, TargetPrefix: d.TargetPrefix}
	if !o.IncidentAt.IsZero() {
		info.IncidentAt = o.IncidentAt.UTC().Format(time.RFC3339)
	}
	for _, f := range faults {
		info.Faults = append(info.Faults, f.Spec)
	}

	rec := &recorder{next: o.Run.Sink, ctx: ctx}
	var session *faultSession
	if len(faults) > 0 && !o.Run.DryRun {
		if session, err = startFaults(ctx, o.Injector, faults); err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
		rec.faults = session
	}
	opts := o.Run
	opts.Drill, opts.DrillInfo, opts.Sink = &d, info, rec
	res := runbook.Execute(ctx, rb, opts)
	out := &Outcome{Result: res}

	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var faultErr error
	if session != nil {
		faultErr = session.stop(cleanup)
	}
	if o.Run.DryRun {
		return out, faultErr
	}
	events := rec.all()
	treg := o.Teardown
	if treg == nil {
		treg = reg
	}
	// Teardown runs whatever happened to the drill: a cancelled drill
	// still leaves nothing behind.
	sum, terr := Teardown(context.WithoutCancel(ctx), TeardownOptions{
		RunID: o.Run.RunID, Events: events, Registry: treg, Runbook: rb, Sink: o.Run.Sink, Now: o.Run.Now,
	})
	out.TeardownErr = errors.Join(faultErr, terr)
	rep := NewReport(events, rb, o.Run.Target)
	rep.Teardown = sum
	out.Report = rep
	return out, nil
}

// IncidentVar is the variable a runbook may declare to say when the
// rehearsed incident happened, as --incident-at does.
const IncidentVar = "incident_at"

// incidentVar reads the incident_at variable when the runbook declares it
// and it is set (or has a default): an RFC 3339 time.
func incidentVar(rb *runbook.Runbook, vars map[string]cty.Value) (time.Time, error) {
	v, ok := vars[IncidentVar]
	if !ok {
		for _, decl := range rb.Variables {
			if decl.Name == IncidentVar && decl.HasDefault {
				v, ok = decl.Default, true
			}
		}
	}
	if !ok || !v.IsKnown() || v.IsNull() || v.Type() != cty.String || v.AsString() == "" {
		return time.Time{}, nil
	}
	t, err := runbook.ParseTime(v.AsString())
	if err != nil {
		return time.Time{}, fmt.Errorf("variable %s: %w", IncidentVar, err)
	}
	return t, nil
}

// NewReport measures a drill from its events (those of the run; teardown
// events are ignored). rb gives the graph and objectives; it may be nil
// when the runbook is no longer at hand.
func NewReport(events []runbook.Event, rb *runbook.Runbook, target string) *Report {
	rep := &Report{Target: target, Teardown: TeardownSummary{Status: "not run"}}
	var nodes []PathNode
	var obj *runbook.Objectives
	if rb != nil {
		for _, n := range rb.Order() {
			nodes = append(nodes, PathNode{Addr: n.Addr, Deps: n.Deps})
		}
		obj = rb.Objectives
		rep.Runbook = rb.Path
	}
	var run []runbook.Event
	for _, e := range events {
		if isTeardown(e.Kind) {
			continue
		}
		if e.Kind == runbook.RunStarted && e.Run != nil {
			rep.RunID = e.RunID
			if rep.Runbook == "" {
				rep.Runbook = e.Run.RunbookPath
			}
			if rep.Target == "" {
				rep.Target = e.Run.Target
			}
			if e.Run.Drill != nil {
				rep.Faults = e.Run.Drill.Faults
				if t, err := time.Parse(time.RFC3339, e.Run.Drill.IncidentAt); err == nil {
					rep.IncidentAt, rep.IncidentDeclared = t, true
				}
			}
		}
		run = append(run, e)
	}
	rep.measure(run, nodes, obj)
	return rep
}

func isTeardown(k runbook.EventKind) bool {
	switch k {
	case runbook.TeardownStarted, runbook.TeardownAction, runbook.TeardownFailed, runbook.TeardownFinished:
		return true
	}
	return false
}

// TeardownOptions are what a teardown needs: the drill's events, from the
// run itself or read back from its journal.
type TeardownOptions struct {
	RunID    string
	Events   []runbook.Event
	Registry runbook.Registry
	// Runbook supplies step types missing from Registry; it may be nil.
	Runbook *runbook.Runbook
	Sink    runbook.Sink // teardown events go here (the journal)
	Now     func() time.Time
}

// drilledStep is a step the drill prepared, with what teardown needs.
type drilledStep struct {
	node    string
	rec     *runbook.DrillRecord
	started bool
	outputs []byte
	logs    []string
}

// Teardown undoes what a drill created, step by step in the reverse of
// the order they started (so after everything that depended on them), each
// action journalled as it is done. A step whose teardown fails is
// reported and the others still run. Running it again is harmless: what
// is already undone is found so and skipped.
func Teardown(ctx context.Context, o TeardownOptions) (TeardownSummary, error) {
	sum := TeardownSummary{Status: "finished"}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	var (
		d        runbook.Drill
		isDrill  bool
		dry      bool
		steps    []*drilledStep
		byNode   = map[string]*drilledStep{}
		tornDown bool // teardown's own log lines are not the step's
	)
	for _, e := range o.Events {
		switch e.Kind {
		case runbook.RunStarted:
			if e.Run != nil && e.Run.Drill != nil && !isDrill {
				isDrill, dry = true, e.Run.DryRun
				d = runbook.Drill{ID: o.RunID, TargetBucket: e.Run.Drill.TargetBucket, TargetPrefix: e.Run.Drill.TargetPrefix}
			}
		case runbook.StepDrilled:
			if byNode[e.Node] == nil && e.Drill != nil {
				s := &drilledStep{node: e.Node, rec: e.Drill}
				byNode[e.Node] = s
				steps = append(steps, s)
			}
		case runbook.StepStarted:
			if s := byNode[e.Node]; s != nil {
				s.started = true
			}
		case runbook.StepFinished:
			if s := byNode[e.Node]; s != nil {
				s.outputs = e.Outputs
			}
		case runbook.StepLog:
			if s := byNode[e.Node]; s != nil && !tornDown {
				s.logs = append(s.logs, e.Line)
			}
		case runbook.TeardownStarted:
			tornDown = true
		}
	}
	if !isDrill {
		return sum, fmt.Errorf("teardown: run %s is not a drill", o.RunID)
	}
	if dry {
		sum.Status = "not run"
		return sum, nil
	}
	emit := func(e runbook.Event) error {
		e.Time, e.RunID = now(), o.RunID
		if o.Sink == nil {
			return nil
		}
		return o.Sink.Emit(e)
	}
	if err := emit(runbook.Event{Kind: runbook.TeardownStarted}); err != nil {
		return sum, fmt.Errorf("teardown: %w", err)
	}
	var errs []error
	for _, s := range slices.Backward(steps) {
		if !s.started {
			continue
		}
		typ := o.Registry[s.rec.Type]
		if typ == nil && o.Runbook != nil {
			if n := o.Runbook.Node(s.node); n != nil {
				typ = n.StepType
			}
		}
		td, ok := typ.(runbook.TearDowner)
		if !ok {
			continue // nothing to undo: read-only or drill_safe
		}
		err := teardownStep(ctx, td, typ, d, s, now, func(c runbook.Change) {
			sum.Actions = append(sum.Actions, TeardownRecord{Node: s.node, Action: c})
			_ = emit(runbook.Event{Kind: runbook.TeardownAction, Node: s.node, Changes: []runbook.Change{c}})
		}, func(line string) {
			_ = emit(runbook.Event{Kind: runbook.StepLog, Node: s.node, Line: line})
		})
		if err != nil {
			sum.Errors = append(sum.Errors, StepFailure{Node: s.node, Error: err.Error()})
			_ = emit(runbook.Event{Kind: runbook.TeardownFailed, Node: s.node, Error: err.Error()})
			errs = append(errs, fmt.Errorf("%s: %w", s.node, err))
		}
	}
	fin := runbook.Event{Kind: runbook.TeardownFinished, Status: runbook.StatusSucceeded}
	if err := errors.Join(errs...); err != nil {
		sum.Status = "failed"
		fin.Status, fin.Error = runbook.StatusFailed, err.Error()
	}
	if err := emit(fin); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return sum, fmt.Errorf("teardown: %w", err)
	}
	return sum, nil
}

func teardownStep(ctx context.Context, td runbook.TearDowner, typ runbook.StepType, d runbook.Drill, s *drilledStep,
	now func() time.Time, action func(runbook.Change), logf func(string)) error {
	cfg := cty.EmptyObjectVal
	if len(s.rec.Config) > 0 {
		v, err := runbook.OutputsFromJSON(cty.DynamicPseudoType, s.rec.Config)
		if err != nil {
			return fmt.Errorf("read the drill configuration: %w", err)
		}
		cfg = v
	}
	outs := cty.NullVal(typ.Outputs())
	if len(s.outputs) > 0 {
		v, err := runbook.OutputsFromJSON(typ.Outputs(), s.outputs)
		if err != nil {
			return fmt.Errorf("read the step's outputs: %w", err)
		}
		outs = v
	}
	sc := &runbook.StepContext{RunID: d.ID, Address: s.node, Attempt: 1, Now: now, Log: logf,
		Progress: func(int64, int64, string) {}}
	return td.Teardown(ctx, sc, runbook.TeardownRequest{Drill: d, Config: cfg, Outputs: outs, State: s.rec.State,
		Logs: s.logs, Action: action})
}
