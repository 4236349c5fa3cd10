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
// store: it halves on a throttling answer and grows by one after a window
// of successes, so a restore backs off when S3 says SlowDown and climbs
// back once the prefix has scaled.
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
}

func newAdaptiveLimit(max int) *adaptiveLimit {
	if max < 1 {
		max = 1
	}
	return &adaptiveLimit{limit: max, max: max, wake: make(chan struct{})}
}

// Acquire waits for a free slot or the end of ctx.
func (l *adaptiveLimit) Acquire(ctx context.Context) error {
	for {
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
	defer l.mu.Unlock()
	l.inflight--
	switch {
	case throttled(err) && l.streak >= 0:
		l.limit = max(1, l.limit/2)
		// The requests still in flight were sent at the old rate: their
		// answers do not count towards the next change.
		l.streak = -l.inflight
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
