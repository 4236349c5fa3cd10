package awsx

import (
	"context"
	"fmt"
	"mime"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatchProtocol is the wire protocol CloudWatch clients speak.
type CloudWatchProtocol int

// The CloudWatch protocols.
const (
	// CloudWatchCBOR is Smithy's RPC v2 CBOR protocol, the only one the
	// pinned SDK speaks by default and what AWS's endpoints prefer.
	CloudWatchCBOR CloudWatchProtocol = iota
	// CloudWatchQuery is the awsQuery protocol (form-encoded POST, XML
	// answers), for endpoints that speak nothing else: older emulators
	// and some proxies.
	CloudWatchQuery
)

// String names the protocol as the --cloudwatch-protocol flag spells it.
func (p CloudWatchProtocol) String() string {
	switch p {
	case CloudWatchCBOR:
		return "cbor"
	case CloudWatchQuery:
		return "query"
	}
	return fmt.Sprintf("cloudwatch-protocol(%d)", int(p))
}

// ParseCloudWatchProtocol reads a --cloudwatch-protocol value (or the
// estate file's cloudwatch_protocol); empty means CloudWatchCBOR.
func ParseCloudWatchProtocol(s string) (CloudWatchProtocol, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "cbor", "rpc-v2-cbor", "rpcv2cbor":
		return CloudWatchCBOR, nil
	case "query", "awsquery":
		return CloudWatchQuery, nil
	}
	return 0, fmt.Errorf("unknown CloudWatch protocol %q: want cbor or query", s)
}

// cloudWatchProtocolOption sets a CloudWatch client's wire protocol. The
// query protocol is the SDK's own awsQuery codec: the client's
// OperationSerializer and OperationDeserializer middlewares encode through
// Options.Protocol, so every operation, its errors included, then travels
// as AWS's query API reference describes while the Initialize step (the
// read-only guard and the observer) is untouched. The CBOR protocol gets a
// check that the answer is CBOR at all, so that a query-only endpoint is
// named as such instead of failing inside the CBOR decoder.
func cloudWatchProtocolOption(p CloudWatchProtocol, endpoint string) func(*cloudwatch.Options) {
	return func(so *cloudwatch.Options) {
		if p == CloudWatchQuery {
			so.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
			return
		}
		so.APIOptions = append(so.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(cborCheck{endpoint: endpoint}, middleware.After)
		})
	}
}

// NotCBORError is a CloudWatch answer that is not in the RPC v2 CBOR
// protocol the client asked in: the endpoint speaks another protocol
// (usually awsQuery) or is not CloudWatch.
type NotCBORError struct {
	Endpoint    string // the endpoint as configured; empty for AWS's own
	Status      int
	ContentType string
}

func (e *NotCBORError) Error() string {
	where := "the CloudWatch endpoint"
	if e.Endpoint != "" {
		where = "CloudWatch endpoint " + redactURL(e.Endpoint)
	}
	ct := e.ContentType
	if ct == "" {
		ct = "none"
	}
	return fmt.Sprintf("%s did not answer in CloudWatch's RPC v2 CBOR protocol (status %d, content type %s); "+
		"if it speaks the query protocol, use --cloudwatch-protocol query or set cloudwatch_protocol = \"query\" in the estate file",
		where, e.Status, ct)
}

// cborCheck is the Deserialize middleware that refuses a response which
// does not say it is RPC v2 CBOR, before the SDK's decoder reads it. It
// sits inside the SDK's response-error wrapper, so the status and request
// id still travel with the error and a 5xx from a proxy is still retried.
type cborCheck struct{ endpoint string }

func (cborCheck) ID() string { return "drconsole.CloudWatchCBORCheck" }

func (m cborCheck) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp == nil {
		return out, md, err
	}
	if isCBORResponse(resp.Header.Get("Smithy-Protocol"), resp.Header.Get("Content-Type")) {
		return out, md, nil
	}
	return out, md, &NotCBORError{Endpoint: m.endpoint, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
}

// isCBORResponse reports whether a response's headers say RPC v2 CBOR:
// the protocol requires the smithy-protocol header on every answer, but a
// CBOR content type alone is taken as enough, so that a front end which
// drops unknown headers does not break a working endpoint.
func isCBORResponse(smithyProtocol, contentType string) bool {
	if strings.EqualFold(strings.TrimSpace(smithyProtocol), "rpc-v2-cbor") {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/cbor"
}
