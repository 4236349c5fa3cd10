// Package inventory holds the read-only queries the console shows: model
// buckets and their version timelines, backup recovery points and their
// age, replication lag and pending operations, DR fleets, alarms and the
// caller's identity. Every function takes a context and a Clients factory
// and returns plain values, so the console renders them without touching
// the SDK.
package inventory

import (
	"context"

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
