package runbook

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// approver is a scripted Approver.
type approver struct {
	mu       sync.Mutex
	asked    []GateRequest
	decide   func(ctx context.Context, req GateRequest) (Decision, error)
	decision Decision
}

func (a *approver) Approve(ctx context.Context, req GateRequest) (Decision, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req)
	a.mu.Unlock()
	if a.decide != nil {
		return a.decide(ctx, req)
	}
	return a.decision, nil
}

const gatedRunbook = `
step "echo" "first" {
  value = "7"
}
gate "failover" {
  prompt  = "Restored ${step.echo.first.value} objects. Scale the DR fleet?"
  timeout = "10m"
}
step "danger" "restore" {
  bucket     = "ai-model-artifacts"
  depends_on = [gate.failover]
}
step "echo" "who" {
  value = gate.failover.by
}
`

func TestGates(t *testing.T) {
	tests := []struct {
		name        string
		approver    *approver
		auto        bool
		wantStatus  RunStatus
		wantApplied []string
		wantReason  string
	}{
		{
			name:        "approved",
			approver:    &approver{decision: Decision{Approved: true, By: "alice"}},
			wantStatus:  StatusSucceeded,
			wantApplied: []string{"step.echo.first", "step.danger.restore", "step.echo.who"},
		},
		{
			name:        "auto-approve",
			auto:        true,
			wantStatus:  StatusSucceeded,
			wantApplied: []string{"step.echo.first", "step.danger.restore", "step.echo.who"},
		},
		{
			name:        "refused",
			approver:    &approver{decision: Decision{Approved: false, By: "bob", Reason: "not now"}},
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "not now",
		},
		{
			name: "timeout",
			approver: &approver{decide: func(ctx context.Context, _ GateRequest) (Decision, error) {
				<-ctx.Done()
				return Decision{}, ctx.Err()
			}},
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "no answer within 10m0s",
		},
		{
			name:        "no approver",
			wantStatus:  StatusRefused,
			wantApplied: []string{"step.echo.first"},
			wantReason:  "gate failover needs approval: run in a terminal or pass --auto-approve",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg, rec, _ := testRegistry()
				rb := mustParse(t, gatedRunbook, reg)
				ev := &events{}
				opts := Options{RunID: "g", Sink: ev, AutoApprove: tc.auto, Parallelism: 1}
				if tc.approver != nil {
					opts.Approver = tc.approver
				}
				start := time.Now()
				res := Execute(t.Context(), rb, opts)
				if res.Status != tc.wantStatus {
					t.Fatalf("status %s (%v); want %s", res.Status, res.Err, tc.wantStatus)
				}
				if got := rec.appliedList(); !slices.Equal(got, tc.wantApplied) {
					t.Errorf("applied %v; want %v", got, tc.wantApplied)
				}
				asked := ev.find(GateAsked, "gate.failover")
				if asked == nil || asked.Line != "Restored 7 objects. Scale the DR fleet?" {
					t.Errorf("gate_asked %+v", asked)
				}
				if tc.wantStatus == StatusRefused {
					ref := ev.find(GateRefused, "gate.failover")
					if ref == nil || ref.Reason != tc.wantReason {
						t.Errorf("gate_refused %+v; want reason %q", ref, tc.wantReason)
					}
					if !strings.Contains(res.Err.Error(), tc.wantReason) {
						t.Errorf("error %v", res.Err)
					}
					// The refusal is the gate's one terminal event: the run
					// stopping does not report it skipped as well.
					if ks := kinds(ev.list(), "gate.failover"); !slices.Equal(ks, []EventKind{GateAsked, GateRefused}) {
						t.Errorf("events of the refused gate %v; want [gate_asked gate_refused]", ks)
					}
					if tc.name == "timeout" && time.Since(start) != 10*time.Minute {
						t.Errorf("refused after %s; want 10m", time.Since(start))
					}
					return
				}
				app := ev.find(GateApproved, "gate.failover")
				wantBy := "alice"
				if tc.auto {
					wantBy = "auto-approve"
				}
				if app == nil || app.Actor != wantBy {
					t.Errorf("gate_approved %+v", app)
				}
				if got := rec.configs["step.echo.who"].GetAttr("value").AsString(); got != wantBy {
					t.Errorf("gate.failover.by = %q", got)
				}
				// The gate asked once, with the destructive step's plan and
				// its blast radius: approving it confirmed the step.
				if tc.approver != nil {
					if len(tc.approver.asked) != 1 {
						t.Fatalf("asked %d times: %+v", len(tc.approver.asked), tc.approver.asked)
					}
					req := tc.approver.asked[0]
					if req.Node != "gate.failover" || req.Token != "ai-model-artifacts" || len(req.Changes) != 1 ||
						!slices.Equal(req.Covers, []string{"step.danger.restore"}) || req.Timeout != 10*time.Minute {
						t.Errorf("gate request %+v", req)
					}
				}
				if ks := kinds(ev.list(), "step.danger.restore"); !slices.Equal(ks, []EventKind{StepPlanned, GateApproved, StepStarted, StepFinished}) {
					t.Errorf("events of the destructive step %v", ks)
				}
				if a := ev.find(GateApproved, "step.danger.restore"); a == nil || a.Actor != wantBy || a.Reason != "approved at gate.failover" {
					t.Errorf("step's approval %+v", a)
				}
			})
		})
	}
}

func TestDestructiveStepBehindUpstreamGate(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb := mustParse(t, `
gate "go" {}
step "echo" "between" {
  depends_on = [gate.go]
}
step "danger" "d" {
  bucket     = "models"
  confirm    = false
  depends_on = [step.echo.between]
}`, reg)
	ap := &approver{decision: Decision{Approved: true, By: "erin"}}
	res := Execute(t.Context(), rb, Options{Approver: ap})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	if len(ap.asked) != 1 || ap.asked[0].Node != "gate.go" || rec.count("step.danger.d") != 1 {
		t.Errorf("asked %+v, applied %v", ap.asked, rec.appliedList())
	}
	if len(rb.Diagnostics()) != 0 {
		t.Errorf("diagnostics %s", diagList(rb.Diagnostics()))
	}
}
