package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/awsx"
)

// ReplicationRule is one rule of a bucket's replication configuration.
type ReplicationRule struct {
	Bucket            string
	ID                string
	Status            string // Enabled, Disabled
	Prefix            string
	DestinationBucket string
}

// ReplicationRules reads bucket's replication rules; a bucket without a
// replication configuration has none (no error).
func ReplicationRules(ctx context.Context, c awsx.ClientSource, region, bucket string) ([]ReplicationRule, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("replication of bucket %s: %w", bucket, err)
	}
	res, err := cl.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(bucket)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ReplicationConfigurationNotFoundError" {
			return nil, nil
		}
		return nil, fmt.Errorf("replication of bucket %s: %w", bucket, err)
	}
	var out []ReplicationRule
	if res.ReplicationConfiguration == nil {
		return nil, nil
	}
	for _, r := range res.ReplicationConfiguration.Rules {
		rr := ReplicationRule{Bucket: bucket, ID: aws.ToString(r.ID), Status: string(r.Status)}
		// The rule-level Prefix is the older V1 form, still written by some
		// tools; the Filter form wins when both are present.
		rr.Prefix = aws.ToString(r.Prefix) //lint:ignore SA1019 V1 rules still carry it
		if r.Filter != nil && r.Filter.Prefix != nil {
			rr.Prefix = *r.Filter.Prefix
		}
		if r.Destination != nil {
			rr.DestinationBucket = strings.TrimPrefix(aws.ToString(r.Destination.Bucket), "arn:aws:s3:::")
		}
		out = append(out, rr)
	}
	return out, nil
}

// Series is a metric's values over time, oldest first.
type Series struct {
	Times  []time.Time
	Values []float64
}

// Last is the newest value (0 when empty).
func (s Series) Last() float64 {
	if len(s.Values) == 0 {
		return 0
	}
	return s.Values[len(s.Values)-1]
}

// Max is the largest value (0 when empty).
func (s Series) Max() float64 {
	m := 0.0
	for _, v := range s.Values {
		m = max(m, v)
	}
	return m
}

// Replication is a rule's replication metrics over a window.
type Replication struct {
	Rule         ReplicationRule
	Latency      Series // seconds
	OpsPending   Series
	BytesPending Series
	OpsFailed    Series
}

// replicationMetrics are the AWS/S3 metrics S3 publishes per rule, with
// the statistic that makes sense for each.
func replicationMetrics() []struct{ id, name, stat string } {
	return []struct{ id, name, stat string }{
		{"latency", "ReplicationLatency", "Maximum"},
		{"ops", "OperationsPendingReplication", "Maximum"},
		{"bytes", "BytesPendingReplication", "Maximum"},
		{"failed", "OperationsFailedReplication", "Sum"},
	}
}

// ReplicationSeries reads the rule's lag, pending and failed series from
// start to end at period resolution (GetMetricData, region is where the
// source bucket lives).
func ReplicationSeries(ctx context.Context, c awsx.ClientSource, region string, rule ReplicationRule, start, end time.Time, period time.Duration) (Replication, error) {
	out := Replication{Rule: rule}
	cl, err := c.CloudWatch(ctx, region)
	if err != nil {
		return out, fmt.Errorf("replication metrics of %s rule %s: %w", rule.Bucket, rule.ID, err)
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("SourceBucket"), Value: aws.String(rule.Bucket)},
		{Name: aws.String("DestinationBucket"), Value: aws.String(rule.DestinationBucket)},
		{Name: aws.String("RuleId"), Value: aws.String(rule.ID)},
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampAscending}
	for _, m := range replicationMetrics() {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: aws.String(m.id),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/S3"), MetricName: aws.String(m.name), Dimensions: dims},
				Period: aws.Int32(int32(period / time.Second)), Stat: aws.String(m.stat),
			},
		})
	}
	series := map[string]*Series{"latency": &out.Latency, "ops": &out.OpsPending, "bytes": &out.BytesPending, "failed": &out.OpsFailed}
	p := cloudwatch.NewGetMetricDataPaginator(cl, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("replication metrics of %s rule %s: %w", rule.Bucket, rule.ID, err)
		}
		for _, r := range page.MetricDataResults {
			s := series[aws.ToString(r.Id)]
			if s == nil {
				continue
			}
			n := min(len(r.Timestamps), len(r.Values))
			s.Times = append(s.Times, r.Timestamps[:n]...)
			s.Values = append(s.Values, r.Values[:n]...)
		}
	}
	for _, s := range series {
		sortSeries(s)
	}
	return out, nil
}

// sortSeries orders a series oldest first, whatever order pages came in.
func sortSeries(s *Series) {
	idx := make([]int, len(s.Times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Times[idx[a]].Before(s.Times[idx[b]]) })
	t, v := make([]time.Time, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		t[i], v[i] = s.Times[j], s.Values[j]
	}
	s.Times, s.Values = t, v
}

// ObjectReplication is one object whose replication has not completed.
type ObjectReplication struct {
	Key          string
	VersionID    string
	Status       string // PENDING, FAILED
	LastModified time.Time
}

// StuckObjects samples up to limit current objects under prefix and
// returns those whose replication status is FAILED, or PENDING for longer
// than pendingFor at now.
func StuckObjects(ctx context.Context, c awsx.ClientSource, region, bucket, prefix string, limit int, pendingFor time.Duration, now time.Time) ([]ObjectReplication, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("replication status under s3://%s/%s: %w", bucket, prefix, err)
	}
	var out []ObjectReplication
	seen := 0
	p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() && seen < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replication status under s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if seen >= limit {
				break
			}
			seen++
			h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return nil, fmt.Errorf("replication status of s3://%s/%s: %w", bucket, aws.ToString(o.Key), err)
			}
			st := string(h.ReplicationStatus)
			lm := aws.ToTime(h.LastModified)
			if st == "FAILED" || (st == "PENDING" && now.Sub(lm) > pendingFor) {
				out = append(out, ObjectReplication{Key: aws.ToString(o.Key), VersionID: aws.ToString(h.VersionId), Status: st, LastModified: lm})
			}
		}
	}
	return out, nil
}
