package steps

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

const defaultAbortTimeout = 30 * time.Second

// adaptiveLimit bounds the requests in flight and adapts the bound to the
// store (additive increase, multiplicative decrease): it halves when the
// store throttles and grows by one after a window of successes, so a
// restore backs off when S3 says SlowDown and climbs back once the prefix
// has scaled or the burst has passed.
//
// It gates attempts, not calls (awsx.WithAttemptGate): each of the SDK's
// retries takes a slot, and Release hears of each throttled attempt.
type adaptiveLimit struct {
	mu       sync.Mutex
	limit    int
	max      int
	inflight int
	// streak counts successes since the limit last changed; the limit
	// grows after one full window (limit successes) and halves at most once
	// per window, so a burst of throttled answers to requests sent at the
	// same time counts as one signal.
	streak int
	wake   chan struct{}
	// changed, when set, is told each new limit (outside the lock).
	changed func(limit int)
}

func newAdaptiveLimit(max int) *adaptiveLimit {
	if max < 1 {
		max = 1
	}
	return &adaptiveLimit{limit: max, max: max, wake: make(chan struct{})}
}

// Acquire waits for a free slot or the end of ctx; an ended ctx gets none,
// free or not.
func (l *adaptiveLimit) Acquire(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		l.mu.Lock()
		if l.inflight < l.limit {
			l.inflight++
			l.mu.Unlock()
			return nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Release frees a slot and adapts the limit to how the request ended.
func (l *adaptiveLimit) Release(err error) {
	l.mu.Lock()
	l.inflight--
	was := l.limit
	switch {
	case throttled(err) && l.streak >= 0:
		l.throttledLocked()
	case err == nil:
		l.streak++
		if l.streak >= l.limit && l.limit < l.max {
			l.limit++
			l.streak = 0
		}
	case l.streak < 0:
		l.streak++
	}
	close(l.wake)
	l.wake = make(chan struct{})
	l.unlock(was)
}

func (l *adaptiveLimit) throttledLocked() {
	if l.streak < 0 {
		return // this window has halved already
	}
	l.limit = max(1, l.limit/2)
	// The requests in flight were sent at the old rate: their answers
	// do not count towards the next change.
	l.streak = -l.inflight
}

// unlock releases the lock and reports a change from was.
func (l *adaptiveLimit) unlock(was int) {
	now := l.limit
	l.mu.Unlock()
	if now != was && l.changed != nil {
		l.changed(now)
	}
}

// Limit is the current bound.
func (l *adaptiveLimit) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// throttled reports whether err is a store asking the client to slow down.
func throttled(err error) bool {
	if err == nil {
		return false
	}
	if isCode(err, "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
		"TooManyRequests", "TooManyRequestsException", "RequestThrottled", "ServiceUnavailable") {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusServiceUnavailable || re.HTTPStatusCode() == http.StatusTooManyRequests)
}

// transient reports whether a failed request may succeed when sent again
// later: throttling and server-side errors, after the SDK's own retries
// gave up.
func transient(err error) bool {
	if throttled(err) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	return isCode(err, "InternalError", "RequestTimeout", "RequestTimeTooSkewed")
}
