package awsx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// opErr wraps err as the SDK does a failed call's.
func opErr(service, op string, status int, requestID string, err error) error {
	if status != 0 {
		err = &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
			RequestID:     requestID,
		}
	}
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func TestDescribeError(t *testing.T) {
	refused := &ConnectError{Endpoint: "http://127.0.0.1:4566", Reason: "connection refused",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name string
		err  error
		want ErrorInfo // Full is checked against err.Error()
	}{
		{"nil", nil, ErrorInfo{}},
		{"api error", opErr("S3", "GetObject", 403, "REQ1", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}),
			ErrorInfo{Service: "S3", Operation: "GetObject", Code: "AccessDenied", Message: "Access Denied", Status: 403, RequestID: "REQ1",
				Summary: "AccessDenied: Access Denied (S3 GetObject, HTTP 403, request REQ1)"}},
		{"code only", opErr("CloudWatch", "DescribeAlarms", 400, "", &smithy.GenericAPIError{Code: "InvalidNextToken"}),
			ErrorInfo{Service: "CloudWatch", Operation: "DescribeAlarms", Code: "InvalidNextToken", Status: 400,
				Summary: "InvalidNextToken (CloudWatch DescribeAlarms, HTTP 400)"}},
		{"wrapped by a step", fmt.Errorf("s3_restore: copy: %w", opErr("S3", "CopyObject", 503, "R2",
			&retry.MaxAttemptsError{Attempt: 8, Err: &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}})),
			ErrorInfo{Service: "S3", Operation: "CopyObject", Code: "SlowDown", Message: "Please reduce your request rate.", Status: 503, RequestID: "R2",
				Summary: "SlowDown: Please reduce your request rate. (S3 CopyObject, HTTP 503, after 8 attempts, request R2)"}},
		{"refused", opErr("S3", "ListBuckets", 0, "", refused),
			ErrorInfo{Service: "S3", Operation: "ListBuckets", Message: "connect to http://127.0.0.1:4566: connection refused",
				Summary: "connect to http://127.0.0.1:4566: connection refused (S3 ListBuckets)"}},
		{"read-only", opErr("S3", "DeleteObject", 0, "", &ReadOnlyError{Service: "s3", Operation: "DeleteObject"}),
			ErrorInfo{Service: "S3", Operation: "DeleteObject", Message: "read-only: refused s3 DeleteObject",
				Summary: "read-only: refused s3 DeleteObject"}},
		{"not CBOR", opErr("CloudWatch", "DescribeAlarms", 404, "", &NotCBORError{Status: 404, ContentType: "text/xml"}),
			ErrorInfo{Service: "CloudWatch", Operation: "DescribeAlarms", Status: 404,
				Message: (&NotCBORError{Status: 404, ContentType: "text/xml"}).Error(),
				Summary: (&NotCBORError{Status: 404, ContentType: "text/xml"}).Error() + " (CloudWatch DescribeAlarms, HTTP 404)"}},
		{"plain", fmt.Errorf("load AWS configuration: %w", errors.New("no such profile")),
			ErrorInfo{Summary: "no such profile"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DescribeError(tc.err)
			if tc.err != nil {
				tc.want.Full = tc.err.Error()
			}
			if got != tc.want {
				t.Errorf("DescribeError:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Errors from real calls: a service error and a dead endpoint.
func TestDescribeErrorOfCalls(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, sandbox.Options{})
	c := sandboxClients(t, srv, cfg, false)
	s3c, err := c.S3(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s3c.ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String("no-such-bucket-here")})
	info := DescribeError(err)
	if info.Code != "NoSuchBucket" || info.Status != 404 || info.Service != "S3" || info.Operation != "ListObjectVersions" ||
		info.RequestID == "" || !strings.HasPrefix(info.Summary, "NoSuchBucket") || info.Full != err.Error() {
		t.Errorf("NoSuchBucket: %+v", info)
	}

	dead, err := New(Options{SandboxEndpoint: closedEndpoint(t)})
	if err != nil {
		t.Fatal(err)
	}
	s3c, _ = dead.S3(t.Context(), "")
	_, err = s3c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if info := DescribeError(err); !strings.HasPrefix(info.Summary, "connect to http://127.0.0.1:") || !strings.Contains(info.Summary, "connection refused") {
		t.Errorf("refused: %+v", info)
	}
}
