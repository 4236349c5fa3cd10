package runbook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// recorder notes which steps a test's step types were asked to plan and
// apply, so tests can check what ran.
type recorder struct {
	mu      sync.Mutex
	applied []string
	planned []string
	configs map[string]cty.Value
}

func (r *recorder) apply(addr string, cfg cty.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, addr)
	if r.configs == nil {
		r.configs = map[string]cty.Value{}
	}
	r.configs[addr] = cfg
}

func (r *recorder) plan(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.planned = append(r.planned, addr)
}

func (r *recorder) appliedList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.applied...)
}

func (r *recorder) count(addr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.applied {
		if a == addr {
			n++
		}
	}
	return n
}

// waitStep waits its duration, like the real wait step.
type waitStep struct{ rec *recorder }

func (waitStep) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{"duration": &hcldec.AttrSpec{Name: "duration", Type: cty.String}}
}
func (waitStep) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{"waited": cty.String})
}
func (waitStep) Destructive() bool { return false }
func (s waitStep) Plan(_ context.Context, sc *StepContext, cfg cty.Value) ([]Change, error) {
	if s.rec != nil {
		s.rec.plan(sc.Address)
	}
	d := cfg.GetAttr("duration")
	if !d.IsKnown() {
		return []Change{{Action: "wait", Target: "(known after earlier steps)"}}, nil
	}
	if d.IsNull() {
		return []Change{{Action: "wait", Target: "0s"}}, nil
	}
	return []Change{{Action: "wait", Target: d.AsString()}}, nil
}
func (s waitStep) Apply(ctx context.Context, sc *StepContext, cfg cty.Value) (cty.Value, error) {
	if s.rec != nil {
		s.rec.apply(sc.Address, cfg)
	}
	var d time.Duration
	if v := cfg.GetAttr("duration"); !v.IsNull() {
		var err error
		if d, err = ParseDuration(v.AsString()); err != nil {
			return cty.NilVal, err
		}
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return cty.NilVal, ctx.Err()
		}
	}
	return cty.ObjectVal(map[string]cty.Value{"waited": cty.StringVal(d.String())}), nil
}

// echoStep returns its input, optionally failing its first attempts.
type echoStep struct {
	rec *recorder
	// failures counts down failing attempts per address.
	mu       sync.Mutex
	failures map[string]int
	// block makes Apply wait for its context to end.
	block bool
	// onApply, when set, runs inside Apply (to log and report progress).
	onApply func(sc *StepContext)
}

func (*echoStep) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"value": &hcldec.AttrSpec{Name: "value", Type: cty.String},
		"count": &hcldec.AttrSpec{Name: "count", Type: cty.Number},
		"fail":  &hcldec.AttrSpec{Name: "fail", Type: cty.Number},
	}
}
func (*echoStep) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{"value": cty.String, "count": cty.Number})
}
func (*echoStep) Destructive() bool { return false }
func (s *echoStep) Plan(_ context.Context, sc *StepContext, cfg cty.Value) ([]Change, error) {
	s.rec.plan(sc.Address)
	v := cfg.GetAttr("value")
	target := "(unknown)"
	if v.IsKnown() && !v.IsNull() {
		target = v.AsString()
	}
	return []Change{{Action: "echo", Target: target}}, nil
}
func (s *echoStep) Apply(ctx context.Context, sc *StepContext, cfg cty.Value) (cty.Value, error) {
	s.rec.apply(sc.Address, cfg)
	if s.onApply != nil {
		s.onApply(sc)
	}
	if s.block {
		<-ctx.Done()
		return cty.NilVal, ctx.Err()
	}
	s.mu.Lock()
	if s.failures == nil {
		s.failures = map[string]int{}
		if f := cfg.GetAttr("fail"); !f.IsNull() {
			n, _ := f.AsBigFloat().Int64()
			s.failures[sc.Address] = int(n)
		}
	}
	left, seen := s.failures[sc.Address]
	if !seen {
		if f := cfg.GetAttr("fail"); !f.IsNull() {
			n, _ := f.AsBigFloat().Int64()
			left = int(n)
		}
	}
	fail := left > 0
	s.failures[sc.Address] = left - 1
	s.mu.Unlock()
	if fail {
		return cty.NilVal, fmt.Errorf("attempt %d: %w", sc.Attempt, errBoom)
	}
	v := cfg.GetAttr("value")
	if v.IsNull() {
		v = cty.StringVal("")
	}
	c := cfg.GetAttr("count")
	if c.IsNull() {
		c = cty.Zero
	}
	return cty.ObjectVal(map[string]cty.Value{"value": v, "count": c}), nil
}

var errBoom = errors.New("boom")

// dangerStep is destructive: it names a bucket and validates a timestamp.
type dangerStep struct{ rec *recorder }

func (dangerStep) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"bucket":  &hcldec.AttrSpec{Name: "bucket", Type: cty.String, Required: true},
		"to_time": &hcldec.AttrSpec{Name: "to_time", Type: cty.String},
	}
}
func (dangerStep) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{"copied": cty.Number})
}
func (dangerStep) Destructive() bool { return true }
func (dangerStep) BlastRadius(cfg cty.Value) string {
	if b := cfg.GetAttr("bucket"); b.IsKnown() && !b.IsNull() {
		return b.AsString()
	}
	return ""
}
func (dangerStep) ValidateConfig(cfg cty.Value) []ConfigError {
	t := cfg.GetAttr("to_time")
	if !t.IsKnown() || t.IsNull() {
		return nil
	}
	if _, err := ParseTime(t.AsString()); err != nil {
		return []ConfigError{{Attr: "to_time", Summary: "Invalid timestamp", Detail: err.Error()}}
	}
	return nil
}
func (s dangerStep) Plan(_ context.Context, sc *StepContext, cfg cty.Value) ([]Change, error) {
	if s.rec != nil {
		s.rec.plan(sc.Address)
	}
	if b := cfg.GetAttr("bucket"); b.IsKnown() && b.AsString() == "unchanged" {
		return nil, nil // already as wanted
	}
	return []Change{{Action: "CopyObject", Target: "models/a.bin", Detail: "<- version 1"}}, nil
}
func (s dangerStep) Apply(_ context.Context, sc *StepContext, cfg cty.Value) (cty.Value, error) {
	if s.rec != nil {
		s.rec.apply(sc.Address, cfg)
	}
	return cty.ObjectVal(map[string]cty.Value{"copied": cty.NumberIntVal(3)}), nil
}

// testRegistry returns fresh step types sharing one recorder.
func testRegistry() (Registry, *recorder, *echoStep) {
	rec := &recorder{}
	echo := &echoStep{rec: rec}
	return Registry{
		"wait":   waitStep{rec: rec},
		"echo":   echo,
		"danger": dangerStep{rec: rec},
	}, rec, echo
}

// events collects a run's events.
type events struct {
	mu  sync.Mutex
	all []Event
	// onEmit, when set, sees every event as it is emitted.
	onEmit func(Event) error
}

func (e *events) Emit(ev Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
	if e.onEmit != nil {
		return e.onEmit(ev)
	}
	return nil
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.all...)
}

func (e *events) of(kind EventKind) []Event {
	var out []Event
	for _, ev := range e.list() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (e *events) find(kind EventKind, node string) *Event {
	for _, ev := range e.list() {
		if ev.Kind == kind && ev.Node == node {
			return &ev
		}
	}
	return nil
}
