package awsx

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/drconsole/drconsole/internal/testutil/minio"
)

// startMinIO runs a MinIO server for the test and returns its URL.
func startMinIO(t *testing.T) string {
	return minio.Start(t).URL
}

// minioClients returns clients for a MinIO server, as an S3-compatible
// endpoint of the AWS target.
func minioClients(t *testing.T, url string, readOnly bool) *Clients {
	c, err := New(Options{
		Target:      TargetAWS,
		Endpoint:    url,
		Region:      minio.Region,
		Credentials: credentials.NewStaticCredentialsProvider(minio.AccessKey, minio.SecretKey, ""),
		ReadOnly:    readOnly,
		Retry:       RetryStandard,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
