package runbook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// prepare evaluates a node's condition and settings against what has run.
// skip reports a false condition.
func (r *run) prepare(n *Node) (st settings, skip bool, err error) {
	ctx, diags := r.sc.evalContext(n.scopeNodes, n.scopeLocals)
	if diags.HasErrors() {
		return st, false, DiagsError("evaluate locals", diags)
	}
	ok, diags := n.evalWhen(ctx)
	if diags.HasErrors() {
		return st, false, DiagsError("evaluate when", diags)
	}
	if !ok {
		return st, true, nil
	}
	st, diags = n.evalSettings(ctx)
	if diags.HasErrors() {
		return st, false, DiagsError("evaluate configuration", diags)
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

func (r *run) skippedBefore(n *Node) bool {
	return r.opts.Resume != nil && r.opts.Resume.Skipped[n.Addr] == SkipReasonWhen
}

func (r *run) skipWhen(n *Node) (nodeEnd, error) {
	return r.settle(n, Event{Kind: StepSkipped, Node: n.Addr, Reason: SkipReasonWhen}, statusSkippedWhen, cty.NilVal)
}

// settle records e, then ends n with status st and value v (cty.NilVal:
// none). A node that is resumed, skipped or only planned ends this way.
func (r *run) settle(n *Node, e Event, st nodeStatus, v cty.Value) (nodeEnd, error) {
	if err := r.emit(e); err != nil {
		return nodeEnd{statusPending, nil}, err
	}
	r.setStatus(n, st, v, "")
	return nodeEnd{st, nil}, nil
}

func (r *run) runStep(n *Node) (nodeEnd, error) {
	typ := r.opts.Registry.typeOf(n)
	if r.opts.Resume != nil {
		if raw, ok := r.opts.Resume.Finished[n.Addr]; ok {
			v, err := OutputsFromJSON(typ.Outputs(), raw)
			if err != nil {
				return nodeEnd{statusPending, nil}, fmt.Errorf("restore outputs of %s from run %s: %w", n.Addr, r.opts.Resume.From, err)
			}
			return r.settle(n, Event{Kind: StepFinished, Node: n.Addr, Outputs: raw, Reason: "finished in run " + r.opts.Resume.From}, statusDone, v)
		}
	}
	st, end, ended, err := r.begin(n)
	if ended {
		return end, err
	}
	// The token names the resource as the runbook wrote it, before a
	// drill redirects the step.
	tokenCfg := st.cfg
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
			// A step that changes nothing, or that the gate before it
			// confirms, would not ask.
			if n.Confirm && len(changes) > 0 && n.coveredBy == nil {
				if err := r.emit(Event{Kind: GateAsked, Node: n.Addr, Changes: changes, Line: prompt, Reason: WouldAsk}); err != nil {
					return nodeEnd{statusPending, nil}, err
				}
			}
			r.setStatus(n, statusDone, cty.UnknownVal(typ.Outputs()), "")
			return nodeEnd{statusDone, nil}, nil
		}
		cv, confirmed := r.confirmation(n, changes)
		switch by, resumed := r.resumeApproval(n); {
		case len(changes) == 0:
			// Nothing to confirm: asking would only teach operators to
			// approve without reading.
		case resumed:
			if err := r.emit(r.resumedApproval(n, by)); err != nil {
				return nodeEnd{statusPending, nil}, err
			}
		case confirmed:
			if err := r.emit(Event{Kind: GateApproved, Node: n.Addr, Actor: cv.by, Reason: "approved at " + cv.gate}); err != nil {
				return nodeEnd{statusPending, nil}, err
			}
		default:
			if cv.gate != "" {
				prompt = fmt.Sprintf("The plan changed after %s was approved. %s", cv.gate, prompt)
			}
			token := r.claimToken(n, r.stepToken(n, r.opts.Registry.typeOf(n), tokenCfg))
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
			return nodeEnd{statusCancelled, nil}, cancelled(r.ctx, err)
		}
		// A service that stopped answering would not answer a retry
		// either: the step fails now, naming it, and the run can be
		// resumed once it answers.
		var unavailable *UnavailableError
		if attempt >= st.attempts || errors.As(err, &unavailable) {
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
			return nodeEnd{statusCancelled, nil}, cancelled(r.ctx, errors.New("while waiting to retry"))
		}
	}
}

