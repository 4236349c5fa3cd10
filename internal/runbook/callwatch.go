package runbook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultRetrySummaryInterval is how often a step's throttled and further
// retried calls are summed up when Options.RetrySummaryInterval is 0.
const DefaultRetrySummaryInterval = 10 * time.Second

// retryLog turns the retries the SDK makes of one step attempt's calls
// into events an operator can read without drowning: the first retry of
// each call in an interval is a step_retried event with its reason, later
// ones are counted; throttled retries are only counted; each interval's
// counts are summed up in one step_log line, with the step's concurrency
// when the step adapts it. An interval in which only the concurrency
// changed (a step climbing back once throttling has stopped) is summed up
// too.
type retryLog struct {
	r        *run
	node     string
	attempt  int
	interval time.Duration

	mu        sync.Mutex
	since     time.Time       // start of the interval; zero before the first retry
	told      map[string]bool // calls whose retry this interval told
	throttled map[string]int  // throttled retries per call this interval
	more      int             // retries counted, not told, this interval

	conc     int // the step's concurrency, 0 until it reports one
	concFrom int // its concurrency when the interval started
}

// concurrency records the step's new bound on requests in flight.
func (l *retryLog) concurrency(k int) {
	l.mu.Lock()
	line := l.rollLocked()
	if l.conc == 0 {
		l.concFrom = k
	}
	l.conc = k
	l.mu.Unlock()
	if line != "" {
		_ = l.r.emit(Event{Kind: StepLog, Node: l.node, Attempt: l.attempt, Line: line})
	}
}

func (l *retryLog) retried(call, reason string, throttled bool) {
	l.mu.Lock()
	line := l.rollLocked()
	var told *Event
	switch {
	case throttled:
		l.throttled[call]++
	case !l.told[call]:
		l.told[call] = true
		told = &Event{Kind: StepRetried, Node: l.node, Attempt: l.attempt, Call: call, Error: reason}
	default:
		l.more++
	}
	l.mu.Unlock()
	if line != "" {
		_ = l.r.emit(Event{Kind: StepLog, Node: l.node, Attempt: l.attempt, Line: line})
	}
	if told != nil {
		_ = l.r.emit(*told)
	}
}

// rollLocked starts the first interval, or sums up one that has run its
// length: it ended before whatever is being counted now, which starts the
// next. It returns the summary line, "" when there is none yet.
func (l *retryLog) rollLocked() string {
	now := l.r.now()
	if l.since.IsZero() {
		l.since = now
	}
	if now.Sub(l.since) >= l.interval {
		return l.summaryLocked(now)
	}
	return ""
}

// flush sums up what the last interval counted, when the attempt ends.
func (l *retryLog) flush() {
	l.mu.Lock()
	line := l.summaryLocked(l.r.now())
	l.mu.Unlock()
	if line != "" {
		_ = l.r.emit(Event{Kind: StepLog, Node: l.node, Attempt: l.attempt, Line: line})
	}
}

// summaryLocked is the interval's line ("" when it counted nothing) and
// starts the next interval.
func (l *retryLog) summaryLocked(now time.Time) string {
	n := 0
	for _, c := range l.throttled {
		n += c
	}
	var parts []string
	if n > 0 {
		calls := slices.SortedFunc(maps.Keys(l.throttled), func(a, b string) int {
			return cmp.Or(cmp.Compare(l.throttled[b], l.throttled[a]), strings.Compare(a, b))
		})
		var each []string
		for _, c := range calls {
			each = append(each, fmt.Sprintf("%s %d", c, l.throttled[c]))
		}
		parts = append(parts, fmt.Sprintf("throttled: %d %s retried in the last %s (%s)",
			n, plural(n, "request"), roundSpan(now.Sub(l.since)), strings.Join(each, ", ")))
	}
	if l.more > 0 {
		parts = append(parts, fmt.Sprintf("%d more failed %s retried in the last %s", l.more, plural(l.more, "call"), roundSpan(now.Sub(l.since))))
	}
	switch {
	case l.conc == 0:
	case l.conc != l.concFrom:
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("concurrency now %d, from %d in the last %s", l.conc, l.concFrom, roundSpan(now.Sub(l.since))))
		} else {
			parts[len(parts)-1] += fmt.Sprintf(", concurrency now %d (from %d)", l.conc, l.concFrom)
		}
	case n > 0:
		parts[len(parts)-1] += fmt.Sprintf(", concurrency now %d", l.conc)
	}
	l.since, l.more, l.concFrom = now, 0, l.conc
	clear(l.told)
	clear(l.throttled)
	return strings.Join(parts, "; ")
}

func roundSpan(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// watched puts an attempt's context under the run's call watch, when the
// run has one, with the step's unavailable_after (else the runbook's, else
// DefaultUnavailableAfter). The retry log it returns hears of the calls'
// retries and of the step's concurrency; the returned function ends the
// watch and sums up what the log counted.
func (r *run) watched(ctx context.Context, n *Node, attempt int, st settings) (context.Context, *retryLog, func()) {
	l := &retryLog{r: r, node: n.Addr, attempt: attempt, interval: cmp.Or(r.opts.RetrySummaryInterval, DefaultRetrySummaryInterval),
		told: map[string]bool{}, throttled: map[string]int{}}
	if r.opts.CallWatch == nil {
		return ctx, l, l.flush
	}
	bound := cmp.Or(st.unavailable, r.rb.UnavailableAfter, DefaultUnavailableAfter)
	if bound < 0 {
		bound = 0
	}
	wctx, cancel := r.opts.CallWatch(ctx, r.now, bound, l.retried)
	return wctx, l, func() { cancel(); l.flush() }
}

// UnavailableError is a step that failed because a service it calls
// stopped answering: the watch's cause, and what the step had done by then.
// The engine does not retry such a step; the run can be resumed once the
// service answers again.
type UnavailableError struct {
	Cause error
	// Step is the step's own error once its calls were cut short: what it
	// says it did and did not do.
	Step error
	// Done is the step's last progress, nil when it reported none.
	Done *Progress
}

func (e *UnavailableError) Error() string {
	// The step's first line says best what it did ("300 of 300 changes
	// failed (0 copied...)"), unless it only says that it was stopped.
	// Whole: a cut could leave part of a sensitive value unmasked.
	if e.Step != nil {
		first, _, _ := strings.Cut(e.Step.Error(), "\n")
		// A step that says the cause itself says it once, here first.
		first = strings.ReplaceAll(first, ": "+e.Cause.Error(), "")
		if first != "" && first != context.Canceled.Error() {
			return fmt.Sprintf("%v; the step: %s", e.Cause, first)
		}
	}
	done := "no progress reported"
	if e.Done != nil {
		done = fmt.Sprintf("done so far: %d of %d %s", e.Done.Done, e.Done.Total, e.Done.Unit)
		if e.Done.Total == 0 {
			done = fmt.Sprintf("done so far: %d %s", e.Done.Done, e.Done.Unit)
		}
	}
	return fmt.Sprintf("%v; %s", e.Cause, strings.TrimSpace(done))
}

func (e *UnavailableError) Unwrap() error { return e.Cause }

// unavailableCause is the cause ctx ended with when a call watch ended it
// (the cause says Unavailable), else nil.
func unavailableCause(ctx context.Context) error {
	c := context.Cause(ctx)
	var u interface{ Unavailable() bool }
	if c != nil && errors.As(c, &u) && u.Unavailable() {
		return c
	}
	return nil
}
