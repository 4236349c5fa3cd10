package steps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// ReplicationCheck is the replication_check step type: a bucket's
// cross-region replication must be within a lag and a pending-operations
// bound, read from the S3 replication metrics in CloudWatch (namespace
// AWS/S3, dimensions SourceBucket, DestinationBucket, RuleId) and,
// optionally, from the replication status of the newest objects. It reads
// only.
type ReplicationCheck struct {
	clients awsx.ClientSource
}

const (
	replDefaultPoll = 15 * time.Second
	// replLookback is how far back the newest metric datapoint is looked
	// for; S3 publishes replication metrics every minute.
	replLookback = 15 * time.Minute
	replPeriod   = 60
	replMaxRules = 100 // GetMetricData takes 500 queries; three per rule
)

// Spec implements runbook.StepType.
func (*ReplicationCheck) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":        &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"bucket":        &hcldec.AttrSpec{Name: "bucket", Type: cty.String, Required: true},
		"max_lag":       &hcldec.AttrSpec{Name: "max_lag", Type: cty.String},
		"max_pending":   &hcldec.AttrSpec{Name: "max_pending", Type: cty.Number},
		"sample":        &hcldec.AttrSpec{Name: "sample", Type: cty.Number},
		"prefix":        &hcldec.AttrSpec{Name: "prefix", Type: cty.String},
		"within":        &hcldec.AttrSpec{Name: "within", Type: cty.String},
		"poll_interval": &hcldec.AttrSpec{Name: "poll_interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (*ReplicationCheck) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{
		"lag_seconds":        cty.Number,
		"pending_operations": cty.Number,
		"pending_bytes":      cty.Number,
		"sample_pending":     cty.Number,
		"sample_failed":      cty.Number,
	})
}

// ValidateConfig implements runbook.ConfigValidator.
func (t *ReplicationCheck) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	_, err := parseReplQuery(cfg)
	return configErrors(specNames(t.Spec()), err)
}

// Destructive implements runbook.StepType.
func (*ReplicationCheck) Destructive() bool { return false }

// replQuery is a validated replication_check configuration.
type replQuery struct {
	bucket     string
	maxLag     time.Duration // 0: no bound
	hasMaxLag  bool
	maxPending int64
	hasPending bool
	sample     int
	prefix     string
	within     time.Duration
	interval   time.Duration
}

func parseReplQuery(cfg cty.Value) (replQuery, error) {
	q := replQuery{bucket: cfgString(cfg, "bucket"), prefix: cfgString(cfg, "prefix")}
	var err error
	if q.maxLag, err = cfgDuration(cfg, "max_lag", 0); err != nil {
		return q, err
	}
	q.hasMaxLag = cfgString(cfg, "max_lag") != ""
	n, ok, err := cfgInt(cfg, "max_pending")
	if err != nil {
		return q, err
	}
	if ok && n < 0 {
		return q, fmt.Errorf("max_pending must not be negative, got %d", n)
	}
	q.maxPending, q.hasPending = n, ok
	s, ok, err := cfgInt(cfg, "sample")
	if err != nil {
		return q, err
	}
	if ok && (s < 0 || s > 1000) {
		return q, fmt.Errorf("sample must be between 0 and 1000, got %d", s)
	}
	q.sample = int(s)
	if cfgKnown(cfg, "max_lag") && cfgKnown(cfg, "max_pending") && cfgKnown(cfg, "sample") &&
		!q.hasMaxLag && !q.hasPending && q.sample == 0 {
		return q, errors.New("set at least one of max_lag, max_pending and sample")
	}
	if q.within, err = cfgDuration(cfg, "within", 0); err != nil {
		return q, err
	}
	if q.interval, err = cfgPollInterval(cfg, replDefaultPoll); err != nil {
		return q, err
	}
	return q, nil
}

func (q replQuery) bounds() string {
	var parts []string
	if q.hasMaxLag {
		parts = append(parts, "lag <= "+q.maxLag.String())
	}
	if q.hasPending {
		parts = append(parts, fmt.Sprintf("pending operations <= %d", q.maxPending))
	}
	if q.sample > 0 {
		parts = append(parts, fmt.Sprintf("no failed replication among the %d newest objects", q.sample))
	}
	s := strings.Join(parts, ", ")
	if q.within > 0 {
		s += " within " + q.within.String()
	}
	return s
}

// replRule is one enabled replication rule of the bucket.
type replRule struct{ id, destination string }

// replReading is one observation of a bucket's replication.
type replReading struct {
	lagSeconds, pendingOps, pendingBytes float64
	samplePending, sampleFailed          int
	failedKeys                           []string
}

