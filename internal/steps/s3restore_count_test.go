package steps

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// TestCountRequestsWhileClientInUse: a plan wraps the step's shared S3
// client to count requests while other steps call through that client.
// Under -race this shows the wrapping does not touch what the shared
// client's calls read.
func TestCountRequestsWhileClientInUse(t *testing.T) {
	_, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true})
	shared := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if _, err := shared.ListBuckets(t.Context(), &s3.ListBucketsInput{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 10 {
				counted := countRequests(shared, &n)
				if _, err := counted.ListBuckets(t.Context(), &s3.ListBucketsInput{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := n.Load(); got != 40 {
		t.Errorf("counted %d requests; want 40", got)
	}
}
