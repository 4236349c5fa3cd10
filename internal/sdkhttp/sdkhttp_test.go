package sdkhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// sdkBody behaves as the SDK's request body does: once closed, Read and
// WriteTo answer io.EOF. Its last read blocks until it is closed, which
// puts the transport's final check of the body after the SDK has closed
// it, as happens when the answer beats that check.
type sdkBody struct {
	mu     sync.Mutex
	data   *bytes.Reader
	closed chan struct{}
	once   sync.Once
}

func newSDKBody(s string) *sdkBody {
	return &sdkBody{data: bytes.NewReader([]byte(s)), closed: make(chan struct{})}
}

func (b *sdkBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	n, _ := b.data.Read(p)
	b.mu.Unlock()
	if n > 0 {
		return n, nil
	}
	<-b.closed
	return 0, io.EOF
}

func (b *sdkBody) WriteTo(io.Writer) (int64, error) {
	<-b.closed
	return 0, io.EOF
}

func (b *sdkBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// TestKeepConnectionsSurvivesEarlyClose: the request is written whole even
// when the SDK closes its body before net/http's last look at it.
func TestKeepConnectionsSurvivesEarlyClose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "<ok/>")
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name   string
		client aws.HTTPClient
		wantOK bool
	}{
		// The control shows the test still puts the close first: should
		// it pass one day, the SDK or net/http changed and the wrapper
		// may go.
		{"sdk client", awshttp.NewBuildableClient(), false},
		{"kept", KeepConnections(awshttp.NewBuildableClient()), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrote := make(chan error, 1)
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				WroteRequest: func(i httptrace.WroteRequestInfo) { wrote <- i.Err },
			})
			const form = "Action=DescribeSnapshots&Version=2016-11-15"
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, newSDKBody(form))
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(form))
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// What the SDK does once the headers are in.
			req.Body.Close()
			select {
			case err := <-wrote:
				if tc.wantOK && err != nil {
					t.Fatalf("request write failed after the body was closed: %v (net/http closes the connection)", err)
				}
				if !tc.wantOK && err == nil {
					t.Fatal("the unwrapped client wrote the request whole: the early close no longer breaks it")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the request was never reported written")
			}
		})
	}
}
