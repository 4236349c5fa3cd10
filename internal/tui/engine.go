package tui

import (
	tea "charm.land/bubbletea/v2"

	"context"
	"errors"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
)

// The console runs, resumes, drills and tears down through the run
// service (internal/runner), which holds every rule that refuses or
// shapes a run, so a run started here obeys exactly what `drconsole run`
// and `drconsole drill` obey. This file only adapts the service's
// prepared runs to the console's messages: the run executes in the
// background and its result comes back on a channel.

// startRun starts rb (a plan when dry), or resumes run resumeID with the
// variables given again, and returns the commands that follow it.
func (m *Model) startRun(rb *runbook.Runbook, vars []string, dry bool, resumeID string) tea.Cmd {
	svc := m.env.opts.Runs
	if svc == nil {
		return status("runbooks cannot run here: no engine configured", true)
	}
	return m.launch(dry, false, func(ctx context.Context, sink func(string) runbook.Sink, ap runbook.Approver) (string, *runbook.Runbook, <-chan runDone, error) {
		var (
			p   *runner.Prepared
			err error
		)
		if resumeID != "" {
			p, err = svc.PrepareResume(ctx, runner.ResumeRequest{RunID: resumeID, Vars: runner.Vars{Flags: vars}, Approver: ap})
		} else {
			p, err = svc.Prepare(ctx, runner.Request{Runbook: rb, Vars: runner.Vars{Flags: vars}, DryRun: dry, Approver: ap})
		}
		if err != nil {
			return "", rb, nil, err
		}
		p.Sink = sink(p.ID)
		done := make(chan runDone, 1)
		go func() {
			res, err := p.Execute(ctx)
			done <- runDone{id: p.ID, res: orFailed(res, err)}
		}()
		return p.ID, p.Runbook, done, nil
	})
}

// startDrill drills rb (a plan of the drill when dry) and returns the
// commands that follow it.
func (m *Model) startDrill(rb *runbook.Runbook, vars []string, dry bool) tea.Cmd {
	e := m.env
	svc := e.opts.Runs
	switch {
	case svc == nil:
		return status("drills cannot run here: no engine configured", true)
	case e.opts.ReadOnly:
		return status("read-only console: drills are disabled", true)
	}
	return m.launch(dry, true, func(ctx context.Context, sink func(string) runbook.Sink, ap runbook.Approver) (string, *runbook.Runbook, <-chan runDone, error) {
		d, err := svc.PrepareDrill(ctx, runner.DrillRequest{Request: runner.Request{Runbook: rb, Vars: runner.Vars{Flags: vars}, DryRun: dry, Approver: ap}})
		if err != nil {
			return "", rb, nil, err
		}
		d.Sink = sink(d.ID)
		done := make(chan runDone, 1)
		go func() {
			out, err := d.Execute(ctx)
			rd := runDone{id: d.ID, err: err}
			if out != nil {
				rd.res, rd.report = out.Result, out.Report
				if out.TeardownErr != nil {
					rd.err = errors.Join(rd.err, out.TeardownErr)
				}
			}
			rd.res = orFailed(rd.res, err)
			done <- rd
		}()
		return d.ID, rb, done, nil
	})
}

// orFailed is res, or a failed result saying err when the run could not
// start (its journal could not be opened).
func orFailed(res *runbook.Result, err error) *runbook.Result {
	if res != nil {
		return res
	}
	return &runbook.Result{Status: runbook.StatusFailed, Err: err}
}
