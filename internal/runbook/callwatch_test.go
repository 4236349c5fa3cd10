package runbook

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// downErr is what a call watch ends a context with when a service stops
// answering.
type downErr struct{}

func (downErr) Error() string {
	return "us-east-1 s3 is not answering: 9 attempts failed in a row over 2m0s"
}
func (downErr) Unavailable() bool { return true }

// fakeWatch stands in for awsx.WatchCalls: it records the bound each
// attempt is given, replays retries, and ends the context as a watch
// would once a region is down.
type fakeWatch struct {
	mu      sync.Mutex
	bounds  []time.Duration
	retries func(retried func(call, reason string, throttled bool))
	downIn  time.Duration // 0: never
}

func (f *fakeWatch) watch(ctx context.Context, now func() time.Time, unavailable time.Duration, retried func(string, string, bool)) (context.Context, context.CancelFunc) {
	f.mu.Lock()
	f.bounds = append(f.bounds, unavailable)
	f.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	if f.retries != nil {
		f.retries(retried)
	}
	if f.downIn > 0 {
		t := time.AfterFunc(f.downIn, func() { cancel(downErr{}) })
		return ctx, func() { t.Stop(); cancel(nil) }
	}
	return ctx, func() { cancel(nil) }
}

// A step whose service stops answering fails at once with the watch's
// reason and its progress, and is not retried even with a retry block:
// the run fails, resumable, long before the step's timeout.
func TestUnavailableServiceFailsTheStepNamingIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, rec, _ := testRegistry()
		rb := mustParse(t, `
step "wait" "restore" {
  duration = "2h"
  timeout  = "2h"
  retry {
    attempts = 3
  }
}`, reg)
		fw := &fakeWatch{downIn: 2 * time.Minute}
		ev := &events{}
		start := time.Now()
		res := Execute(t.Context(), rb, Options{Sink: ev, CallWatch: fw.watch})
		if res.Status != StatusFailed {
			t.Fatalf("status %s", res.Status)
		}
		if got := time.Since(start); got != 2*time.Minute {
			t.Errorf("failed after %s on the fake clock, want 2m", got)
		}
		f := ev.find(StepFailed, "step.wait.restore")
		if f == nil || !strings.Contains(f.Error, "us-east-1 s3 is not answering") || !strings.Contains(f.Error, "no progress reported") {
			t.Fatalf("step_failed %+v", f)
		}
		if n := rec.count("step.wait.restore"); n != 1 {
			t.Errorf("applied %d times, want once: an outage is not retried", n)
		}
		if r := ev.of(StepRetried); len(r) != 0 {
			t.Errorf("step retried: %+v", r)
		}
		var ue *UnavailableError
		if !errors.As(res.Err, &ue) && !strings.Contains(res.Err.Error(), "not answering") {
			t.Errorf("run error %v", res.Err)
		}
	})
}

// The bound given to the watch: the step's unavailable_after, else the
// runbook's, else the default; "0s" turns it off.
func TestUnavailableAfterPrecedence(t *testing.T) {
	reg, _, _ := testRegistry()
	for _, tc := range []struct {
		name, src string
		want      time.Duration
	}{
		{"default", `step "echo" "a" { value = "x" }`, DefaultUnavailableAfter},
		{"runbook", `runbook { unavailable_after = "5m" }
step "echo" "a" { value = "x" }`, 5 * time.Minute},
		{"step over runbook", `runbook { unavailable_after = "5m" }
step "echo" "a" {
  value = "x"
  unavailable_after = "30s"
}`, 30 * time.Second},
		{"off", `step "echo" "a" {
  value = "x"
  unavailable_after = "0s"
}`, 0},
		{"runbook off", `runbook { unavailable_after = "0s" }
step "echo" "a" { value = "x" }`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, tc.src, reg)
			fw := &fakeWatch{}
			if res := Execute(t.Context(), rb, Options{CallWatch: fw.watch}); res.Status != StatusSucceeded {
				t.Fatal(res.Err)
			}
			if len(fw.bounds) != 1 || fw.bounds[0] != tc.want {
				t.Errorf("bounds %v, want %s", fw.bounds, tc.want)
			}
			// A dry-run's plan is watched too.
			fw.bounds = nil
			if res := Execute(t.Context(), rb, Options{CallWatch: fw.watch, DryRun: true}); res.Status != StatusSucceeded {
				t.Fatal(res.Err)
			}
			if len(fw.bounds) != 1 || fw.bounds[0] != tc.want {
				t.Errorf("dry-run bounds %v, want %s", fw.bounds, tc.want)
			}
		})
	}
	_, diags := Parse(map[string][]byte{"a.hcl": []byte(`runbook { unavailable_after = "soon" }
step "echo" "a" { value = "x" }`)}, reg)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "a.hcl:1,31") {
		t.Errorf("a bad unavailable_after: %v", diags)
	}
}

