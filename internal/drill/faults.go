package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// Fault is a fault a drill injects, and when it starts.
type Fault struct {
	sandbox.Fault
	// After delays the fault from the drill's start (on the sandbox's
	// clock); AtStep starts it when that step ("step.TYPE.NAME") starts.
	After  time.Duration
	AtStep string
	// Spec is how the fault was written, for the report.
	Spec string
}

// ParseFault reads the --fault syntax of `drconsole sandbox --fault`, plus
// two keys saying when the fault starts: after=DURATION (from the drill's
// start) and at_step=step.TYPE.NAME. Examples:
//
//	throttle:0.1,service=s3
//	outage:us-west-2,at_step=step.asg_scale.serving
//	latency:200ms,after=30s
func ParseFault(s string) (Fault, error) {
	f := Fault{Spec: strings.TrimSpace(s)}
	var rest []string
	for i, part := range strings.Split(strings.TrimSpace(s), ",") {
		k, v, ok := strings.Cut(part, "=")
		switch {
		case i > 0 && ok && k == "after":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return Fault{}, fmt.Errorf("fault %q: after wants a duration such as 30s, got %q", s, v)
			}
			f.After = d
		case i > 0 && ok && (k == "at_step" || k == "step"):
			if a, ok := runbook.ParseAddress(v); !ok || a.Kind != runbook.KindStep {
				return Fault{}, fmt.Errorf("fault %q: at_step wants a step address such as step.asg_scale.serving, got %q", s, v)
			}
			f.AtStep = v
		default:
			rest = append(rest, part)
		}
	}
	sf, err := sandbox.ParseFault(strings.Join(rest, ","))
	if err != nil {
		return Fault{}, err
	}
	if f.After > 0 && f.AtStep != "" {
		return Fault{}, fmt.Errorf("fault %q: set after or at_step, not both", s)
	}
	f.Fault = sf
	return f, nil
}

