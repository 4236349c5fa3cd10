package s3conformance_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/s3conformance"
	"github.com/drconsole/drconsole/internal/testutil/minio"
)

func TestConformanceMinIO(t *testing.T) {
	srv := minio.Start(t)
	var n atomic.Int64
	s3conformance.Run(t, func(t *testing.T) (*s3.Client, string) {
		cfg := aws.Config{
			Region:                     minio.Region,
			Credentials:                credentials.NewStaticCredentialsProvider(minio.AccessKey, minio.SecretKey, ""),
			HTTPClient:                 awshttp.NewBuildableClient(),
			BaseEndpoint:               aws.String(srv.URL),
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
			ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		}
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		return c, fmt.Sprintf("conf%d", n.Add(1))
	})
}
