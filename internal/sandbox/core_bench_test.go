package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// benchCalls runs n calls per iteration and reports requests per second.
func benchCalls(b *testing.B, n int, call func(ctx context.Context) error) {
	b.Helper()
	ctx := context.Background()
	began := time.Now()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			if err := call(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/time.Since(began).Seconds(), "req/s")
}

// BenchmarkServerSTSStrictAuth measures the core's cost per request:
// routing by SigV4 scope, signature verification, the request log.
func BenchmarkServerSTSStrictAuth(b *testing.B) {
	_, cfg := sandboxtest.Start(b, sandbox.Options{Empty: true, StrictAuth: true})
	c := sts.NewFromConfig(cfg)
	benchCalls(b, 300, func(ctx context.Context) error {
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
}

// BenchmarkServerEC2DescribeVolumes pages through 1,000 volumes.
func BenchmarkServerEC2DescribeVolumes(b *testing.B) {
	_, cfg := sandboxtest.Start(b, sandbox.Options{Seed: 1, Sizes: sandbox.EstateSizes{Volumes: 1000, RecoveryPointDays: 1, Models: 1, VersionsPerModel: 1}})
	c := ec2.NewFromConfig(cfg)
	benchCalls(b, 5, func(ctx context.Context) error {
		p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(500)})
		for p.HasMorePages() {
			if _, err := p.NextPage(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkServerCloudWatchDescribeAlarms evaluates every seeded alarm over
// RPC v2 CBOR.
func BenchmarkServerCloudWatchDescribeAlarms(b *testing.B) {
	_, cfg := sandboxtest.Start(b, sandbox.Options{Seed: 1})
	cfg.Region = "us-west-2"
	c := cloudwatch.NewFromConfig(cfg)
	benchCalls(b, 300, func(ctx context.Context) error {
		_, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
		return err
	})
}
