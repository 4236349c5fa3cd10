package awsx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrorInfo describes a failed call for people: Summary is one line that
// starts with what went wrong ("AccessDenied: Access Denied"), Full the
// whole chain as the SDK and drconsole wrapped it.
type ErrorInfo struct {
	Service, Operation, Region, RequestID, Code, Message string
	Status                                               int
	Summary                                              string
	Full                                                 string
}

// DescribeError takes apart an error from an SDK call: the operation
// (smithy.OperationError), the service's code and message
// (smithy.APIError), the HTTP status and request id
// (awshttp.ResponseError), a failure to connect (ConnectError) and the
// read-only guard's refusal (ReadOnlyError). Region is left to the caller,
// which knows where it called. A nil error gives the zero ErrorInfo.
func DescribeError(err error) ErrorInfo {
	if err == nil {
		return ErrorInfo{}
	}
	info := ErrorInfo{Full: err.Error()}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		info.Service = oe.ServiceID
		info.Operation = oe.OperationName
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		info.Status = re.HTTPStatusCode()
		info.RequestID = re.ServiceRequestID()
	}
	var ae smithy.APIError
	var ce *ConnectError
	var ro *ReadOnlyError
	var pe *NotCBORError
	var me *retry.MaxAttemptsError
	switch {
	case errors.As(err, &ae):
		info.Code = ae.ErrorCode()
		info.Message = ae.ErrorMessage()
		info.Summary = info.Code
		if info.Message != "" {
			info.Summary += ": " + info.Message
		}
	case errors.As(err, &ce):
		info.Message = ce.Error()
		info.Summary = info.Message
	case errors.As(err, &ro):
		if info.Service == "" {
			info.Service, info.Operation = ro.Service, ro.Operation
		}
		info.Message = ro.Error()
		info.Summary = info.Message
	case errors.As(err, &pe):
		info.Message = pe.Error()
		info.Summary = pe.Error()
	default:
		info.Summary = innermost(err)
	}
	if info.Code == "" && info.Status != 0 && info.Summary == "" {
		info.Summary = fmt.Sprintf("HTTP %d", info.Status)
	}
	var where []string
	// The operation is named unless the summary names it already.
	if info.Operation != "" && !strings.Contains(info.Summary, info.Operation) {
		where = append(where, strings.TrimSpace(info.Service+" "+info.Operation))
	}
	if info.Status != 0 {
		where = append(where, fmt.Sprintf("HTTP %d", info.Status))
	}
	if errors.As(err, &me) {
		where = append(where, fmt.Sprintf("after %d attempts", me.Attempt))
	}
	if info.RequestID != "" {
		where = append(where, "request "+info.RequestID)
	}
	if len(where) > 0 {
		info.Summary += " (" + strings.Join(where, ", ") + ")"
	}
	return info
}

// innermost is the message of the deepest error that still says
// something: the SDK's wrappers repeat their causes, the cause alone
// reads best.
func innermost(err error) string {
	msg := err.Error()
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if m := e.Error(); m != "" {
			msg = m
		}
	}
	return msg
}
