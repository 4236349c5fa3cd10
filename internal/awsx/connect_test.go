package awsx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// closedEndpoint is the URL of a loopback port nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return ep
}

// A refused connection fails the call named, in both retry modes, against a
// real closed port. How fast it fails is shown on a fake clock by
// TestConnectFailuresAreNotRetried, so this test never depends on load.
func TestConnectionRefusedIsFastAndNamed(t *testing.T) {
	for _, mode := range []RetryMode{RetryAdaptive, RetryStandard} {
		ep := closedEndpoint(t)
		c, err := New(Options{SandboxEndpoint: ep, Retry: mode})
		if err != nil {
			t.Fatal(err)
		}
		s3c, err := c.S3(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s3c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
		if err == nil {
			t.Fatal("a call to a closed port succeeded")
		}
		if want := "connect to " + ep + ": connection refused"; !strings.Contains(err.Error(), want) {
			t.Errorf("mode %d: %v\nwant it to say %q", mode, err, want)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("mode %d: %v is not ECONNREFUSED", mode, err)
		}
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Endpoint != ep {
			t.Errorf("mode %d: %#v is not a ConnectError for %s", mode, ce, ep)
		}
	}
}

func TestConnectErrorRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want aws.Ternary
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, aws.FalseTernary},
		{&net.DNSError{Name: "s3.nowhere.example", Err: "no such host", IsNotFound: true}, aws.FalseTernary},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, aws.UnknownTernary},
		{errors.New("other"), aws.UnknownTernary},
	} {
		if got := (notRetriedConnect{}).IsErrorRetryable(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A refused dial and an unknown host are tried once, with no backoff at
// all on the bubble's clock, while MaxAttempts would allow eight.
func TestConnectFailuresAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"refused", "connect to http://sandbox.test: connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
		{"no such host", "connect to http://sandbox.test: no such host", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "sandbox.test", Err: "no such host", IsNotFound: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var dials atomic.Int32
				c, err := New(Options{
					SandboxEndpoint: "http://sandbox.test",
					MaxAttempts:     8,
					HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
						tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
							dials.Add(1)
							return nil, tc.err
						}
					}),
				})
				if err != nil {
					t.Fatal(err)
				}
				s3c, err := c.S3(t.Context(), "")
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = s3c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("%v\nwant it to say %q", err, tc.want)
				}
				if !errors.Is(err, tc.err) {
					t.Errorf("%v does not wrap the dial's error", err)
				}
				if n := dials.Load(); n != 1 {
					t.Errorf("%d dials, want 1", n)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("the call waited %s on the fake clock", d)
				}
			})
		})
	}
}
