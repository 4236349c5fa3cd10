package awsx

import (
	"context"
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// IsAmbiguous reports whether a failed call's outcome is unknown: the
// request may have reached the service and been applied, but no whole
// answer came back. That is a connection cut or reset after the request
// was sent, a timeout waiting for the answer, or a success status whose
// body was lost (S3 sends CopyObject's and CompleteMultipartUpload's 200
// before it has finished, and the final word is in the body).
//
// The SDK retries all of these as connection errors, which is right for a
// read and wrong for a write that is not idempotent: a CopyObject or a
// DeleteObject applied once and sent again leaves a second version or a
// second delete marker. Not ambiguous: a connection never made (refused,
// unknown host, a failed dial), since nothing was sent; an error answer,
// throttling and 5xx included, since S3 did not apply the request; and the
// caller's own cancellation, which is the caller's question.
func IsAmbiguous(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var canceled *smithy.CanceledError
	if errors.As(err, &canceled) {
		return false
	}
	if _, ok := asConnectError(err); ok {
		return false
	}
	// The SDK wraps a failure to send in a ResponseError of status 0: no
	// answer came.
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		s := re.HTTPStatusCode()
		return s >= 200 && s <= 299
	}
	if notSent(err) {
		return false
	}
	return retry.RetryableConnectionError{}.IsErrorRetryable(err) == aws.TrueTernary
}

// notSent reports a failure to open the connection: the dial (or the
// proxy's) failed, or the host did not resolve.
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
}

// NoAmbiguousRetry is a per-operation option for S3 writes that must not
// be applied twice (CopyObject, DeleteObject without a version id,
// CompleteMultipartUpload): the SDK still retries throttling, 5xx answers
// and connections never made, but returns an ambiguous failure
// (IsAmbiguous) to the caller at once, who must look at the key before
// sending the write again.
func NoAmbiguousRetry(o *s3.Options) {
	if o.Retryer != nil {
		o.Retryer = noAmbiguousRetry(o.Retryer)
	}
}

func noAmbiguousRetry(r aws.Retryer) aws.Retryer {
	if _, ok := r.(writeOnce); ok {
		return r
	}
	v2, ok := r.(aws.RetryerV2)
	if !ok {
		v2 = retryerV2{r}
	}
	return writeOnce{v2}
}

// writeOnce is a retryer that does not retry ambiguous failures. It wraps
// the client's own retryer (shared, with its adaptive rate and the watch),
// so everything else about the call's retries is unchanged.
type writeOnce struct{ aws.RetryerV2 }

func (r writeOnce) IsErrorRetryable(err error) bool {
	return !IsAmbiguous(err) && r.RetryerV2.IsErrorRetryable(err)
}

// retryerV2 lifts a retryer without GetAttemptToken.
type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}
