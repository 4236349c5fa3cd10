package awsx

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrorInfo is what an operator needs of a failed AWS call: which call,
// where, AWS's own code and message, and the request id to quote to AWS
// support.
type ErrorInfo struct {
	Service, Operation, Region string
	RequestID                  string
	Code, Message              string
	Status                     int // HTTP status; 0 when nothing was answered
	// Summary is one line with the useful part first: the code and
	// message, then the call.
	Summary string
	// Full is the whole error text, wrapping included.
	Full string
}

// DescribeError takes err apart into what the SDK's error chain knows:
// smithy.OperationError (service, operation), awshttp.ResponseError
// (status, request id, and the region from the request's signature) and
// smithy.APIError (code, message). An error that is none of them keeps
// only its text.
func DescribeError(err error) ErrorInfo {
	if err == nil {
		return ErrorInfo{}
	}
	info := ErrorInfo{Full: err.Error()}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		info.Service, info.Operation = oe.ServiceID, oe.OperationName
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		info.RequestID = re.RequestID
		info.Status = re.HTTPStatusCode()
		if re.Response != nil && re.Response.Response != nil && re.Response.Request != nil {
			info.Region = signedRegion(re.Response.Request.Header.Get("Authorization"))
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		info.Code, info.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	info.Summary = summary(info, err)
	return info
}

// summary puts what went wrong before where, so a line cut at the column
// width still says it.
func summary(i ErrorInfo, err error) string {
	var what string
	switch {
	case i.Code != "" && i.Message != "":
		what = i.Code + ": " + i.Message
	case i.Code != "":
		what = i.Code
	default:
		// The innermost error is the useful part; the wrapping says where.
		what = innermost(err).Error()
	}
	var where []string
	if i.Operation != "" {
		where = append(where, i.Operation)
	}
	if i.Region != "" {
		where = append(where, i.Region)
	}
	if i.Status != 0 {
		where = append(where, fmt.Sprintf("HTTP %d", i.Status))
	}
	if len(where) == 0 {
		return what
	}
	return what + " (" + strings.Join(where, ", ") + ")"
}

// innermost is the last error of err's chain of single wraps.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// signedRegion reads the region from a SigV4 Authorization header's
// credential scope (Credential=AKID/DATE/REGION/SERVICE/aws4_request).
func signedRegion(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[2]
}
