package runbook

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// resumeApproval is who approved n in the run being resumed, if anyone.
func (r *run) resumeApproval(n *Node) (string, bool) {
	if r.opts.Resume == nil {
		return "", false
	}
	by, ok := r.opts.Resume.Approved[n.Addr]
	return by, ok
}

// resumedApproval is the event that carries an approval given in the run
// being resumed over into this one.
func (r *run) resumedApproval(n *Node, by string) Event {
	return Event{Kind: GateApproved, Node: n.Addr, Actor: by, Reason: "approved in run " + r.opts.Resume.From}
}

// gateValue is an approved gate as expressions see it.
func gateValue(by string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"approved": cty.True, "by": cty.StringVal(by)})
}

func (r *run) runGate(n *Node) (nodeEnd, error) {
	if by, ok := r.resumeApproval(n); ok {
		return r.settle(n, r.resumedApproval(n, by), statusDone, gateValue(by))
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
		return r.settle(n, Event{Kind: GateAsked, Node: n.Addr, Line: prompt, Reason: WouldAsk}, statusDone, cty.UnknownVal(gateType))
	}
	ap, err := r.approve(n, GateRequest{Node: n.Addr, Prompt: prompt, Token: n.Name, Timeout: st.timeout})
	if err != nil || ap.refusal != nil {
		return nodeEnd{statusRefusedOr(ap.refusal), ap.refusal}, err
	}
	r.setStatus(n, statusDone, gateValue(ap.by), "")
	return nodeEnd{statusDone, nil}, nil
}

func statusRefusedOr(refusal error) nodeStatus {
	if refusal != nil {
		return statusRefused
	}
	return statusPending
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
