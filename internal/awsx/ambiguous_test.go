package awsx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// timeoutErr is a net.Error that timed out, as a response-header timeout
// reports.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsAmbiguous(t *testing.T) {
	// As the SDK wraps them: a failure to send is a ResponseError of
	// status 0 around a RequestSendError.
	answered := func(status int, err error) error {
		return &smithy.OperationError{ServiceID: "S3", OperationName: "CopyObject", Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}}
	}
	sent := func(err error) error {
		return answered(0, &smithyhttp.RequestSendError{Err: &url.Error{Op: "Put", URL: "http://127.0.0.1:5480/b/k", Err: err}})
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"answer cut mid-headers", sent(io.ErrUnexpectedEOF), true},
		{"connection reset after sending", sent(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), true},
		{"timeout waiting for the answer", sent(timeoutErr{}), true},
		{"closed connection", sent(errors.New("use of closed network connection")), true},
		{"200 whose body was cut", answered(200, io.ErrUnexpectedEOF), true},
		{"refused", sent(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), false},
		{"dial timeout", sent(&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}), false},
		{"no such host", sent(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "s3.example", Err: "no such host", IsNotFound: true}}), false},
		{"SlowDown", answered(503, &smithy.GenericAPIError{Code: "SlowDown"}), false},
		{"InternalError", answered(500, &smithy.GenericAPIError{Code: "InternalError"}), false},
		{"AccessDenied", answered(403, &smithy.GenericAPIError{Code: "AccessDenied"}), false},
		{"cancelled", &smithy.CanceledError{Err: context.Canceled}, false},
		{"deadline", sent(context.DeadlineExceeded), false},
	} {
		if got := IsAmbiguous(tc.err); got != tc.want {
			t.Errorf("%s: IsAmbiguous(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// A write whose answer the sandbox cuts after applying it is sent once
// with NoAmbiguousRetry, and the failure says its outcome is unknown;
// without the option the SDK sends it again, and the write lands twice.
// Throttling is still retried.
func TestNoAmbiguousRetryAgainstSandbox(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true})
	ctx := t.Context()
	c, err := New(Options{Target: TargetSandbox, SandboxEndpoint: srv.URL(), Credentials: cfg.Credentials, MaxAttempts: 3, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := c.S3(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	const b = "ambiguous"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	sends := func(op string, call func() error) (int, error) {
		before := len(srv.Requests())
		err := call()
		n := 0
		for _, r := range srv.Requests()[before:] {
			if r.Operation == op {
				n++
			}
		}
		return n, err
	}
	markers := func(key string) int {
		out, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), Prefix: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.DeleteMarkers)
	}
	del := func(key string, opts ...func(*s3.Options)) func() error {
		return func() error {
			_, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)}, opts...)
			return err
		}
	}

	srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "s3", Operation: "DeleteObject"}})
	n, err := sends("DeleteObject", del("once", NoAmbiguousRetry))
	if err == nil || !IsAmbiguous(err) || n != 1 {
		t.Errorf("dropped delete with NoAmbiguousRetry: %d sends, %v; want 1 send and an ambiguous error", n, err)
	}
	if m := markers("once"); m != 1 {
		t.Errorf("%d delete markers after one dropped delete, want 1", m)
	}
	// What the option prevents: the SDK's own retries each add a marker.
	n, err = sends("DeleteObject", del("twice"))
	if err == nil || n != 3 || markers("twice") != 3 {
		t.Errorf("dropped delete with the SDK's retries: %d sends, %d markers, %v; want 3 of each", n, markers("twice"), err)
	}

	srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultThrottle, Service: "s3", Operation: "DeleteObject", Every: 2}})
	if n, err = sends("DeleteObject", del("throttled", NoAmbiguousRetry)); err != nil || n != 1 {
		t.Errorf("first delete: %d sends, %v", n, err)
	}
	if n, err = sends("DeleteObject", del("throttled", NoAmbiguousRetry)); err != nil || n != 2 {
		t.Errorf("throttled delete with NoAmbiguousRetry: %d sends, %v; want a retry after the SlowDown", n, err)
	}
}
