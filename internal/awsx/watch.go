package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
)

// A Watch follows every attempt of every call made under one context (a
// step's attempt, say) and tells a region that stopped answering from one
// that is slow: when every attempt to one service in one region has failed
// for Unavailable, with no attempt answered in between, it cancels the
// context with an *UnavailableError, so that the calls in flight and those
// waiting to retry stop at once and the caller can say why. Throttling is
// an answer (the service is up and asking for less), a 5xx or a broken
// connection is not.
//
// The SDK retries each call on its own; Retried hears of every retry it
// decides on, with its reason, so that a step that retries silently is no
// longer silent.
type Watch struct {
	// Unavailable is how long one service in one region may fail every
	// attempt before the watch gives up on it; 0 never gives up.
	Unavailable time.Duration
	// Now is the clock failures are timed on; nil is time.Now.
	Now func() time.Time
	// Retried, when set, is called for each attempt the SDK retries. It
	// is called from the goroutine making the call and must not block.
	Retried func(Retry)

	cancel context.CancelCauseFunc
	mu     sync.Mutex
	state  map[watchKey]*health
}

// Retry is one attempt of a call that failed and is being retried.
type Retry struct {
	Service, Operation, Region string
	// Throttled is set when the service asked the caller to slow down
	// (SlowDown, Throttling, RequestLimitExceeded...).
	Throttled bool
	// Reason is the failure in one line, as DescribeError summarises it.
	Reason string
}

// Call names the retried call: "s3 CopyObject in us-east-1".
func (r Retry) Call() string { return r.Service + " " + r.Operation + " in " + r.Region }

type watchKey struct{ region, service string }

// health is one service's record in one region.
type health struct {
	failingSince time.Time // first failure since the last answer; zero while answering
	failures     int
	last         error
}

// UnavailableError says which service in which region stopped answering,
// for how long, and how it last failed.
type UnavailableError struct {
	Region, Service string
	For             time.Duration
	Failures        int // attempts failed in a row
	Last            error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s %s is not answering: %d attempts failed in a row over %s, the last: %s",
		e.Region, e.Service, e.Failures, e.For.Round(time.Second), DescribeError(e.Last).Summary)
}

func (e *UnavailableError) Unwrap() error { return e.Last }

// Unavailable marks the error for callers that must not import this
// package (the run engine): a step that failed this way is not retried, as
// the same region would not answer the retry either.
func (e *UnavailableError) Unavailable() bool { return true }

type watchCtxKey struct{}

// WithWatch returns a context under which w sees every call, and that w
// cancels when a service stops answering. The cancel function releases
// it.
func WithWatch(ctx context.Context, w *Watch) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	w.cancel = cancel
	w.state = map[watchKey]*health{}
	if w.Now == nil {
		w.Now = time.Now
	}
	return context.WithValue(ctx, watchCtxKey{}, w), func() { cancel(nil) }
}

func watchOf(ctx context.Context) *Watch {
	w, _ := ctx.Value(watchCtxKey{}).(*Watch)
	return w
}

// answered reports whether an attempt's outcome shows the service alive:
// success, a client error (NoSuchKey, AccessDenied...), or throttling.
func answered(err error) bool {
	if err == nil || retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() < http.StatusInternalServerError
	}
	return false
}

// attempt records one attempt's outcome and cancels the watch's context
// when its service has now failed for longer than allowed.
func (w *Watch) attempt(region, service string, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // the caller gave up; that says nothing of the service
	}
	k := watchKey{region, service}
	now := w.Now()
	w.mu.Lock()
	h := w.state[k]
	if h == nil {
		h = &health{}
		w.state[k] = h
	}
	if answered(err) {
		*h = health{}
		w.mu.Unlock()
		return
	}
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
	h.failures++
	h.last = err
	var down *UnavailableError
	if w.Unavailable > 0 && now.Sub(h.failingSince) >= w.Unavailable {
		down = &UnavailableError{Region: region, Service: service, For: now.Sub(h.failingSince), Failures: h.failures, Last: err}
	}
	w.mu.Unlock()
	if down != nil {
		w.cancel(down)
	}
}

