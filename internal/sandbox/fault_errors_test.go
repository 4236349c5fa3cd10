package sandbox_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// answer is a failed call as a client sees it.
type answer struct {
	code   string
	status int
	header http.Header
	fault  smithy.ErrorFault // the fault the protocol reports, when it reports one
	err    error             // the error as the SDK reports it, for its retry classification
}

// sdkAnswer reads an answer from an SDK call's error.
func sdkAnswer(t *testing.T, err error) answer {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("error %v is not an API error with an HTTP response", err)
	}
	return answer{code: ae.ErrorCode(), status: re.HTTPStatusCode(), header: re.Response.Header, fault: ae.ErrorFault(), err: err}
}

// rawAnswer builds the error the SDK would report for a response the test
// decoded itself.
func rawAnswer(resp *http.Response, code, message string, fault smithy.ErrorFault) answer {
	err := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp},
		Err: &smithy.GenericAPIError{Code: code, Message: message, Fault: fault}}
	return answer{code: code, status: resp.StatusCode, header: resp.Header, fault: fault, err: err}
}

// queryErrorAnswer decodes the query protocol's <ErrorResponse>.
func queryErrorAnswer(t *testing.T, resp *http.Response, body []byte) answer {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("query error response %q: %v", body, err)
	}
	fault := map[string]smithy.ErrorFault{"Sender": smithy.FaultClient, "Receiver": smithy.FaultServer}[doc.Error.Type]
	if fault == smithy.FaultUnknown {
		t.Errorf("query error Type %q, want Sender or Receiver", doc.Error.Type)
	}
	return rawAnswer(resp, doc.Error.Code, doc.Error.Message, fault)
}

// want is what a service answers one fault kind with.
type want struct {
	code   string
	status int
}