// violations names the bounds a reading exceeds.
func (q replQuery) violations(r replReading) []string {
	var out []string
	if q.hasMaxLag && r.lagSeconds > q.maxLag.Seconds() {
		out = append(out, fmt.Sprintf("lag %s above %s", time.Duration(r.lagSeconds*float64(time.Second)).Round(time.Second), q.maxLag))
	}
	if q.hasPending && r.pendingOps > float64(q.maxPending) {
		out = append(out, fmt.Sprintf("%.0f operations pending, above %d", r.pendingOps, q.maxPending))
	}
	if r.sampleFailed > 0 {
		out = append(out, fmt.Sprintf("replication FAILED for %s", strings.Join(r.failedKeys, ", ")))
	}
	return out
}

// Plan implements runbook.StepType. It reads the replication rules, so a
// dry-run catches a bucket without replication.
func (t *ReplicationCheck) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	q, err := parseReplQuery(cfg)
	if err != nil {
		return nil, fmt.Errorf("replication_check: %w", err)
	}
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "bucket") {
		return []runbook.Change{{Action: "check", Target: "replication of a bucket chosen at apply", Detail: q.bounds()}}, nil
	}
	region, _ := cfgRegion(cfg)
	s3c, err := t.clients.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("replication_check: S3 client for %s: %w", region, err)
	}
	rules, err := replicationRules(ctx, s3c, q.bucket)
	if err != nil {
		return nil, err
	}
	var dests []string
	for _, r := range rules {
		dests = append(dests, r.destination)
	}
	return []runbook.Change{{Action: "check", Target: "replication " + q.bucket + " -> " + strings.Join(dests, ", "),
		Detail: q.bounds()}}, nil
}

// Apply implements runbook.StepType.
func (t *ReplicationCheck) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	q, err := parseReplQuery(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("replication_check: %w", err)
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	if q.bucket == "" {
		return cty.NilVal, errors.New("replication_check: bucket must be set")
	}
	s3c, err := t.clients.S3(ctx, region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("replication_check: S3 client for %s: %w", region, err)
	}
	cw, err := t.clients.CloudWatch(ctx, region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("replication_check: CloudWatch client for %s: %w", region, err)
	}
	rules, err := replicationRules(ctx, s3c, q.bucket)
	if err != nil {
		return cty.NilVal, err
	}
	now := clockOf(sc)
	var r replReading
	var bad []string
	err = pollUntil(ctx, now, q.interval, q.within, func(ctx context.Context) (bool, error) {
		var err error
		if r, err = replicationMetrics(ctx, cw, now(), q.bucket, rules, sc); err != nil {
			return false, err
		}
		if q.sample > 0 {
			if err := sampleStatuses(ctx, s3c, q, &r); err != nil {
				return false, err
			}
		}
		bad = q.violations(r)
		return len(bad) == 0, nil
	})
	if errors.Is(err, errWaitBound) {
		return cty.NilVal, fmt.Errorf("replication_check %s: %s", q.bucket, strings.Join(bad, "; "))
	}
	if err != nil {
		return cty.NilVal, err
	}
	return cty.ObjectVal(map[string]cty.Value{
		"lag_seconds":        cty.NumberFloatVal(r.lagSeconds),
		"pending_operations": cty.NumberFloatVal(r.pendingOps),
		"pending_bytes":      cty.NumberFloatVal(r.pendingBytes),
		"sample_pending":     cty.NumberIntVal(int64(r.samplePending)),
		"sample_failed":      cty.NumberIntVal(int64(r.sampleFailed)),
	}), nil
}

// replicationRules returns the bucket's enabled replication rules.
func replicationRules(ctx context.Context, client *s3.Client, bucket string) ([]replRule, error) {
	out, err := client.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, fmt.Errorf("replication_check: read replication of %s: %w", bucket, err)
	}
	var rules []replRule
	if out.ReplicationConfiguration != nil {
		for _, r := range out.ReplicationConfiguration.Rules {
			if r.Status != s3types.ReplicationRuleStatusEnabled || r.Destination == nil {
				continue
			}
			dest := aws.ToString(r.Destination.Bucket)
			dest = dest[strings.LastIndex(dest, ":")+1:] // arn:aws:s3:::NAME
			rules = append(rules, replRule{id: aws.ToString(r.ID), destination: dest})
		}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("replication_check: bucket %s has no enabled replication rule", bucket)
	}
	if len(rules) > replMaxRules {
		return nil, fmt.Errorf("replication_check: bucket %s has %d replication rules, more than the %d this step reads", bucket, len(rules), replMaxRules)
	}
	return rules, nil
}

