package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
)

// DrillRequest is a game-day drill of one runbook.
type DrillRequest struct {
	Request
	// TargetBucket and TargetPrefix override the runbook's drill block.
	TargetBucket, TargetPrefix string
	// IncidentAt is when the rehearsed incident happened; zero: the
	// runbook's incident_at variable, else the drill's start.
	IncidentAt time.Time
	// Faults are injected besides the runbook's own.
	Faults []drill.Fault
}

// PreparedDrill is a drill that passed every check and has its id.
type PreparedDrill struct {
	*Prepared
	opts drill.Options
}

// errNoInjector is why a drill with faults is refused on a target the
// service cannot steer.
var errNoInjector = errors.New("faults can only be injected into the sandbox (the embedded one, or `drconsole sandbox` on this machine); " +
	"against AWS, rehearse failures with AWS Fault Injection Service")

// PrepareDrill checks a drill of req.Runbook: every step must be drillable
// or say drill_safe, faults need a sandbox to go to, and the variables
// must resolve. Nothing is journalled and no AWS call is made before it
// passes.
func (s *Service) PrepareDrill(ctx context.Context, req DrillRequest) (*PreparedDrill, error) {
	rb := req.Runbook
	if rb == nil {
		return nil, errors.New("no runbook to drill")
	}
	if diags := runbook.CheckDrill(rb, s.Registry); diags.HasErrors() {
		return nil, &runbook.DiagError{What: rb.Path + " cannot run as a drill", Diags: diags, Sources: rb.Files}
	}
	faults, err := drill.FromRunbook(rb)
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	if (len(faults) > 0 || len(req.Faults) > 0) && s.Injector == nil {
		return nil, fmt.Errorf("drill: %w", errNoInjector)
	}
	p, err := s.prepare(ctx, req.Request, nil, "")
	if err != nil {
		return nil, err
	}
	if (len(faults) > 0 || len(req.Faults) > 0) && !req.DryRun {
		// A sandbox that will not take the faults (its admin token is
		// missing or wrong) refuses the drill here, not once it has begun.
		if _, err := s.Injector.Faults(ctx); err != nil {
			return nil, refuse("drill: the sandbox does not take faults: %w", err)
		}
	}
	return &PreparedDrill{Prepared: p, opts: drill.Options{
		Runbook: rb, TargetBucket: req.TargetBucket, TargetPrefix: req.TargetPrefix,
		IncidentAt: req.IncidentAt, Faults: req.Faults, Injector: s.Injector, Teardown: s.Registry,
	}}, nil
}

// Plan runs the drill as a dry run, unjournalled, its events to sink: the
// operator sees what every step redirects before anything acts.
func (d *PreparedDrill) Plan(ctx context.Context, sink runbook.Sink) (*runbook.Result, error) {
	o := d.opts
	o.Run = d.Prepared.opts
	o.Run.DryRun, o.Run.Registry, o.Run.Approver = true, d.svc.dryRegistry(), nil
	o.Run.Sink = d.svc.sink(nil, d.redactor, sink)
	out, err := drill.Run(ctx, o)
	if err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Execute runs the drill, its teardown and its measurement, and writes
// the report into the run's directory. err is set when the drill could
// not start (res nil) or its journal or report could not be written.
func (d *PreparedDrill) Execute(ctx context.Context) (*drill.Outcome, error) {
	w, err := d.open()
	if err != nil {
		return nil, err
	}
	o := d.opts
	o.Run = d.Prepared.opts
	o.Run.Sink = d.svc.sink(w, d.redactor, d.Sink)
	out, err := drill.Run(ctx, o)
	if w == nil {
		return out, err
	}
	if cerr := w.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close journal of drill %s: %w", d.ID, cerr))
	}
	if out != nil && out.Report != nil {
		if werr := out.Report.Write(d.svc.Store.RunDir(d.ID)); werr != nil {
			err = errors.Join(err, fmt.Errorf("drill %s: %w", d.ID, werr))
		}
	}
	return out, err
}

// Refusal is an error that refused what was asked before anything was
// done: a front end reports it as a usage error.
type Refusal struct{ Err error }

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(format string, args ...any) error {
	return &Refusal{Err: fmt.Errorf(format, args...)}
}

