package tui

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestErrorTextPutsTheUsefulPartFirst(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://monitoring.us-west-2.amazonaws.com/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261120/us-west-2/monitoring/aws4_request, SignedHeaders=host")
	sdk := &smithy.OperationError{ServiceID: "CloudWatch", OperationName: "DescribeAlarms",
		Err: &awshttp.ResponseError{RequestID: "r-1", ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400, Request: req}},
			Err:      &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"},
		}}}
	tests := []struct {
		name      string
		err       error
		text, row string
	}{
		{"aws call", fmt.Errorf("describe alarms in us-west-2: %w", sdk),
			"Throttling: Rate exceeded (CloudWatch DescribeAlarms, HTTP 400, request r-1) — describe alarms in us-west-2",
			"Throttling: Rate exceeded"},
		{"aws call unwrapped", sdk, "Throttling: Rate exceeded (CloudWatch DescribeAlarms, HTTP 400, request r-1)", "Throttling: Rate exceeded"},
		{"no answer", fmt.Errorf("list buckets: %w", &smithy.OperationError{ServiceID: "S3", OperationName: "ListBuckets", Err: errors.New("connection refused")}),
			"connection refused (S3 ListBuckets) — list buckets", "connection refused"},
		{"not aws", errors.New("plan: step.x: bad\tvalue"), "plan: step.x: bad␣value", "plan: step.x: bad\tvalue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorText(tc.err); got != tc.text {
				t.Errorf("errorText = %q, want %q", got, tc.text)
			}
			if got := callError(tc.err); got != tc.row {
				t.Errorf("callError = %q, want %q", got, tc.row)
			}
		})
	}
}
