// Package stepstest builds the AWS clients the step types take from one
// aws.Config, for tests that run steps against the sandbox.
package stepstest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients implements awsx.ClientSource over one configuration, with the
// region replaced per call. S3 uses path-style addressing, which a server
// on a loopback address needs.
type Clients struct {
	Config aws.Config
}

func (c Clients) in(region string) aws.Config {
	cfg := c.Config.Copy()
	cfg.Region = region
	return cfg
}

// S3 returns an S3 client for region.
func (c Clients) S3(_ context.Context, region string) (*s3.Client, error) {
	return s3.NewFromConfig(c.in(region), func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// EC2 returns an EC2 client for region.
func (c Clients) EC2(_ context.Context, region string) (*ec2.Client, error) {
	return ec2.NewFromConfig(c.in(region)), nil
}

// AutoScaling returns an Auto Scaling client for region.
func (c Clients) AutoScaling(_ context.Context, region string) (*autoscaling.Client, error) {
	return autoscaling.NewFromConfig(c.in(region)), nil
}

// CloudWatch returns a CloudWatch client for region.
func (c Clients) CloudWatch(_ context.Context, region string) (*cloudwatch.Client, error) {
	return cloudwatch.NewFromConfig(c.in(region)), nil
}

// Backup returns an AWS Backup client for region.
func (c Clients) Backup(_ context.Context, region string) (*backup.Client, error) {
	return backup.NewFromConfig(c.in(region)), nil
}

// STS returns an STS client for region.
func (c Clients) STS(_ context.Context, region string) (*sts.Client, error) {
	return sts.NewFromConfig(c.in(region)), nil
}
