package awsx

import (
	"context"
	"errors"
	"net"
	"net/url"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// ConnectError is a call that never reached its endpoint: nothing listens
// there, or its host name does not resolve. It reads "connect to
// http://127.0.0.1:4566: connection refused" and wraps the transport's
// error, so errors.Is(err, syscall.ECONNREFUSED) still holds.
type ConnectError struct {
	Endpoint string // scheme and host: "http://127.0.0.1:4566"
	Reason   string // "connection refused", "no such host"
	Err      error
}

func (e *ConnectError) Error() string { return "connect to " + e.Endpoint + ": " + e.Reason }

func (e *ConnectError) Unwrap() error { return e.Err }

// asConnectError recognises a refused connection or an unknown host in a
// transport error.
func asConnectError(err error) (*ConnectError, bool) {
	if err == nil {
		return nil, false
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce, true
	}
	reason := ""
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.As(err, &dns) && dns.IsNotFound:
		reason = "no such host"
	default:
		return nil, false
	}
	ep := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			ep = u.Scheme + "://" + u.Host
		}
	}
	if ep == "" && dns != nil {
		ep = dns.Name
	}
	if ep == "" {
		ep = "the endpoint"
	}
	return &ConnectError{Endpoint: redactURL(ep), Reason: reason, Err: err}, true
}

// notRetriedConnect makes the retryer give up on a refused connection or
// an unknown host at once: neither heals within a call's backoff, and
// retrying them turned a dead endpoint into a half-minute wait ending in
// "context deadline exceeded".
type notRetriedConnect struct{}

func (notRetriedConnect) IsErrorRetryable(err error) aws.Ternary {
	if _, ok := asConnectError(err); ok {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// connectErrors is the Finalize middleware, outside the retry loop, that
// names a call's failure to connect.
type connectErrors struct{}

func (connectErrors) ID() string { return "drconsole.ConnectErrors" }

func (connectErrors) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleFinalize(ctx, in)
	if ce, ok := asConnectError(err); ok {
		return out, md, ce
	}
	return out, md, err
}

func addConnectErrors(st *middleware.Stack) error {
	return st.Finalize.Add(connectErrors{}, middleware.Before)
}