// TestFaultErrorsAreEachServicesOwn injects each failing fault kind into
// each protocol the sandbox serves and checks the answer is the one AWS
// gives for that service: its error code, HTTP status and error shape, and
// that the SDK's retryer classifies it as AWS's would be (a throttle, or a
// transient error it retries).
func TestFaultErrorsAreEachServicesOwn(t *testing.T) {
	e := start(t, sandbox.Options{Empty: true})
	one := e.noRetry()
	ctx := e.ctx
	header := func(t *testing.T, a answer, k, v string) {
		t.Helper()
		if got := a.header.Get(k); got != v {
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
	contentType := func(t *testing.T, a answer, v string) {
		t.Helper()
		if got := a.header.Get("Content-Type"); !strings.HasPrefix(got, v) {
			t.Errorf("Content-Type %q, want %s", got, v)
		}
	}
	protocols := []struct {
		name    string
		service string // the SigV4 signing name a fault names
		call    func(t *testing.T) answer
		shape   func(t *testing.T, k sandbox.FaultKind, a answer)
		want    map[sandbox.FaultKind]want
	}{
		{
			name: "s3-rest-xml", service: "s3",
			call: func(t *testing.T) answer {
				_, err := e.s3(one).ListBuckets(ctx, &s3.ListBucketsInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) { contentType(t, a, "application/xml") },
			want: map[sandbox.FaultKind]want{
				sandbox.FaultThrottle: {"SlowDown", 503},
				sandbox.FaultError5xx: {"InternalError", 500},
				sandbox.FaultOutage:   {"ServiceUnavailable", 503},
			},
		},
		{
			name: "ec2-query", service: "ec2",
			call: func(t *testing.T) answer {
				_, err := ec2.NewFromConfig(one).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) { contentType(t, a, "text/xml") },
			want: map[sandbox.FaultKind]want{
				sandbox.FaultThrottle: {"RequestLimitExceeded", 503},
				sandbox.FaultError5xx: {"InternalError", 500},
				sandbox.FaultOutage:   {"Unavailable", 503},
			},
		},
		{
			name: "autoscaling-query", service: "autoscaling",
			call: func(t *testing.T) answer {
				_, err := autoscaling.NewFromConfig(one).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) { contentType(t, a, "text/xml") },
			want:  queryCommonErrors(),
		},
		{
			name: "cloudwatch-rpcv2-cbor", service: "monitoring",
			call: func(t *testing.T) answer {
				_, err := cloudwatch.NewFromConfig(one).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, k sandbox.FaultKind, a answer) {
				contentType(t, a, "application/cbor")
				header(t, a, "Smithy-Protocol", "rpc-v2-cbor")
				// CloudWatch is query-compatible: the query code travels in
				// a header, and the SDK reports it.
				fault := "Sender"
				if k != sandbox.FaultThrottle {
					fault = "Receiver"
				}
				header(t, a, "X-Amzn-Query-Error", a.code+";"+fault)
			},
			want: queryCommonErrors(),
		},
		{
			name: "cloudwatch-query", service: "monitoring",
			call: func(t *testing.T) answer {
				resp, body := signedDo(t, e, http.MethodPost, "monitoring", "/", "Action=DescribeAlarms&Version=2010-08-01")
				return queryErrorAnswer(t, resp, body)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) { contentType(t, a, "text/xml") },
			want:  queryCommonErrors(),
		},
		{
			name: "backup-rest-json", service: "backup",
			call: func(t *testing.T) answer {
				_, err := backup.NewFromConfig(one).ListBackupVaults(ctx, &backup.ListBackupVaultsInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) {
				contentType(t, a, "application/json")
				header(t, a, "X-Amzn-Errortype", a.code)
			},
			want: map[sandbox.FaultKind]want{
				sandbox.FaultThrottle: {"ThrottlingException", 400},
				sandbox.FaultError5xx: {"ServiceUnavailableException", 500},
				sandbox.FaultOutage:   {"ServiceUnavailableException", 503},
			},
		},
		{
			name: "efs-rest-json", service: "elasticfilesystem",
			call: func(t *testing.T) answer {
				resp, body := signedDo(t, e, http.MethodGet, "elasticfilesystem", "/2015-02-01/file-systems", "")
				var out struct{ ErrorCode, Message string }
				if err := json.Unmarshal(body, &out); err != nil {
					t.Fatalf("EFS error response %q: %v", body, err)
				}
				return rawAnswer(resp, out.ErrorCode, out.Message, smithy.FaultUnknown)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) {
				contentType(t, a, "application/json")
				header(t, a, "X-Amzn-Errortype", a.code)
			},
			want: map[sandbox.FaultKind]want{
				sandbox.FaultThrottle: {"ThrottlingException", 400},
				sandbox.FaultError5xx: {"InternalServerError", 500},
				sandbox.FaultOutage:   {"ServiceUnavailableException", 503},
			},
		},
		{
			name: "sts-query", service: "sts",
			call: func(t *testing.T) answer {
				_, err := sts.NewFromConfig(one).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return sdkAnswer(t, err)
			},
			shape: func(t *testing.T, _ sandbox.FaultKind, a answer) { contentType(t, a, "text/xml") },
			want:  queryCommonErrors(),
		},
	}
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, p := range protocols {
		for _, k := range []sandbox.FaultKind{sandbox.FaultThrottle, sandbox.FaultError5xx, sandbox.FaultOutage} {
			t.Run(p.name+"/"+string(k), func(t *testing.T) {
				f := sandbox.Fault{Kind: k, Service: p.service}
				if k == sandbox.FaultOutage {
					f = sandbox.Fault{Kind: k, Region: e.cfg.Region}
				}
				e.srv.SetFaults([]sandbox.Fault{f})
				defer e.srv.SetFaults(nil)
				a := p.call(t)
				if w := p.want[k]; a.code != w.code || a.status != w.status {
					t.Fatalf("answered %s %d, want %s %d", a.code, a.status, w.code, w.status)
				}
				p.shape(t, k, a)
				if a.fault != smithy.FaultUnknown && (a.fault == smithy.FaultClient) != (k == sandbox.FaultThrottle) {
					t.Errorf("fault %v for a %s fault", a.fault, k)
				}
				if got := retryables.IsErrorRetryable(a.err); got != aws.TrueTernary {
					t.Errorf("the SDK does not retry %s %d (%v)", a.code, a.status, got)
				}
				if got := throttles.IsErrorThrottle(a.err) == aws.TrueTernary; got != (k == sandbox.FaultThrottle) {
					t.Errorf("the SDK takes %s %d for a throttle: %v", a.code, a.status, got)
				}
			})
		}
	}
}

// queryCommonErrors are the common errors of the AWS query protocol, which
// Auto Scaling, CloudWatch (in both its protocols) and STS answer with.
func queryCommonErrors() map[sandbox.FaultKind]want {
	return map[sandbox.FaultKind]want{
		sandbox.FaultThrottle: {"Throttling", 400},
		sandbox.FaultError5xx: {"InternalFailure", 500},
		sandbox.FaultOutage:   {"ServiceUnavailable", 503},
	}
}