// The SDK's retries become events an operator can read: the first retry
// of each call in an interval is a step_retried naming the call, later
// ones and every throttled one are counted into one step_log line per
// interval, and what is left is summed up when the attempt ends.
func TestCallRetriesAreToldAndSummed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _, _ := testRegistry()
		rb := mustParse(t, `
step "wait" "restore" {
  duration = "1m"
}`, reg)
		fw := &fakeWatch{retries: func(retried func(string, string, bool)) {
			go func() {
				for i := range 30 {
					retried("s3 CopyObject in us-east-1", "SlowDown: Please reduce your request rate. (HTTP 503)", true)
					if i%10 == 0 {
						retried("s3 HeadObject in us-east-1", "InternalError (HTTP 500)", false)
					}
					time.Sleep(time.Second)
				}
			}()
		}}
		ev := &events{}
		if res := Execute(t.Context(), rb, Options{Sink: ev, CallWatch: fw.watch, RetrySummaryInterval: 10 * time.Second}); res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		var calls []Event
		for _, e := range ev.of(StepRetried) {
			if e.Call != "" {
				calls = append(calls, e)
			}
		}
		// HeadObject is retried at 0s, 10s and 20s: once in each interval.
		if len(calls) != 3 || calls[0].Call != "s3 HeadObject in us-east-1" || !strings.Contains(calls[0].Error, "InternalError") {
			t.Fatalf("call retries told: %+v", calls)
		}
		var summaries []string
		for _, e := range ev.of(StepLog) {
			if strings.Contains(e.Line, "throttled:") {
				summaries = append(summaries, e.Line)
			}
		}
		if len(summaries) < 3 || !strings.Contains(summaries[0], "throttled: 10 requests retried in the last 10s (s3 CopyObject in us-east-1 10)") {
			t.Fatalf("summaries %q", summaries)
		}
		st := Fold(ev.list())
		if n := st.Node("step.wait.restore"); n == nil || n.Status != NodeSucceeded || n.CallRetries != 3 {
			t.Errorf("folded %+v", n)
		}
	})
}

// adaptStep reports the concurrency changes of a step that halves on
// throttling and climbs back, on the fake clock.
type adaptStep struct {
	waitStep
	script func(sc *StepContext)
}

func (s adaptStep) Apply(_ context.Context, sc *StepContext, _ cty.Value) (cty.Value, error) {
	s.script(sc)
	return cty.ObjectVal(map[string]cty.Value{"waited": cty.StringVal("")}), nil
}

// The throttling line says the step's concurrency, and from what it
// changed; an interval with no throttling in which the step climbed back
// is summed up too, so the recovery shows as well as the fall.
func TestConcurrencyChangesAreSummed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var retried func(string, string, bool)
		fw := &fakeWatch{retries: func(r func(string, string, bool)) { retried = r }}
		reg := Registry{"adapt": adaptStep{script: func(sc *StepContext) {
			sc.Concurrency(32)
			for i := range 20 { // 20s of throttling, halving to 4
				retried("s3 CopyObject in us-east-1", "SlowDown (HTTP 503)", true)
				if i%5 == 0 && i < 15 {
					sc.Concurrency(32 >> (i/5 + 1))
				}
				time.Sleep(time.Second)
			}
			for k := 5; k <= 12; k++ { // then climbing back, one a second
				sc.Concurrency(k)
				time.Sleep(time.Second)
			}
		}}}
		rb := mustParse(t, `
step "adapt" "restore" {
}`, reg)
		ev := &events{}
		if res := Execute(t.Context(), rb, Options{Sink: ev, CallWatch: fw.watch, RetrySummaryInterval: 10 * time.Second}); res.Status != StatusSucceeded {
			t.Fatal(res.Err)
		}
		var lines []string
		for _, e := range ev.of(StepLog) {
			lines = append(lines, e.Line)
		}
		want := []string{
			"throttled: 10 requests retried in the last 10s (s3 CopyObject in us-east-1 10), concurrency now 8 (from 32)",
			"throttled: 10 requests retried in the last 10s (s3 CopyObject in us-east-1 10), concurrency now 4 (from 8)",
			"concurrency now 12, from 4 in the last 8s",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	})
}
