package drill

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// fakeInjector records the fault lists a drill installs.
type fakeInjector struct {
	mu      sync.Mutex
	now     time.Time
	current []sandbox.Fault
	history [][]sandbox.Fault
}

func (f *fakeInjector) Faults(context.Context) ([]sandbox.Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sandbox.Fault(nil), f.current...), nil
}

func (f *fakeInjector) SetFaults(_ context.Context, fs []sandbox.Fault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.current = append([]sandbox.Fault(nil), fs...)
	f.history = append(f.history, f.current)
	return nil
}

func (f *fakeInjector) Now(context.Context) (time.Time, error) { return f.now, nil }

func mustFault(t *testing.T, s string) Fault {
	t.Helper()
	f, err := ParseFault(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFaultSession(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	existing := sandbox.Fault{Kind: sandbox.FaultLatency, Latency: time.Millisecond}
	inj := &fakeInjector{now: now, current: []sandbox.Fault{existing}}
	s, err := startFaults(ctx, inj, []Fault{
		mustFault(t, "throttle:0.1,service=s3"),
		mustFault(t, "error5xx:0.5,after=30s"),
		mustFault(t, "outage:us-west-2,at_step=step.asg_scale.serving"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := inj.Faults(ctx)
	if len(got) != 3 || got[0] != existing || got[1].Kind != sandbox.FaultThrottle || !got[2].From.Equal(now.Add(30*time.Second)) {
		t.Fatalf("installed at start: %+v", got)
	}
	if err := s.stepStarting(ctx, "step.s3_restore.models"); err != nil || len(inj.history) != 1 {
		t.Fatalf("a step without faults changed them: %v %d", err, len(inj.history))
	}
	if err := s.stepStarting(ctx, "step.asg_scale.serving"); err != nil {
		t.Fatal(err)
	}
	got, _ = inj.Faults(ctx)
	if len(got) != 4 || got[3].Kind != sandbox.FaultOutage || got[3].Region != "us-west-2" {
		t.Fatalf("after the step started: %+v", got)
	}
	// A retry of the step does not install the fault twice.
	if err := s.stepStarting(ctx, "step.asg_scale.serving"); err != nil || len(inj.history) != 2 {
		t.Fatalf("installed twice: %d", len(inj.history))
	}
	if err := s.stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ = inj.Faults(ctx); len(got) != 1 || got[0] != existing {
		t.Errorf("after the drill: %+v, want the fault the sandbox had", got)
	}

	// What a killed drill left is removed; other faults stay.
	inj.current = []sandbox.Fault{existing, {Kind: sandbox.FaultError5xx, Rate: 0.5, From: now}}
	n, err := RemoveFaults(ctx, inj, []string{"error5xx:0.5,after=30s", "throttle:0.1,service=s3"})
	if err != nil || n != 1 {
		t.Fatalf("removed %d: %v", n, err)
	}
	if got, _ = inj.Faults(ctx); len(got) != 1 || got[0] != existing {
		t.Errorf("after removing: %+v", got)
	}
}

func TestIncidentVariable(t *testing.T) {
	reg := runbook.Registry{}
	rb, diags := runbook.Parse(map[string][]byte{"r.hcl": []byte(`
variable "incident_at" {
  type    = string
  default = "2026-03-01T11:00:00Z"
}`)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got, err := incidentVar(rb, nil)
	if err != nil || !got.Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("default: %v %v", got, err)
	}
	got, err = incidentVar(rb, map[string]cty.Value{"incident_at": cty.StringVal("2026-03-01T11:30:00+01:00")})
	if err != nil || !got.Equal(time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("set: %v %v", got, err)
	}
	if _, err = incidentVar(rb, map[string]cty.Value{"incident_at": cty.StringVal("yesterday")}); err == nil || !strings.Contains(err.Error(), "incident_at") {
		t.Errorf("bad time: %v", err)
	}
}
