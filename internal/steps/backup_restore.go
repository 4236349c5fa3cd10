package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// BackupRestore is the backup_restore step type: it finds the AWS Backup
// recovery point of a resource nearest before a time (or takes the one it
// is given), starts a restore job into a new resource and waits until the
// job is COMPLETED.
//
// It is not destructive: the restore always creates a new bucket, volume or
// file system and leaves the original alone (AWS advises restoring S3 into a
// new bucket, since a restore into the same bucket never deletes). The
// idempotency token is derived from the run id and the step address, so a
// resumed attempt gets the job the first attempt started.
type BackupRestore struct {
	clients awsx.ClientSource
}

const (
	backupDefaultPoll = 30 * time.Second
	backupDefaultWait = 12 * time.Hour
	// backupDefaultRole is the role AWS Backup creates for itself, in the
	// account that holds the recovery point.
	backupDefaultRole = "arn:aws:iam::%s:role/service-role/AWSBackupDefaultServiceRole"
)

// Spec implements runbook.StepType.
func (*BackupRestore) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":             &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"vault":              &hcldec.AttrSpec{Name: "vault", Type: cty.String, Required: true},
		"resource_arn":       &hcldec.AttrSpec{Name: "resource_arn", Type: cty.String},
		"to_time":            &hcldec.AttrSpec{Name: "to_time", Type: cty.String},
		"recovery_point_arn": &hcldec.AttrSpec{Name: "recovery_point_arn", Type: cty.String},
		"resource_type":      &hcldec.AttrSpec{Name: "resource_type", Type: cty.String},
		"iam_role_arn":       &hcldec.AttrSpec{Name: "iam_role_arn", Type: cty.String},
		"target_bucket":      &hcldec.AttrSpec{Name: "target_bucket", Type: cty.String},
		"availability_zone":  &hcldec.AttrSpec{Name: "availability_zone", Type: cty.String},
		"metadata":           &hcldec.AttrSpec{Name: "metadata", Type: cty.Map(cty.String)},
		"wait_for":           &hcldec.AttrSpec{Name: "wait_for", Type: cty.String},
		"poll_interval":      &hcldec.AttrSpec{Name: "poll_interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (*BackupRestore) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{
		"recovery_point_arn":     cty.String,
		"recovery_point_created": cty.String,
		"continuous":             cty.Bool,
		"resource_type":          cty.String,
		"restore_job_id":         cty.String,
		"created_resource_arn":   cty.String,
	})
}

// ValidateConfig implements runbook.ConfigValidator.
func (t *BackupRestore) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	_, err := parseBackupQuery(cfg)
	return configErrors(specNames(t.Spec()), err)
}

// Destructive implements runbook.StepType: the restore creates a new
// resource and changes nothing that exists.
func (*BackupRestore) Destructive() bool { return false }

// recoveryPoint is what the step needs of a recovery point.
type recoveryPoint struct {
	arn, resourceArn, resourceType, resourceName string
	status                                       string
	created, completed                           time.Time
	continuous                                   bool
}

// isContinuousArn tells continuous-backup recovery points from snapshot
// ones: AWS Backup names them recovery-point:continuous:...
func isContinuousArn(arn string) bool {
	return strings.Contains(arn, ":recovery-point:continuous:")
}

// covers reports whether a continuous point can restore to t: its window
// runs from its creation to its completion date, or to now while it is
// still being written.
func (p recoveryPoint) covers(t, now time.Time) bool {
	if !p.continuous || t.Before(p.created) {
		return false
	}
	end := now
	if !p.completed.IsZero() && !p.completed.Before(p.created) && p.status == string(bktypes.RecoveryPointStatusStopped) {
		end = p.completed
	}
	return !t.After(end)
}

