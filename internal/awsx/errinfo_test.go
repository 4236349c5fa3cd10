package awsx

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestDescribeError(t *testing.T) {
	signed, _ := http.NewRequest(http.MethodPost, "https://backup.us-west-2.amazonaws.com/", nil)
	signed.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261120/us-west-2/backup/aws4_request, SignedHeaders=host, Signature=abc")
	apiErr := &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Backup vault other-vault does not exist"}
	sdkErr := &smithy.OperationError{ServiceID: "Backup", OperationName: "ListRecoveryPointsByBackupVault",
		Err: &awshttp.ResponseError{RequestID: "req-1", ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404, Request: signed}},
			Err:      apiErr,
		}}}
	tests := []struct {
		name string
		err  error
		want ErrorInfo
	}{
		{"nil", nil, ErrorInfo{}},
		{"plain", fmt.Errorf("read vaults: %w", errors.New("connection refused")), ErrorInfo{
			Summary: "connection refused", Full: "read vaults: connection refused"}},
		{"sdk", fmt.Errorf("list points of other-vault: %w", sdkErr), ErrorInfo{
			Service: "Backup", Operation: "ListRecoveryPointsByBackupVault", Region: "us-west-2",
			RequestID: "req-1", Code: "ResourceNotFoundException", Message: "Backup vault other-vault does not exist", Status: 404,
			Summary: "ResourceNotFoundException: Backup vault other-vault does not exist (ListRecoveryPointsByBackupVault, us-west-2, HTTP 404)",
			Full:    "list points of other-vault: " + sdkErr.Error()}},
		{"api error alone", apiErr, ErrorInfo{Code: "ResourceNotFoundException", Message: "Backup vault other-vault does not exist",
			Summary: "ResourceNotFoundException: Backup vault other-vault does not exist", Full: apiErr.Error()}},
		{"unsigned", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: errors.New("dial tcp: timeout")}, ErrorInfo{
			Service: "S3", Operation: "GetObject", Summary: "dial tcp: timeout (GetObject)",
			Full: "operation error S3: GetObject, dial tcp: timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescribeError(tc.err); got != tc.want {
				t.Errorf("DescribeError:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSignedRegion(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "Bearer x": "",
		"AWS4-HMAC-SHA256 Credential=AKID/20261120/eu-west-1/s3/aws4_request, SignedHeaders=host": "eu-west-1",
		"AWS4-HMAC-SHA256 Credential=AKID/short":                                                  "",
	} {
		if got := signedRegion(in); got != want {
			t.Errorf("signedRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
