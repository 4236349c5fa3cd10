package runbook

import (
	"context"
	"fmt"
	"slices"

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
	plans := r.planCovered(n)
	req := GateRequest{Node: n.Addr, Prompt: prompt, Token: n.Name, Timeout: st.timeout}
	for _, p := range plans {
		req.Covers = append(req.Covers, p.node.Addr)
		req.Changes = append(req.Changes, p.changes...)
	}
	// A gate that confirms one step asks for what that step changes: its
	// resource is what the operator recognises, more than the gate's name.
	if len(plans) == 1 && plans[0].token != "" {
		req.Token = plans[0].token
	}
	req.Token = r.claimToken(n, req.Token)
	ap, err := r.approve(n, req)
	if err != nil || ap.refusal != nil {
		return nodeEnd{statusRefusedOr(ap.refusal), ap.refusal}, err
	}
	r.mu.Lock()
	if r.confirmed == nil {
		r.confirmed = map[string]coverage{}
	}
	for _, p := range plans {
		r.confirmed[p.node.Addr] = coverage{gate: n.Addr, by: ap.by, changes: p.changes}
	}
	r.mu.Unlock()
	r.setStatus(n, statusDone, gateValue(ap.by), "")
	return nodeEnd{statusDone, nil}, nil
}

// coverage is a gate's approval of a step it confirms: which gate, who
// approved it, and the step's changes the operator saw there.
type coverage struct {
	gate, by string
	changes  []Change
}

// coveredPlan is a step a gate confirms, planned when the gate opens.
type coveredPlan struct {
	node    *Node
	token   string
	changes []Change
}

// planCovered plans the steps gate g confirms (see linkCovers), for its
// question. A step that cannot be planned now (finished or skipped in the
// run being resumed, its condition false, a setting or its plan failing)
// or whose plan changes nothing is left out: it asks on its own if it
// needs to, and reports its own error.
func (r *run) planCovered(g *Node) []coveredPlan {
	var out []coveredPlan
	for _, s := range g.covers {
		if r.opts.Resume != nil {
			if _, ok := r.opts.Resume.Finished[s.Addr]; ok || r.skippedBefore(s) {
				continue
			}
		}
		st, skip, err := r.prepare(s)
		if err != nil || skip {
			continue
		}
		typ := r.opts.Registry.typeOf(s)
		token := r.stepToken(s, typ, st.cfg)
		if r.opts.Drill != nil {
			if typ, st.cfg, _, _, err = r.drillRewrite(s, typ, st.cfg); err != nil {
				continue
			}
		}
		changes, err := r.plan(s, typ, st)
		if err != nil || len(changes) == 0 {
			continue
		}
		out = append(out, coveredPlan{node: s, token: token, changes: changes})
	}
	return out
}

// confirmation is the approval at an upstream gate that confirms step n,
// if that gate showed exactly the changes n now plans.
func (r *run) confirmation(n *Node, changes []Change) (coverage, bool) {
	r.mu.Lock()
	cv, ok := r.confirmed[n.Addr]
	r.mu.Unlock()
	return cv, ok && slices.Equal(cv.changes, changes)
}

// stepToken is what approving step n takes typing: its type's blast
// radius (the resource it changes, such as GROUP@REGION or BUCKET/PREFIX)
// for cfg as the runbook wrote it, before a drill redirects it, so the
// token names what the operator knows and carries no run id; else the
// step's name.
func (r *run) stepToken(n *Node, typ StepType, cfg cty.Value) string {
	if br, ok := typ.(BlastRadiuser); ok {
		if t := br.BlastRadius(cfg); t != "" {
			return t
		}
	}
	return n.Name
}

// claimToken reserves token for n's question. A token already asked for
// another node in this run gets n's name after it, then its address, so
// no two questions of a run take the same answer and each node's token is
// the same in every run of the runbook.
func (r *run) claimToken(n *Node, token string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tokens == nil {
		r.tokens = map[string]string{}
	}
	for _, t := range []string{token, token + "#" + n.Name, token + "#" + n.Addr} {
		if owner, ok := r.tokens[t]; !ok || owner == n.Addr {
			r.tokens[t] = n.Addr
			return t
		}
	}
	return n.Addr
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