// pickRecoveryPoint chooses the point to restore to t: a continuous point
// whose window covers t when there is one (it restores to t exactly), else
// the newest COMPLETED snapshot point created at or before t.
func pickRecoveryPoint(points []recoveryPoint, t, now time.Time) (recoveryPoint, bool) {
	var best recoveryPoint
	found := false
	for _, p := range points {
		if p.continuous && p.covers(t, now) && p.status != string(bktypes.RecoveryPointStatusDeleting) &&
			p.status != string(bktypes.RecoveryPointStatusExpired) {
			if !found || !best.continuous || p.created.After(best.created) {
				best, found = p, true
			}
		}
	}
	if found {
		return best, true
	}
	for _, p := range points {
		if p.continuous || p.status != string(bktypes.RecoveryPointStatusCompleted) || p.created.After(t) {
			continue
		}
		if !found || p.created.After(best.created) || (p.created.Equal(best.created) && p.arn > best.arn) {
			best, found = p, true
		}
	}
	return best, found
}

// backupQuery is a validated backup_restore configuration.
type backupQuery struct {
	region, vault           string
	resourceArn             string
	toTime                  time.Time
	hasTime                 bool
	recoveryPointArn        string
	resourceType            string // "" takes the point's
	role, bucket, az        string
	metadata                map[string]string
	waitFor, interval       time.Duration
	resourceKnown, rpKnown  bool
	timeKnown, targetsKnown bool
}

func parseBackupQuery(cfg cty.Value) (backupQuery, error) {
	q := backupQuery{
		region: cfgString(cfg, "region"), vault: cfgString(cfg, "vault"),
		resourceArn: cfgString(cfg, "resource_arn"), recoveryPointArn: cfgString(cfg, "recovery_point_arn"),
		resourceType: cfgString(cfg, "resource_type"),
		role:         cfgString(cfg, "iam_role_arn"), bucket: cfgString(cfg, "target_bucket"),
		az: cfgString(cfg, "availability_zone"), metadata: cfgStringMap(cfg, "metadata"),
		resourceKnown: cfgKnown(cfg, "resource_arn"), rpKnown: cfgKnown(cfg, "recovery_point_arn"),
		timeKnown: cfgKnown(cfg, "to_time"),
		targetsKnown: cfgKnown(cfg, "target_bucket") && cfgKnown(cfg, "availability_zone") &&
			cfgKnown(cfg, "metadata") && cfgKnown(cfg, "iam_role_arn"),
	}
	byPoint := cfgSet(cfg, "recovery_point_arn")
	byTime := cfgSet(cfg, "resource_arn") || cfgSet(cfg, "to_time")
	if byPoint == byTime {
		return q, errors.New("set either recovery_point_arn, or resource_arn and to_time")
	}
	if byTime && (!cfgSet(cfg, "resource_arn") || !cfgSet(cfg, "to_time")) {
		return q, errors.New("resource_arn and to_time go together")
	}
	if s := cfgString(cfg, "to_time"); s != "" {
		t, err := runbook.ParseTime(s)
		if err != nil {
			return q, fmt.Errorf("to_time: %w", err)
		}
		q.toTime, q.hasTime = t, true
	}
	var err error
	if q.waitFor, err = cfgDuration(cfg, "wait_for", 0); err != nil {
		return q, err
	}
	if q.interval, err = cfgPollInterval(cfg, backupDefaultPoll); err != nil {
		return q, err
	}
	return q, nil
}

// backupPlanned is the restore a step would start.
type backupPlanned struct {
	point    recoveryPoint
	metadata map[string]string
	role     string
	target   string // words for the plan: "new bucket X"
}

// Plan implements runbook.StepType.
func (t *BackupRestore) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	q, err := parseBackupQuery(cfg)
	if err != nil {
		return nil, fmt.Errorf("backup_restore: %w", err)
	}
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "vault") || !q.resourceKnown || !q.rpKnown || !q.timeKnown {
		return []runbook.Change{{Action: "StartRestoreJob", Target: "recovery point chosen at apply", Detail: "-> new resource"}}, nil
	}
	client, err := t.clients.Backup(ctx, q.region)
	if err != nil {
		return nil, fmt.Errorf("backup_restore: Backup client for %s: %w", q.region, err)
	}
	p, err := t.prepare(ctx, sc, client, q)
	if err != nil {
		return nil, err
	}
	if !q.targetsKnown {
		p.target = "new resource (named at apply)"
	}
	return []runbook.Change{{Action: "StartRestoreJob", Target: p.point.arn, Detail: "-> " + p.target}}, nil
}