// replicationMetrics reads the newest datapoint of each rule's metrics and
// combines them: the largest lag, the sum of what is pending.
func replicationMetrics(ctx context.Context, client *cloudwatch.Client, now time.Time, bucket string, rules []replRule, sc *runbook.StepContext) (replReading, error) {
	metrics := []string{"ReplicationLatency", "OperationsPendingReplication", "BytesPendingReplication"}
	var queries []cwtypes.MetricDataQuery
	for i, r := range rules {
		dims := []cwtypes.Dimension{
			{Name: aws.String("SourceBucket"), Value: aws.String(bucket)},
			{Name: aws.String("DestinationBucket"), Value: aws.String(r.destination)},
			{Name: aws.String("RuleId"), Value: aws.String(r.id)},
		}
		for j, m := range metrics {
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("m%d_%d", i, j)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/S3"), MetricName: aws.String(m), Dimensions: dims},
					Period: aws.Int32(replPeriod),
					Stat:   aws.String("Maximum"),
				},
			})
		}
	}
	type point struct {
		at time.Time
		v  float64
	}
	newest := map[string]point{}
	p := cloudwatch.NewGetMetricDataPaginator(client, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(now.Add(-replLookback)),
		EndTime:           aws.Time(now),
		ScanBy:            cwtypes.ScanByTimestampDescending,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return replReading{}, fmt.Errorf("replication_check: read replication metrics of %s: %w", bucket, err)
		}
		for _, res := range page.MetricDataResults {
			id := aws.ToString(res.Id)
			for k := range min(len(res.Timestamps), len(res.Values)) {
				if cur, ok := newest[id]; !ok || res.Timestamps[k].After(cur.at) {
					newest[id] = point{res.Timestamps[k], res.Values[k]}
				}
			}
		}
	}
	var r replReading
	for i, rule := range rules {
		for j, m := range metrics {
			pt, ok := newest[fmt.Sprintf("m%d_%d", i, j)]
			if !ok {
				// S3 publishes nothing while nothing replicates.
				logLine(sc, "no %s datapoint for %s -> %s (rule %s) in the last %s: counted as 0", m, bucket, rule.destination, rule.id, replLookback)
				continue
			}
			switch j {
			case 0:
				r.lagSeconds = math.Max(r.lagSeconds, pt.v)
			case 1:
				r.pendingOps += pt.v
			case 2:
				r.pendingBytes += pt.v
			}
		}
	}
	return r, nil
}

// sampleStatuses reads the replication status of the newest objects.
func sampleStatuses(ctx context.Context, client *s3.Client, q replQuery, r *replReading) error {
	var newest []s3types.Object
	trim := func() {
		sort.Slice(newest, func(i, j int) bool {
			return aws.ToTime(newest[i].LastModified).After(aws.ToTime(newest[j].LastModified))
		})
		newest = newest[:min(len(newest), q.sample)]
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(q.bucket)}
	if q.prefix != "" {
		in.Prefix = aws.String(q.prefix)
	}
	p := s3.NewListObjectsV2Paginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("replication_check: list %s: %w", q.bucket, err)
		}
		newest = append(newest, page.Contents...)
		if len(newest) > 4*q.sample+1000 {
			trim() // keeps memory bounded on large buckets
		}
	}
	trim()
	for _, o := range newest {
		h, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(q.bucket), Key: o.Key})
		if err != nil {
			return fmt.Errorf("replication_check: head %s/%s: %w", q.bucket, aws.ToString(o.Key), err)
		}
		switch h.ReplicationStatus {
		case s3types.ReplicationStatusPending:
			r.samplePending++
		case s3types.ReplicationStatusFailed:
			r.sampleFailed++
			r.failedKeys = append(r.failedKeys, aws.ToString(o.Key))
		}
	}
	return nil
}

// DrillPlan implements runbook.Drillable: replication metrics are only read.
func (*ReplicationCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// RecoveryPoints implements runbook.RecoveryPointer: the replica holds the
// state of the replication lag before the check started.
func (*ReplicationCheck) RecoveryPoints(s runbook.FinishedDrillStep) []runbook.RecoveryPoint {
	v := attr(s.Outputs, "lag_seconds")
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number || s.Started.IsZero() {
		return nil
	}
	lag, _ := v.AsBigFloat().Float64()
	return []runbook.RecoveryPoint{{Source: "replication lag", At: s.Started.Add(-time.Duration(lag * float64(time.Second)))}}
}

// LoggedParams implements runbook.APIParams.
func (*ReplicationCheck) LoggedParams() []string {
	return []string{"Bucket", "Key", "Prefix", "Namespace", "MetricName"}
}