// watchAttempts is the Finalize middleware, inside the retry loop, that
// passes each attempt through the context's gate and reports it to the
// context's watch.
type watchAttempts struct{}

func (watchAttempts) ID() string { return "drconsole.WatchAttempts" }

func (watchAttempts) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	// The gate is taken inside the retry loop, after the SDK's own rate
	// limiter has let the attempt go, so no slot is held while it waits
	// or while the call backs off.
	g, _ := ctx.Value(attemptGateKey{}).(AttemptGate)
	if g != nil {
		if err := g.Acquire(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("%w: %w", ErrNotSent, err)
		}
	}
	out, md, err := next.HandleFinalize(ctx, in)
	if g != nil {
		g.Release(err)
	}
	if w := watchOf(ctx); w != nil {
		w.attempt(awsmiddleware.GetRegion(ctx), serviceName(middleware.GetServiceID(ctx)), err)
	}
	return out, md, err
}

func addWatchAttempts(st *middleware.Stack) error {
	// After the retry middleware: once per attempt. A stack without one
	// (a client built without retries) sees each call once.
	if err := st.Finalize.Insert(watchAttempts{}, "Retry", middleware.After); err != nil {
		return st.Finalize.Add(watchAttempts{}, middleware.After)
	}
	return nil
}

// watchedRetryer tells the context's watch of each retry the SDK decides
// on: GetRetryToken is called exactly then, with the attempt's context.
type watchedRetryer struct{ aws.Retryer }

func (r watchedRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.GetInitialToken(), nil
}

func (r watchedRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	if w := watchOf(ctx); w != nil && w.Retried != nil {
		w.Retried(Retry{
			Service: serviceName(middleware.GetServiceID(ctx)), Operation: middleware.GetOperationName(ctx),
			Region:    awsmiddleware.GetRegion(ctx),
			Throttled: retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(opErr).Bool(),
			Reason:    DescribeError(opErr).Summary,
		})
	}
	return r.Retryer.GetRetryToken(ctx, opErr)
}

// An AttemptGate bounds the attempts in flight of the calls made under a
// context (WithAttemptGate): Acquire before each attempt, Release with the
// attempt's outcome as soon as it has one.
type AttemptGate interface {
	Acquire(ctx context.Context) error
	Release(err error)
}

type attemptGateKey struct{}

// ErrNotSent marks a call given up before its attempt was sent: waiting
// for the gate, its context ended. A write that fails so was not applied
// by that attempt, and the attempts before it had been answered.
var ErrNotSent = errors.New("not sent")

// WithAttemptGate returns a context under which every attempt of every
// call, the SDK's retries included, passes through g. Bounding attempts
// rather than calls matters under throttling: a call waiting out its
// backoff holds no slot, so the attempts in flight stay at the bound, and
// g hears of each throttled attempt at once rather than once the call has
// used up its retries.
func WithAttemptGate(ctx context.Context, g AttemptGate) context.Context {
	return context.WithValue(ctx, attemptGateKey{}, g)
}

// watched wraps a retryer so the context's watch hears of its retries.
func watched(r aws.Retryer) aws.Retryer {
	if _, ok := r.(watchedRetryer); ok || r == nil {
		return r
	}
	return watchedRetryer{r}
}

// WatchCalls watches the calls made under the returned context, as the run
// engine's runbook.Options.CallWatch asks: a service in a region that
// fails every attempt for unavailable cancels it with an
// *UnavailableError (0 never does), and retried hears of each retry the
// SDK makes, the call named as Retry.Call names it.
func WatchCalls(ctx context.Context, now func() time.Time, unavailable time.Duration, retried func(call, reason string, throttled bool)) (context.Context, context.CancelFunc) {
	w := &Watch{Unavailable: unavailable, Now: now}
	if retried != nil {
		w.Retried = func(r Retry) { retried(r.Call(), r.Reason, r.Throttled) }
	}
	return WithWatch(ctx, w)
}