// prepare chooses the recovery point and builds the restore metadata. It
// only reads.
func (t *BackupRestore) prepare(ctx context.Context, sc *runbook.StepContext, client *backup.Client, q backupQuery) (backupPlanned, error) {
	var p backupPlanned
	var err error
	if q.recoveryPointArn != "" {
		p.point, err = describePoint(ctx, client, q.vault, q.recoveryPointArn)
	} else {
		p.point, err = findPoint(ctx, client, q, clockOf(sc)())
	}
	if err != nil {
		return p, err
	}
	// A point restores only as what it backed up: a resource type given
	// (the console passes the one it listed) that differs means the wrong
	// point was named.
	if q.resourceType != "" && !strings.EqualFold(q.resourceType, p.point.resourceType) {
		return p, fmt.Errorf("backup_restore: recovery point %s in vault %s is a backup of a %s resource, not %s",
			p.point.arn, q.vault, p.point.resourceType, q.resourceType)
	}
	how := "newest completed before " + q.toTime.UTC().Format(time.RFC3339)
	switch {
	case q.recoveryPointArn != "":
		how = "given"
	case p.point.continuous:
		how = "continuous, window covers " + q.toTime.UTC().Format(time.RFC3339)
	}
	logLine(sc, "recovery point %s of %s created %s (%s)", p.point.arn, p.point.resourceArn,
		p.point.created.UTC().Format(time.RFC3339), how)
	out, err := client.GetRecoveryPointRestoreMetadata(ctx, &backup.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String(q.vault), RecoveryPointArn: aws.String(p.point.arn),
	})
	if err != nil {
		return p, fmt.Errorf("backup_restore: read restore metadata of %s: %w", p.point.arn, err)
	}
	md := map[string]string{}
	for k, v := range out.RestoreMetadata {
		md[k] = v
	}
	token := runToken(sc)
	switch strings.ToUpper(p.point.resourceType) {
	case "S3":
		bucket := q.bucket
		if bucket == "" {
			bucket = restoreBucketName(p.point, token)
		}
		md["DestinationBucketName"] = bucket
		md["NewBucket"] = "true"
		md["CreationToken"] = token
		p.target = "new bucket " + bucket
	case "EBS":
		if q.az != "" {
			md["availabilityZone"] = q.az
		}
		p.target = "new volume"
		if az := md["availabilityZone"]; az != "" {
			p.target += " in " + az
		}
	case "EFS":
		md["newFileSystem"] = "true"
		md["CreationToken"] = token
		p.target = "new file system"
	default:
		p.target = "new " + p.point.resourceType + " resource"
	}
	if p.point.continuous && q.hasTime {
		md["RestoreTime"] = q.toTime.UTC().Format(time.RFC3339)
		p.target += " at " + md["RestoreTime"]
	}
	for k, v := range q.metadata {
		md[k] = v
	}
	p.metadata = md
	p.role = q.role
	if p.role == "" {
		p.role = fmt.Sprintf(backupDefaultRole, arnAccount(p.point.arn))
	}
	return p, nil
}

// restoreBucketName names the bucket an S3 restore creates: the source
// bucket's name and a suffix fixed by the run and step, within the 63
// characters a bucket name may have.
func restoreBucketName(p recoveryPoint, token string) string {
	src := p.resourceName
	if src == "" {
		src = p.resourceArn[strings.LastIndex(p.resourceArn, ":")+1:]
	}
	return bucketWithSuffix(src, "-restore-"+token[:8])
}

// bucketWithSuffix ends base with suffix, shortening base so that the name
// fits the 63 characters a bucket name may have.
func bucketWithSuffix(base, suffix string) string {
	if len(base)+len(suffix) > 63 {
		base = strings.TrimRight(base[:63-len(suffix)], ".-")
	}
	return base + suffix
}