// FromRunbook turns a runbook's drill fault blocks into faults.
func FromRunbook(rb *runbook.Runbook) ([]Fault, error) {
	if rb == nil || rb.Drill == nil {
		return nil, nil
	}
	var out []Fault
	for _, df := range rb.Drill.Faults {
		parts := []string{df.Kind}
		add := func(k, v string) {
			if v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		add("service", df.Service)
		add("op", df.Operation)
		add("region", df.Region)
		if df.Rate > 0 {
			add("rate", fmt.Sprint(df.Rate))
		}
		if df.PerSecond > 0 {
			add("per_second", fmt.Sprint(df.PerSecond))
		}
		if df.Every > 0 {
			add("every", fmt.Sprint(df.Every))
		}
		if df.Writes {
			add("writes", "true")
		}
		if df.Latency > 0 {
			add("latency", df.Latency.String())
		}
		if df.After > 0 {
			add("after", df.After.String())
		}
		add("at_step", df.AtStep)
		f, err := ParseFault(strings.Join(parts, ","))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", df.DeclRange, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Injector installs faults in the sandbox a drill runs against.
type Injector interface {
	Faults(ctx context.Context) ([]sandbox.Fault, error)
	SetFaults(ctx context.Context, fs []sandbox.Fault) error
	// Now is the sandbox's clock, which fault windows are measured on.
	Now(ctx context.Context) (time.Time, error)
}

// AdminInjector reaches a sandbox through its admin endpoint.
type AdminInjector struct {
	URL string // the sandbox's base URL, http://127.0.0.1:PORT
	// Token is the sandbox's admin token: (*sandbox.Server).AdminToken,
	// or what `drconsole sandbox` printed (sandbox.TokenEnv).
	Token  string
	Client *http.Client
}

func (a AdminInjector) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.URL, "/")+"/_sandbox/"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := a.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("sandbox admin %s %s: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusUnauthorized && a.Token == "" {
		return fmt.Errorf("sandbox admin %s %s: %s: no admin token: set %s to the token `drconsole sandbox` printed at start",
			method, path, resp.Status, sandbox.TokenEnv)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox admin %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("sandbox admin %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Faults implements Injector.
func (a AdminInjector) Faults(ctx context.Context) ([]sandbox.Fault, error) {
	var fs []sandbox.Fault
	return fs, a.do(ctx, http.MethodGet, "faults", nil, &fs)
}

// SetFaults implements Injector.
func (a AdminInjector) SetFaults(ctx context.Context, fs []sandbox.Fault) error {
	if fs == nil {
		fs = []sandbox.Fault{}
	}
	return a.do(ctx, http.MethodPut, "faults", fs, nil)
}

// Now implements Injector.
func (a AdminInjector) Now(ctx context.Context) (time.Time, error) {
	var out struct{ Now string }
	if err := a.do(ctx, http.MethodGet, "clock", nil, &out); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, out.Now)
	if err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock %q: %w", out.Now, err)
	}
	return t, nil
}

// ServerInjector reaches a sandbox served in this process (the console's
// embedded estate).
type ServerInjector struct{ Server *sandbox.Server }

// Faults implements Injector.
func (s ServerInjector) Faults(context.Context) ([]sandbox.Fault, error) {
	return s.Server.Faults(), nil
}

// SetFaults implements Injector.
func (s ServerInjector) SetFaults(_ context.Context, fs []sandbox.Fault) error {
	s.Server.SetFaults(fs)
	return nil
}

// Now implements Injector.
func (s ServerInjector) Now(context.Context) (time.Time, error) { return s.Server.Now(), nil }

// faultSession keeps the faults a drill installed on top of those the
// sandbox already had, and puts the sandbox back as it was at the end.
type faultSession struct {
	inj    Injector
	before []sandbox.Fault

	mu     sync.Mutex
	active []sandbox.Fault
	atStep map[string][]sandbox.Fault
}

// startFaults installs the faults that start at once or after a delay
// (as a window on the sandbox's clock) and holds back those that wait for
// a step.
func startFaults(ctx context.Context, inj Injector, faults []Fault) (*faultSession, error) {
	s := &faultSession{inj: inj, atStep: map[string][]sandbox.Fault{}}
	before, err := inj.Faults(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the sandbox's faults: %w", err)
	}
	s.before = before
	s.active = append([]sandbox.Fault(nil), before...)
	var now time.Time
	for _, f := range faults {
		sf := f.Fault
		switch {
		case f.AtStep != "":
			s.atStep[f.AtStep] = append(s.atStep[f.AtStep], sf)
			continue
		case f.After > 0:
			if now.IsZero() {
				if now, err = inj.Now(ctx); err != nil {
					return nil, fmt.Errorf("read the sandbox's clock: %w", err)
				}
			}
			sf.From = now.Add(f.After)
		}
		s.active = append(s.active, sf)
	}
	if err := inj.SetFaults(ctx, s.active); err != nil {
		return nil, fmt.Errorf("inject faults: %w", err)
	}
	return s, nil
}

// stepStarting installs the faults waiting for node, before it acts.
func (s *faultSession) stepStarting(ctx context.Context, node string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.atStep[node]
	if len(fs) == 0 {
		return nil
	}
	delete(s.atStep, node)
	s.active = append(s.active, fs...)
	if err := s.inj.SetFaults(ctx, s.active); err != nil {
		return fmt.Errorf("inject faults at %s: %w", node, err)
	}
	return nil
}

// stop puts back the faults the sandbox had before the drill.
func (s *faultSession) stop(ctx context.Context) error {
	if err := s.inj.SetFaults(ctx, s.before); err != nil {
		return fmt.Errorf("remove the drill's faults: %w", err)
	}
	return nil
}

// RemoveFaults takes the faults a drill recorded (their specs, as
// run_started's drill info lists them) out of the sandbox, leaving any
// other fault in place: what a drill killed before it could clean up left
// behind. It returns how many it removed.
func RemoveFaults(ctx context.Context, inj Injector, specs []string) (int, error) {
	var drop []sandbox.Fault
	for _, s := range specs {
		f, err := ParseFault(s)
		if err != nil {
			return 0, err
		}
		drop = append(drop, f.Fault)
	}
	if len(drop) == 0 {
		return 0, nil
	}
	cur, err := inj.Faults(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the sandbox's faults: %w", err)
	}
	var keep []sandbox.Fault
	for _, f := range cur {
		if !slices.ContainsFunc(drop, func(d sandbox.Fault) bool { return sameFault(f, d) }) {
			keep = append(keep, f)
		}
	}
	if len(keep) == len(cur) {
		return 0, nil
	}
	if err := inj.SetFaults(ctx, keep); err != nil {
		return 0, fmt.Errorf("remove the drill's faults: %w", err)
	}
	return len(cur) - len(keep), nil
}

// sameFault compares what a fault does and matches, not its window: a
// fault that starts after a delay was installed with a start time.
func sameFault(a, b sandbox.Fault) bool {
	return a.Kind == b.Kind && a.Service == b.Service && a.Operation == b.Operation && a.Region == b.Region &&
		a.Rate == b.Rate && a.PerSecond == b.PerSecond && a.Every == b.Every && a.Writes == b.Writes && a.Latency == b.Latency
}
