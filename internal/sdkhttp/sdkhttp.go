// Package sdkhttp holds what the HTTP client under the AWS SDK needs to
// carry calls safely on fast networks.
package sdkhttp

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// KeepConnections wraps hc so that a call whose answer comes back quickly
// does not lose its connection under the response body.
//
// The SDK closes a request's body as soon as the response headers arrive,
// and its body wrapper then answers WriteTo with io.EOF. net/http's
// connection writer makes one last copy of the body after sending it, to
// check there is nothing more; when the answer was fast enough to beat that
// copy (loopback, a VPC endpoint), the copy goes through WriteTo, gets
// io.EOF as an error, and the transport closes the connection while the
// response body is still being read. The call then fails with "use of
// closed network connection" after the server has done the work, and a
// retried write is applied twice. Hiding WriteTo makes that last copy a
// Read, which answers a plain end of body.
func KeepConnections(hc aws.HTTPClient) aws.HTTPClient {
	if hc == nil {
		return nil
	}
	if _, ok := hc.(keepConnections); ok {
		return hc
	}
	return keepConnections{hc}
}

type keepConnections struct{ hc aws.HTTPClient }

func (k keepConnections) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readCloser{req.Body}
	}
	return k.hc.Do(req)
}

// readCloser carries only Read and Close, whatever the body also offers.
type readCloser struct{ io.ReadCloser }