func arnAccount(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 4 {
		return parts[4]
	}
	return ""
}

func pointOf(arn, resourceArn, resourceType, resourceName string, status bktypes.RecoveryPointStatus, created, completed *time.Time) recoveryPoint {
	return recoveryPoint{arn: arn, resourceArn: resourceArn, resourceType: resourceType, resourceName: resourceName,
		status: string(status), created: aws.ToTime(created), completed: aws.ToTime(completed),
		continuous: isContinuousArn(arn)}
}

func describePoint(ctx context.Context, client *backup.Client, vault, arn string) (recoveryPoint, error) {
	out, err := client.DescribeRecoveryPoint(ctx, &backup.DescribeRecoveryPointInput{
		BackupVaultName: aws.String(vault), RecoveryPointArn: aws.String(arn),
	})
	if err != nil {
		return recoveryPoint{}, fmt.Errorf("backup_restore: describe recovery point %s in vault %s: %w", arn, vault, err)
	}
	p := pointOf(arn, aws.ToString(out.ResourceArn), aws.ToString(out.ResourceType), aws.ToString(out.ResourceName),
		out.Status, out.CreationDate, out.CompletionDate)
	switch out.Status {
	case bktypes.RecoveryPointStatusCompleted, bktypes.RecoveryPointStatusAvailable, bktypes.RecoveryPointStatusStopped:
		return p, nil
	}
	return p, fmt.Errorf("backup_restore: recovery point %s is %s, not restorable", arn, out.Status)
}

// findPoint lists the resource's recovery points created at or before the
// time and picks one.
func findPoint(ctx context.Context, client *backup.Client, q backupQuery, now time.Time) (recoveryPoint, error) {
	var points []recoveryPoint
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(client, &backup.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String(q.vault),
		ByResourceArn:   aws.String(q.resourceArn),
		// ByCreatedBefore is exclusive; a point created exactly at the
		// time is still before it.
		ByCreatedBefore: aws.Time(q.toTime.Add(time.Second)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return recoveryPoint{}, fmt.Errorf("backup_restore: list recovery points of %s in vault %s: %w", q.resourceArn, q.vault, err)
		}
		for _, rp := range page.RecoveryPoints {
			points = append(points, pointOf(aws.ToString(rp.RecoveryPointArn), aws.ToString(rp.ResourceArn),
				aws.ToString(rp.ResourceType), aws.ToString(rp.ResourceName), rp.Status, rp.CreationDate, rp.CompletionDate))
		}
	}
	best, ok := pickRecoveryPoint(points, q.toTime, now)
	if !ok {
		return best, fmt.Errorf("backup_restore: no completed recovery point of %s in vault %s at or before %s (%d points listed)",
			q.resourceArn, q.vault, q.toTime.UTC().Format(time.RFC3339), len(points))
	}
	return best, nil
}

