package tui

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

// DrillService is what the console needs for game-day drills. A
// RunService that implements it lets the Runbooks view start drills and
// the Runs view show their reports and finish their teardowns.
type DrillService interface {
	// StartDrill drills rb (a plan of the drill when dryRun) with vars as
	// name=value pairs. It returns the run id at once; done delivers the
	// outcome (its Report nil for a plan).
	StartDrill(ctx context.Context, rb *runbook.Runbook, vars []string, dryRun bool, sink func(runID string) runbook.Sink, ap runbook.Approver) (runID string, done <-chan DrillDone, err error)
	// DrillReport is a drill's report: the one it wrote, else measured
	// again from its journal.
	DrillReport(runID string) (*drill.Report, error)
	// Teardown finishes the teardown of a drill, its events to sink, and
	// returns the report with the new teardown summary.
	Teardown(ctx context.Context, runID string, sink runbook.Sink) (*drill.Report, error)
}

// DrillDone is how a drill the console started ended.
type DrillDone struct {
	Outcome *drill.Outcome
	// Err means the drill did not start (refused, bad faults) or its
	// report could not be written.
	Err error
}

// StartDrill implements DrillService.
func (s *EngineRuns) StartDrill(ctx context.Context, rb *runbook.Runbook, vars []string, dryRun bool, sink func(string) runbook.Sink, ap runbook.Approver) (string, <-chan DrillDone, error) {
	if diags := runbook.CheckDrill(rb, s.Registry); diags.HasErrors() {
		return "", nil, &drill.DiagError{Diags: diags}
	}
	// Refused before anything is journalled: faults reach only the
	// sandbox the console embeds.
	faults, err := drill.FromRunbook(rb)
	if err != nil {
		return "", nil, fmt.Errorf("drill: %w", err)
	}
	if len(faults) > 0 && s.Injector == nil {
		return "", nil, errors.New("drill: faults can only be injected into the embedded sandbox; against AWS, rehearse failures with AWS Fault Injection Service")
	}
	o, w, err := s.create(rb, vars, dryRun, "drill")
	if err != nil {
		return "", nil, err
	}
	id := o.RunID
	o = s.options(o, w, sink(id), ap)
	done := make(chan DrillDone, 1)
	go func() {
		res, err := drill.Run(ctx, drill.Options{Runbook: rb, Run: o, Injector: s.Injector, Teardown: s.Registry})
		err = errors.Join(err, w.Close())
		if err == nil && res != nil && res.Report != nil {
			if werr := res.Report.Write(s.Store.RunDir(id)); werr != nil {
				err = fmt.Errorf("drill %s: %w", id, werr)
			}
		}
		done <- DrillDone{Outcome: res, Err: err}
	}()
	return id, done, nil
}

// DrillReport implements DrillService.
func (s *EngineRuns) DrillReport(runID string) (*drill.Report, error) {
	if !journal.ValidRunID(runID) {
		return nil, fmt.Errorf("read drill report: invalid run id %q", runID)
	}
	if rep, err := drill.ReadReport(s.Store.RunDir(runID)); err == nil {
		return rep, nil
	}
	// No report: the drill was interrupted before it wrote one.
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

// Teardown implements DrillService.
func (s *EngineRuns) Teardown(ctx context.Context, runID string, sink runbook.Sink) (*drill.Report, error) {
	prev, err := s.Store.Read(runID)
	if err != nil {
		return nil, fmt.Errorf("teardown: %w", err)
	}
	if prev.Info.Drill == nil {
		return nil, fmt.Errorf("teardown: run %s is not a drill", runID)
	}
	events, err := s.Store.Events(runID)
	if err != nil {
		return nil, fmt.Errorf("teardown: %w", err)
	}
	rb, _ := runbook.Load(prev.Info.RunbookPath, s.Registry)
	var ferr error
	if s.Injector != nil && len(prev.Info.Drill.Faults) > 0 {
		if _, err := drill.RemoveFaults(ctx, s.Injector, prev.Info.Drill.Faults); err != nil {
			ferr = fmt.Errorf("teardown %s: remove faults: %w", runID, err)
		}
	}
	w, err := s.Store.Append(runID, journal.NewRedactor(os.Environ()))
	if err != nil {
		return nil, fmt.Errorf("teardown %s: %w", runID, err)
	}
	sum, terr := drill.Teardown(ctx, drill.TeardownOptions{RunID: runID, Events: events, Registry: s.Registry, Runbook: rb, Now: s.Now,
		Sink: journalFirst(w, sink)})
	if err := w.Close(); err != nil && terr == nil {
		terr = fmt.Errorf("teardown %s: %w", runID, err)
	}
	rep := drill.NewReport(events, rb, s.Target)
	rep.Teardown = sum
	if err := rep.Write(s.Store.RunDir(runID)); err != nil {
		terr = errors.Join(terr, fmt.Errorf("teardown %s: %w", runID, err))
	}
	return rep, errors.Join(ferr, terr)
}