// Teardown is how a teardown of an earlier drill went.
type Teardown struct {
	// Report is the drill's report with the new teardown summary.
	Report *drill.Report
	// FaultsRemoved counts the faults the drill had left in the sandbox.
	FaultsRemoved int
	// Actions counts what the teardown did.
	Actions int
}

// Teardown finishes the teardown of drill runID from its journal: it
// removes the faults the drill left, undoes what the drill created,
// appends what it does to the drill's journal (its events also to sink)
// and writes the report again. A *Refusal means nothing was done.
func (s *Service) Teardown(ctx context.Context, runID string, sink runbook.Sink) (*Teardown, error) {
	if s.Store == nil {
		return nil, refuse("teardown %s: no state directory is configured", runID)
	}
	prev, err := s.Store.Read(runID)
	if err != nil {
		return nil, &Refusal{Err: fmt.Errorf("teardown: %w", err)}
	}
	if prev.Info.Drill == nil {
		return nil, refuse("teardown: run %s is not a drill", runID)
	}
	events, err := s.Store.Events(runID)
	if err != nil {
		return nil, &Refusal{Err: fmt.Errorf("teardown: %w", err)}
	}
	if s.Preflight != nil && drilledAny(events) {
		if err := s.Preflight(ctx); err != nil {
			return nil, &Refusal{Err: fmt.Errorf("teardown: %w", err)}
		}
	}
	// The runbook gives the graph for the report; the teardown itself
	// needs only the journal.
	rb, _ := runbook.Load(prev.Info.RunbookPath, s.Registry)
	redactor := journal.NewRedactor(s.Env)
	w, err := s.Store.Append(runID, redactor)
	if err != nil {
		return nil, &Refusal{Err: fmt.Errorf("teardown %s: %w", runID, err)}
	}
	out := &Teardown{}
	var ferr error
	if s.Injector != nil && len(prev.Info.Drill.Faults) > 0 {
		if out.FaultsRemoved, err = drill.RemoveFaults(ctx, s.Injector, prev.Info.Drill.Faults); err != nil {
			ferr = fmt.Errorf("teardown %s: remove faults: %w", runID, err)
		}
	}
	count := runbook.SinkFunc(func(e runbook.Event) error {
		if e.Kind == runbook.TeardownAction {
			out.Actions++
		}
		return nil
	})
	sum, terr := drill.Teardown(ctx, drill.TeardownOptions{RunID: runID, Events: events, Registry: s.Registry, Runbook: rb, Now: s.Now,
		Sink: s.sink(w, redactor, output.Multi(count, sink))})
	if err := w.Close(); err != nil && terr == nil {
		terr = fmt.Errorf("teardown %s: %w", runID, err)
	}
	out.Report = drill.NewReport(events, rb, s.Target)
	out.Report.Teardown = sum
	if err := out.Report.Write(s.Store.RunDir(runID)); err != nil {
		terr = errors.Join(terr, fmt.Errorf("teardown %s: %w", runID, err))
	}
	return out, errors.Join(ferr, terr)
}

// drilledAny reports whether a drill's journal records a drilled step,
// which is what a teardown undoes through AWS.
func drilledAny(events []runbook.Event) bool {
	for _, e := range events {
		if e.Kind == runbook.StepDrilled {
			return true
		}
	}
	return false
}

// DrillReport is a drill's report: the one it wrote, else measured again
// from its journal (the drill was interrupted before it wrote one).
func (s *Service) DrillReport(runID string) (*drill.Report, error) {
	if !journal.ValidRunID(runID) {
		return nil, fmt.Errorf("read drill report: invalid run id %q", runID)
	}
	if rep, err := drill.ReadReport(s.Store.RunDir(runID)); err == nil {
		return rep, nil
	}
	prev, err := s.Store.Read(runID)
	if err != nil {
		return nil, fmt.Errorf("read drill report: %w", err)
	}
	if prev.Info.Drill == nil {
		return nil, fmt.Errorf("read drill report: run %s is not a drill", runID)
	}
	events, err := s.Store.Events(runID)
	if err != nil {
		return nil, fmt.Errorf("read drill report: %w", err)
	}
	// The runbook gives the graph; without it the report still has the
	// steps and their times.
	rb, _ := runbook.Load(prev.Info.RunbookPath, s.Registry)
	return drill.NewReport(events, rb, s.Target), nil
}