// Apply implements runbook.StepType.
func (t *BackupRestore) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	q, err := parseBackupQuery(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("backup_restore: %w", err)
	}
	if q.region == "" || q.vault == "" {
		return cty.NilVal, errors.New("backup_restore: region and vault must be set")
	}
	client, err := t.clients.Backup(ctx, q.region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("backup_restore: Backup client for %s: %w", q.region, err)
	}
	p, err := t.prepare(ctx, sc, client, q)
	if err != nil {
		return cty.NilVal, err
	}
	start, err := client.StartRestoreJob(ctx, &backup.StartRestoreJobInput{
		RecoveryPointArn: aws.String(p.point.arn),
		Metadata:         p.metadata,
		IamRoleArn:       aws.String(p.role),
		IdempotencyToken: aws.String(runToken(sc)),
		ResourceType:     aws.String(p.point.resourceType),
	})
	if err != nil {
		return cty.NilVal, fmt.Errorf("backup_restore: start restore of %s: %w", p.point.arn, err)
	}
	jobID := aws.ToString(start.RestoreJobId)
	logLine(sc, "restore job %s started: %s -> %s", jobID, p.point.arn, p.target)
	now := clockOf(sc)
	bound := waitBound(ctx, now, q.waitFor, backupDefaultWait)
	var job *backup.DescribeRestoreJobOutput
	err = pollUntil(ctx, now, q.interval, bound, func(ctx context.Context) (bool, error) {
		var err error
		job, err = client.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
		if err != nil {
			return false, fmt.Errorf("backup_restore: describe restore job %s: %w", jobID, err)
		}
		switch job.Status {
		case bktypes.RestoreJobStatusCompleted:
			progress(sc, 100, 100, "percent")
			return true, nil
		case bktypes.RestoreJobStatusAborted, bktypes.RestoreJobStatusFailed:
			msg := aws.ToString(job.StatusMessage)
			if msg == "" {
				msg = "no reason given"
			}
			return false, fmt.Errorf("backup_restore: restore job %s %s: %s", jobID, job.Status, msg)
		}
		if pct, ok := parsePercent(aws.ToString(job.PercentDone)); ok {
			progress(sc, int64(pct), 100, "percent")
		}
		return false, nil
	})
	if errors.Is(err, errWaitBound) {
		pct := "unknown"
		if job != nil && job.PercentDone != nil {
			pct = aws.ToString(job.PercentDone)
		}
		return cty.NilVal, fmt.Errorf("backup_restore: restore job %s not completed (%s done): %w", jobID, pct, err)
	}
	if err != nil {
		return cty.NilVal, err
	}
	return cty.ObjectVal(map[string]cty.Value{
		"recovery_point_arn":     cty.StringVal(p.point.arn),
		"recovery_point_created": cty.StringVal(p.point.created.UTC().Format(time.RFC3339)),
		"continuous":             cty.BoolVal(p.point.continuous),
		"resource_type":          cty.StringVal(p.point.resourceType),
		"restore_job_id":         cty.StringVal(jobID),
		"created_resource_arn":   cty.StringVal(aws.ToString(job.CreatedResourceArn)),
	}), nil
}

// parsePercent reads PercentDone, which AWS Backup sends as "42.5%".
func parsePercent(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return min(f, 100), true
}

// drillBucketName names the bucket a backup restore creates in a drill:
// the base name, "-drill-" and a hash of the drill id, within 63
// characters, so it never collides with a production bucket and teardown
// recognises it.
func drillBucketName(base, drillID string) string {
	base = strings.ToLower(base)
	if base == "" {
		base = "drconsole-restore"
	}
	return bucketWithSuffix(base, drillBucketSuffix(drillID))
}

// drillBucketSuffix ends the name of every bucket a drill restores.
func drillBucketSuffix(drillID string) string {
	h := sha256.Sum256([]byte(drillID))
	return "-drill-" + hex.EncodeToString(h[:4])
}

// backupRestoreDrill runs a backup_restore in a drill: the same restore
// into a new resource, which is then tagged with the drill id.
type backupRestoreDrill struct {
	t     *BackupRestore
	drill runbook.Drill
}

// DrillPlan implements runbook.Drillable: a restore always creates a new
// resource; in a drill an S3 restore's bucket is named for the drill, and
// the resource is tagged and deleted at teardown.
func (t *BackupRestore) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, d runbook.Drill) (runbook.DrillPlan, error) {
	v := &backupRestoreDrill{t: t, drill: d}
	if !cfg.IsKnown() || cfg.IsNull() || !cfgKnown(cfg, "target_bucket") || !cfgKnown(cfg, "resource_arn") {
		return runbook.DrillPlan{Type: v, Config: cfg, Redirects: []runbook.Change{{Action: "restore", Target: "new resource",
			Detail: "tagged " + tagDrill + "=" + d.ID + "; deleted at teardown"}}}, nil
	}
	attrs := cfg.AsValueMap()
	base := cfgString(cfg, "target_bucket")
	if arn := cfgString(cfg, "resource_arn"); base == "" && strings.HasPrefix(arn, "arn:aws:s3:::") {
		base = strings.TrimPrefix(arn, "arn:aws:s3:::")
	}
	bucket := drillBucketName(base, d.ID)
	attrs["target_bucket"] = cty.StringVal(bucket)
	return runbook.DrillPlan{Type: v, Config: cty.ObjectVal(attrs), Redirects: []runbook.Change{{Action: "restore",
		Target: "new resource (an S3 restore: bucket " + bucket + ")",
		Detail: "tagged " + tagDrill + "=" + d.ID + "; deleted at teardown"}}}, nil
}

