package sandbox

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/s3conformance"
)

// The sandbox passes the same S3 conformance suite as MinIO
// (internal/s3conformance runs it against a real MinIO server).
func TestS3Conformance(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	var n atomic.Int64
	s3conformance.Run(t, func(t *testing.T) (*s3.Client, string) {
		return h.client(t, "us-east-1"), fmt.Sprintf("conf%d", n.Add(1))
	})
}
