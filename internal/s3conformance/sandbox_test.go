package s3conformance_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/s3conformance"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

func TestConformanceSandbox(t *testing.T) {
	_, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true, StrictAuth: true})
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	var n atomic.Int64
	s3conformance.Run(t, func(t *testing.T) (*s3.Client, string) {
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		return c, fmt.Sprintf("conf%d", n.Add(1))
	})
}