func (v *backupRestoreDrill) Spec() hcldec.ObjectSpec { return v.t.Spec() }
func (v *backupRestoreDrill) Outputs() cty.Type       { return v.t.Outputs() }
func (v *backupRestoreDrill) Destructive() bool       { return false }

// Plan implements runbook.StepType.
func (v *backupRestoreDrill) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	return v.t.Plan(ctx, sc, cfg)
}

// Apply implements runbook.StepType: the restore, then the drill tag on
// what it created.
func (v *backupRestoreDrill) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	out, err := v.t.Apply(ctx, sc, cfg)
	if err != nil {
		return out, err
	}
	arn := out.GetAttr("created_resource_arn").AsString()
	region := cfgString(cfg, "region")
	// An untagged resource is still found by teardown (from the outputs,
	// or by its drill bucket name), so a failed tag does not fail the
	// recovery being measured.
	if err := v.tag(ctx, region, arn); err != nil {
		logLine(sc, "could not tag %s as a drill resource (teardown still deletes it): %v", arn, err)
		return out, nil
	}
	logLine(sc, "tagged %s %s=%s", arn, tagDrill, v.drill.ID)
	return out, nil
}

func (v *backupRestoreDrill) tag(ctx context.Context, region, arn string) error {
	switch {
	case strings.HasPrefix(arn, "arn:aws:s3:::"):
		client, err := v.t.clients.S3(ctx, region)
		if err != nil {
			return err
		}
		_, err = client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(strings.TrimPrefix(arn, "arn:aws:s3:::")),
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(tagDrill), Value: aws.String(v.drill.ID)}}}})
		return err
	case strings.Contains(arn, ":volume/"):
		client, err := v.t.clients.EC2(ctx, region)
		if err != nil {
			return err
		}
		_, err = client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{arn[strings.LastIndex(arn, "/")+1:]},
			Tags: []ec2types.Tag{{Key: aws.String(tagDrill), Value: aws.String(v.drill.ID)}}})
		return err
	}
	return nil // file systems keep the tags the restore gave them
}

// Teardown implements runbook.TearDowner: the restored resource is
// deleted: a bucket emptied and deleted, a volume deleted. A restore that
// did not finish is found by the drill bucket name it was given.
func (t *BackupRestore) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	region := cfgString(req.Config, "region")
	arn := ""
	if req.Outputs.Type().IsObjectType() && !req.Outputs.IsNull() {
		arn = cfgString(req.Outputs, "created_resource_arn")
	}
	if arn == "" {
		// The step did not finish: the job it started (if any) is in its
		// log, and may have created the resource since.
		var err error
		if arn, err = t.restoredByJob(ctx, region, req.Logs, req.Action); err != nil {
			return err
		}
	}
	if arn == "" && strings.HasPrefix(cfgString(req.Config, "resource_arn"), "arn:aws:s3:::") && cfgString(req.Config, "target_bucket") != "" {
		arn = "arn:aws:s3:::" + cfgString(req.Config, "target_bucket")
	}
	switch {
	case arn == "":
		report(req.Action, runbook.Change{Action: "none", Target: "backup_restore", Detail: "no restored resource recorded"})
		return nil
	case strings.HasPrefix(arn, "arn:aws:s3:::"):
		bucket := strings.TrimPrefix(arn, "arn:aws:s3:::")
		if !strings.HasSuffix(bucket, drillBucketSuffix(req.Drill.ID)) {
			return fmt.Errorf("backup_restore teardown: bucket %s is not named for drill %s: left alone", bucket, req.Drill.ID)
		}
		client, err := t.clients.S3(ctx, region)
		if err != nil {
			return fmt.Errorf("backup_restore teardown: s3 client for %s: %w", region, err)
		}
		if err := deleteBucket(ctx, client, bucket, req.Action); err != nil {
			return fmt.Errorf("backup_restore teardown: %w", err)
		}
		return nil
	case strings.Contains(arn, ":volume/"):
		id := arn[strings.LastIndex(arn, "/")+1:]
		client, err := t.clients.EC2(ctx, region)
		if err != nil {
			return fmt.Errorf("backup_restore teardown: EC2 client for %s: %w", region, err)
		}
		_, err = client.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
		switch {
		case isCode(err, "InvalidVolume.NotFound"):
			report(req.Action, runbook.Change{Action: "none", Target: id, Detail: "volume already gone"})
		case err != nil:
			return fmt.Errorf("backup_restore teardown: delete volume %s: %w", id, err)
		default:
			report(req.Action, runbook.Change{Action: "DeleteVolume", Target: id, Detail: "restored by the drill"})
		}
		return nil
	}
	report(req.Action, runbook.Change{Action: "none", Target: arn, Detail: "teardown does not delete this kind of resource: delete it by hand"})
	return nil
}

