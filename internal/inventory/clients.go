// Package inventory holds the read-only queries the console shows: model
// buckets and their version timelines, backup recovery points and their
// age, replication lag and pending operations, DR fleets, alarms and the
// caller's identity. Every function takes a context and a Clients factory
// and returns plain values, so the console renders them without touching
// the SDK.
package inventory

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients hands out SDK clients per region. The step types and the
// console share this shape, so one factory (with its read-only guard and
// API-call observer) serves both.
type Clients interface {
	S3(ctx context.Context, region string) (*s3.Client, error)
	EC2(ctx context.Context, region string) (*ec2.Client, error)
	AutoScaling(ctx context.Context, region string) (*autoscaling.Client, error)
	CloudWatch(ctx context.Context, region string) (*cloudwatch.Client, error)
	Backup(ctx context.Context, region string) (*backup.Client, error)
	STS(ctx context.Context, region string) (*sts.Client, error)
}

// ConfigClients builds clients from one aws.Config, overriding the region
// per call and caching one client per service and region.
type ConfigClients struct {
	cfg aws.Config
	// pathStyle addresses S3 buckets in the path, as loopback endpoints
	// and most S3-compatible stores need.
	pathStyle bool

	mu    sync.Mutex
	cache map[string]any
}

// NewConfigClients returns a factory over cfg. pathStyle selects S3
// path-style addressing (needed for the sandbox and MinIO).
func NewConfigClients(cfg aws.Config, pathStyle bool) *ConfigClients {
	return &ConfigClients{cfg: cfg, pathStyle: pathStyle, cache: map[string]any{}}
}

func cached[T any](c *ConfigClients, service, region string, build func(aws.Config) T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := service + "/" + region
	if v, ok := c.cache[k]; ok {
		return v.(T)
	}
	cfg := c.cfg.Copy()
	if region != "" {
		cfg.Region = region
	}
	v := build(cfg)
	c.cache[k] = v
	return v
}

// S3 returns the S3 client for region.
func (c *ConfigClients) S3(_ context.Context, region string) (*s3.Client, error) {
	return cached(c, "s3", region, func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = c.pathStyle })
	}), nil
}

// EC2 returns the EC2 client for region.
func (c *ConfigClients) EC2(_ context.Context, region string) (*ec2.Client, error) {
	return cached(c, "ec2", region, func(cfg aws.Config) *ec2.Client { return ec2.NewFromConfig(cfg) }), nil
}

// AutoScaling returns the Auto Scaling client for region.
func (c *ConfigClients) AutoScaling(_ context.Context, region string) (*autoscaling.Client, error) {
	return cached(c, "autoscaling", region, func(cfg aws.Config) *autoscaling.Client { return autoscaling.NewFromConfig(cfg) }), nil
}

// CloudWatch returns the CloudWatch client for region.
func (c *ConfigClients) CloudWatch(_ context.Context, region string) (*cloudwatch.Client, error) {
	return cached(c, "cloudwatch", region, func(cfg aws.Config) *cloudwatch.Client { return cloudwatch.NewFromConfig(cfg) }), nil
}

// Backup returns the AWS Backup client for region.
func (c *ConfigClients) Backup(_ context.Context, region string) (*backup.Client, error) {
	return cached(c, "backup", region, func(cfg aws.Config) *backup.Client { return backup.NewFromConfig(cfg) }), nil
}

// STS returns the STS client for region.
func (c *ConfigClients) STS(_ context.Context, region string) (*sts.Client, error) {
	return cached(c, "sts", region, func(cfg aws.Config) *sts.Client { return sts.NewFromConfig(cfg) }), nil
}