// cancelledError is a step the run's cancellation stopped: it says so
// once, with the cancellation's cause when that says more than
// "context canceled", and what the step said only when it is more than
// the cancellation again.
type cancelledError struct {
	cause, step error
}

func cancelled(ctx context.Context, step error) error {
	return &cancelledError{cause: context.Cause(ctx), step: step}
}

func (e *cancelledError) Error() string {
	msg := "cancelled"
	if e.cause != nil && e.cause != context.Canceled {
		msg += " (" + e.cause.Error() + ")"
	}
	if s := e.step; s != nil && !errors.Is(s, context.Canceled) && (e.cause == nil || !errors.Is(s, e.cause)) {
		msg += ": " + s.Error()
	} else if s != nil {
		// Only what the step said besides the cancellation.
		rest := strings.TrimSuffix(strings.TrimSuffix(s.Error(), context.Canceled.Error()), ": ")
		if e.cause != nil {
			rest = strings.TrimSuffix(strings.TrimSuffix(rest, e.cause.Error()), ": ")
		}
		if rest != "" {
			msg += ": " + rest
		}
	}
	return msg
}

func (e *cancelledError) Unwrap() []error { return []error{e.cause, e.step} }

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
	pctx, rl, unwatch := r.watched(pctx, n, 0, st)
	defer unwatch()
	pr := &progressThrottle{r: r, node: n.Addr}
	defer pr.flush()
	changes, err := typ.Plan(pctx, r.stepContext(n, 0, pr, rl), st.cfg)
	if cause := unavailableCause(pctx); err != nil && cause != nil && r.ctx.Err() == nil {
		return nil, &UnavailableError{Cause: cause, Step: err, Done: pr.latestProgress()}
	}
	if err != nil && st.timeout > 0 && errors.Is(pctx.Err(), context.DeadlineExceeded) && r.ctx.Err() == nil {
		return nil, fmt.Errorf("timed out after %s: %w", st.timeout, err)
	}
	return changes, err
}

// apply runs one attempt under the step's timeout.
func (r *run) apply(n *Node, typ StepType, st settings, attempt int) (out cty.Value, err error) {
	actx, cancel := r.within(st.timeout)
	defer cancel()
	actx, rl, unwatch := r.watched(actx, n, attempt, st)
	defer unwatch()
	pr := &progressThrottle{r: r, node: n.Addr, attempt: attempt}
	sc := r.stepContext(n, attempt, pr, rl)
	defer pr.flush()
	out, err = typ.Apply(actx, sc, st.cfg)
	if err != nil {
		if cause := unavailableCause(actx); cause != nil && r.ctx.Err() == nil {
			return cty.NilVal, &UnavailableError{Cause: cause, Step: err, Done: pr.latestProgress()}
		}
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

func (r *run) stepContext(n *Node, attempt int, pr *progressThrottle, rl *retryLog) *StepContext {
	sc := &StepContext{
		RunID: r.opts.RunID, Address: n.Addr, Attempt: attempt, DryRun: r.opts.DryRun,
		Target: r.opts.Target, Now: r.now, Sensitive: r.secrets,
		Progress: pr.report,
		Log: func(line string) {
			_ = r.emit(Event{Kind: StepLog, Node: n.Addr, Attempt: attempt, Line: line})
		},
	}
	if rl != nil {
		sc.Concurrency = rl.concurrency
	}
	// Only an apply that is not the step's first can have earlier
	// attempts: a retry, or any attempt of a resumed run.
	if r.opts.EarlierLogs != nil && attempt > 0 && (attempt > 1 || r.opts.Resume != nil) {
		sc.Earlier = func(fn func(string) error) error { return r.opts.EarlierLogs(n.Addr, fn) }
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
	latest  *Progress // the last reported, emitted or not
}

// latestProgress is the last progress the step reported, nil if none.
func (p *progressThrottle) latestProgress() *Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latest
}

func (p *progressThrottle) report(done, total int64, unit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pg := &Progress{Done: done, Total: total, Unit: unit}
	p.latest = pg
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