// restoredByJob finds the restore job a step logged as started and returns
// what it created. A job still running is an error: what it creates would
// be left behind, so teardown must run again once it ends.
func (t *BackupRestore) restoredByJob(ctx context.Context, region string, logs []string, action func(runbook.Change)) (string, error) {
	var jobID string
	for _, l := range logs {
		if rest, ok := strings.CutPrefix(l, "restore job "); ok {
			if id, _, ok := strings.Cut(rest, " started"); ok {
				jobID = id
			}
		}
	}
	if jobID == "" {
		return "", nil
	}
	client, err := t.clients.Backup(ctx, region)
	if err != nil {
		return "", fmt.Errorf("backup_restore teardown: Backup client for %s: %w", region, err)
	}
	job, err := client.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
	if err != nil {
		return "", fmt.Errorf("backup_restore teardown: describe restore job %s: %w", jobID, err)
	}
	switch job.Status {
	case bktypes.RestoreJobStatusCompleted:
		return aws.ToString(job.CreatedResourceArn), nil
	case bktypes.RestoreJobStatusAborted, bktypes.RestoreJobStatusFailed:
		report(action, runbook.Change{Action: "none", Target: jobID, Detail: "restore job " + string(job.Status) + ": it created nothing"})
		return "", nil
	}
	return "", fmt.Errorf("backup_restore teardown: restore job %s is still %s; run drconsole drill --teardown again once it ends, so what it creates is deleted",
		jobID, job.Status)
}

// deleteBucket empties a bucket and deletes it; a bucket already gone is
// reported and not an error.
func deleteBucket(ctx context.Context, client *s3.Client, bucket string, action func(runbook.Change)) error {
	if err := emptyPrefix(ctx, client, bucket, "", action); err != nil {
		return err
	}
	_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	switch {
	case isCode(err, "NoSuchBucket"):
		return nil
	case err != nil:
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	report(action, runbook.Change{Action: "DeleteBucket", Target: bucket})
	return nil
}

// RecoveryPoints implements runbook.RecoveryPointer: a continuous point
// restores to to_time itself; a snapshot point holds the state of its
// creation.
func (*BackupRestore) RecoveryPoints(s runbook.FinishedDrillStep) []runbook.RecoveryPoint {
	if cfgBool(s.Outputs, "continuous") {
		return pointAt("to_time (continuous backup)", s.Config, "to_time")
	}
	return pointAt("recovery_point_created", s.Outputs, "recovery_point_created")
}

// LoggedParams implements runbook.APIParams: the restore's calls, and the
// bucket or volume a drill's teardown deletes.
func (*BackupRestore) LoggedParams() []string {
	return []string{"BackupVaultName", "RecoveryPointArn", "ResourceArn", "RestoreJobId", "Bucket", "Prefix", "KeyMarker", "VolumeId"}
}
