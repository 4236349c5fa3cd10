package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
)

// The console runs, resumes, drills and tears down through the run
// service (internal/runner), which holds every rule that refuses or
// shapes a run, so a run started here obeys exactly what `drconsole run`
// and `drconsole drill` obey. This file only adapts the service to the
// console's loop, in two steps: a startRunMsg is checked against what
// the console itself forbids and handed to the service in a command
// (preparing reads the journal and the runbook and may probe the
// target); the preparedMsg it answers starts the run on its own
// goroutine, whose events and result come back through send.

// startRunMsg asks the root to start a run of rb (a plan when dry), a
// drill of it, or a resume of run resumeID with the variables given
// again.
type startRunMsg struct {
	rb       *runbook.Runbook
	vars     []string
	dry      bool
	drill    bool
	resumeID string
	// show switches to the live run in the Runbooks view once it starts.
	show bool
	// fromForm: the Runbooks form asked, and shows why if it is refused.
	fromForm bool
}

// launch is what Update sets up for a run it asks the service to
// prepare: the run's contexts and the approver its gates go to.
type launch struct {
	req startRunMsg
	// ctx bounds the run; flow the delivery of its events, which goes
	// on past a cancel until the result is in, so a cancelled drill's
	// teardown still shows as it happens.
	ctx, flow       context.Context
	cancel, release context.CancelFunc
	ap              *Approver
}

// preparedMsg is the service's answer to a launch: the prepared run (for
// a drill, drill as well), or why it is refused.
type preparedMsg struct {
	*launch
	run   *runner.Prepared
	drill *runner.PreparedDrill
	err   error
}

// startRun checks what the console forbids and returns the command that
// has the service prepare the run req asks for.
func (m *Model) startRun(req startRunMsg) tea.Cmd {
	e := m.env
	svc := e.opts.Runs
	refuse := func(text string) tea.Cmd {
		if req.fromForm {
			m.runbooks.refused(errors.New(text))
		}
		return status(text, true)
	}
	switch {
	case svc == nil && req.drill:
		return refuse("drills cannot run here: no engine configured")
	case svc == nil:
		return refuse("runbooks cannot run here: no engine configured")
	case req.drill && e.opts.ReadOnly:
		return refuse("read-only console: drills are disabled")
	case m.preparing || (m.run != nil && m.run.active()):
		return refuse("a run is already in progress: wait for it or cancel it (ctrl+x)")
	case !req.dry && e.opts.ReadOnly:
		return refuse("read-only console: runs are disabled (plans still work)")
	case m.send == nil:
		return refuse("the console is not attached to a terminal program")
	}
	l := &launch{req: req, ap: NewApprover(m.send, e.opts.Operator)}
	l.ctx, l.cancel = context.WithCancel(e.ctx)
	l.flow, l.release = context.WithCancel(e.ctx)
	m.preparing = true
	return func() tea.Msg { return l.prepare(svc) }
}

// prepare asks the service to check and prepare the launch. It runs in a
// command: it reads the journal and the runbook.
func (l *launch) prepare(svc *runner.Service) preparedMsg {
	req, msg := l.req, preparedMsg{launch: l}
	vars := runner.Vars{Flags: req.vars, FlagName: "field"}
	switch {
	case req.drill:
		msg.drill, msg.err = svc.PrepareDrill(l.ctx, runner.DrillRequest{Request: runner.Request{
			Runbook: req.rb, Vars: vars, DryRun: req.dry, Approver: l.ap}})
		if msg.drill != nil {
			msg.run = msg.drill.Prepared
		}
	case req.resumeID != "":
		msg.run, msg.err = svc.PrepareResume(l.ctx, runner.ResumeRequest{RunID: req.resumeID, Vars: vars, Approver: l.ap})
	default:
		msg.run, msg.err = svc.Prepare(l.ctx, runner.Request{Runbook: req.rb, Vars: vars, DryRun: req.dry, Approver: l.ap})
	}
	return msg
}

// started starts the run the service prepared, wiring its events and
// gates to the console, and makes it the live run.
func (m *Model) started(msg preparedMsg) tea.Cmd {
	m.preparing = false
	l := msg.launch
	if msg.err != nil || l.ctx.Err() != nil {
		// Refused, or the console is closing: nothing ran.
		l.cancel()
		l.release()
		if msg.err != nil {
			if l.req.fromForm {
				m.runbooks.refused(msg.err)
			}
			return status(errorText(msg.err), true)
		}
		return nil
	}
	p, send := msg.run, m.send
	fanin := NewFanin(p.ID, func(out tea.Msg) {
		if ev, ok := out.(runEventsMsg); ok {
			send(runMsg{events: &ev})
		}
	}, 100*time.Millisecond)
	p.Sink = fanin
	// The approver flushes the run's events before it opens a gate, so
	// the screen shows the gate waiting before the modal asks. It asks
	// only once the run below executes.
	l.ap.flush = fanin.Flush
	r := newRunState(p.Runbook, l.req.dry)
	r.live, r.cancel, r.release, r.drill = true, l.cancel, l.release, l.req.drill
	r.id, r.fanin = p.ID, fanin
	m.run = r
	m.setStatus("", false)
	go fanin.Run(l.flow)
	// The result comes back through send, like the run's events, so no
	// command stays pending for the length of the run.
	go func() {
		rd := execute(l.ctx, msg)
		// The run's last events go before its end, so the screen never
		// shows an ended run whose steps have not caught up.
		fanin.Flush()
		send(runMsg{done: &rd})
	}()
	m.runbooks.runStarted(m.env, p.ID, l.req.show)
	if l.req.show && m.active != viewRunbooks {
		return m.switchTo(viewRunbooks)
	}
	return nil
}

// execute runs the prepared run or drill to its end.
func execute(ctx context.Context, msg preparedMsg) runDone {
	if d := msg.drill; d != nil {
		out, err := d.Execute(ctx)
		rd := runDone{id: d.ID, err: err}
		if out != nil {
			rd.res, rd.report = out.Result, out.Report
			if out.TeardownErr != nil {
				rd.err = errors.Join(rd.err, out.TeardownErr)
			}
		}
		rd.res = orFailed(rd.res, err)
		return rd
	}
	res, err := msg.run.Execute(ctx)
	return runDone{id: msg.run.ID, res: orFailed(res, err)}
}

// orFailed is res, or a failed result saying err when the run could not
// start (its journal could not be opened).
func orFailed(res *runbook.Result, err error) *runbook.Result {
	if res != nil {
		return res
	}
	return &runbook.Result{Status: runbook.StatusFailed, Err: err}
}

// generatedRun writes a runbook the console generates (text) as file in
// the state directory, so the run can be resumed like any other, and asks
// the root to run it with vars through the engine and show it: it is
// journalled, its gate shows the change, and the Runs view keeps it. what
// names the action in errors.
func generatedRun(e *env, what, file, text string, vars []string) tea.Cmd {
	o := e.opts
	dir := o.StateDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, file)
	return func() tea.Msg {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return statusMsg{text: fmt.Sprintf("%s: %v", what, err), err: true}
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return statusMsg{text: fmt.Sprintf("%s: %v", what, err), err: true}
		}
		rb, _, err := o.Runs.Load(path)
		if err != nil {
			return statusMsg{text: fmt.Sprintf("%s: %v", what, err), err: true}
		}
		return startRunMsg{rb: rb, vars: vars, show: true}
	}
}
