package runbook

import (
	"container/heap"
	"errors"
	"fmt"

	"github.com/sourcegraph/conc/pool"
	"github.com/zclconf/go-cty/cty"
)

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
	pending, ready := kahnStart(r.rb.Nodes)
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
			ev := Event{Kind: StepFailed, Node: n.Addr, Error: msg}
			if o.status == statusCancelled {
				ev.Reason = ReasonCancelled
			}
			_ = r.emit(ev)
		}
		r.setStatus(n, o.status, cty.NilVal, msg)
	} else if o.status == statusRefused {
		// gate_refused was this node's terminal event; recording the status
		// keeps the run's stop from reporting it skipped as well.
		r.setStatus(n, statusRefused, cty.NilVal, "")
	}
	return o
}
