package sandbox_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/sandbox"
)

const role = "arn:aws:iam::123456789012:role/backup-restore"

func TestBackupVaultsAndPlans(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 4})
	c := backup.NewFromConfig(e.cfg)
	for _, n := range []string{"v-1", "v-2", "v-3"} {
		must(c.CreateBackupVault(e.ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(n)}))(t)
	}
	_, err := c.CreateBackupVault(e.ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("v-1")})
	wantCode(t, err, "AlreadyExistsException", 400)
	p := backup.NewListBackupVaultsPaginator(c, &backup.ListBackupVaultsInput{MaxResults: aws.Int32(2)})
	var names []string
	for p.HasMorePages() {
		for _, v := range must(p.NextPage(e.ctx))(t).BackupVaultList {
			names = append(names, *v.BackupVaultName)
		}
	}
	if strings.Join(names, ",") != "ai-dr-vault,v-1,v-2,v-3" {
		t.Fatalf("vaults: %v", names)
	}
	d := must(c.DescribeBackupVault(e.ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String(sandbox.DefaultNames().BackupVault)}))(t)
	if d.NumberOfRecoveryPoints != 14*5+1 {
		t.Fatalf("seeded vault holds %d recovery points, want %d", d.NumberOfRecoveryPoints, 14*5+1)
	}
	_, err = c.DescribeBackupVault(e.ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("missing")})
	wantCode(t, err, "ResourceNotFoundException", 400)

	plan := must(c.CreateBackupPlan(e.ctx, &backup.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{
		BackupPlanName: aws.String("hourly"), Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("h"),
			TargetBackupVaultName: aws.String("v-1"), ScheduleExpression: aws.String("cron(0 * * * ? *)")}}}}))(t)
	got := must(c.GetBackupPlan(e.ctx, &backup.GetBackupPlanInput{BackupPlanId: plan.BackupPlanId}))(t)
	if *got.BackupPlan.BackupPlanName != "hourly" || len(got.BackupPlan.Rules) != 1 || got.BackupPlan.Rules[0].RuleId == nil {
		t.Fatalf("GetBackupPlan: %+v", got.BackupPlan)
	}
	plans := must(c.ListBackupPlans(e.ctx, &backup.ListBackupPlansInput{}))(t)
	if len(plans.BackupPlansList) != 2 {
		t.Fatalf("%d plans, want the seeded one and hourly", len(plans.BackupPlansList))
	}
	_, err = c.CreateBackupPlan(e.ctx, &backup.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{
		BackupPlanName: aws.String("x"), Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("h"), TargetBackupVaultName: aws.String("nope")}}}})
	wantCode(t, err, "InvalidParameterValueException", 400)
	_, err = c.GetBackupPlan(e.ctx, &backup.GetBackupPlanInput{BackupPlanId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException", 400)
}

func TestBackupRecoveryPointListings(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 4})
	c := backup.NewFromConfig(e.cfg)
	vault := aws.String(sandbox.DefaultNames().BackupVault)
	ebs := 0
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(c, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault,
		ByResourceType: aws.String("EBS"), MaxResults: aws.Int32(10)})
	var last time.Time
	for p.HasMorePages() {
		for _, rp := range must(p.NextPage(e.ctx))(t).RecoveryPoints {
			ebs++
			if !last.IsZero() && rp.CreationDate.After(last) {
				t.Fatalf("recovery points not newest first")
			}
			last = *rp.CreationDate
			if rp.Status != bktypes.RecoveryPointStatusCompleted || !strings.Contains(*rp.RecoveryPointArn, ":snapshot/snap-") {
				t.Fatalf("EBS point %s: %s", *rp.RecoveryPointArn, rp.Status)
			}
		}
	}
	if ebs != 3*14 {
		t.Fatalf("%d EBS recovery points, want %d", ebs, 3*14)
	}
	cut := t0.Add(-3 * 24 * time.Hour)
	before := must(c.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault,
		ByResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket), ByCreatedBefore: aws.Time(cut)}))(t)
	for _, rp := range before.RecoveryPoints {
		if !rp.CreationDate.Before(cut) {
			t.Fatalf("ByCreatedBefore returned %v", rp.CreationDate)
		}
	}
	if n := len(before.RecoveryPoints); n < 10 || n > 12 {
		t.Fatalf("%d bucket points before %v", n, cut)
	}
	after := must(c.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault,
		ByResourceType: aws.String("S3"), ByCreatedAfter: aws.Time(cut)}))(t)
	if len(after.RecoveryPoints)+len(before.RecoveryPoints) != 15 {
		t.Fatalf("S3 points before and after the cut: %d + %d, want 15 (14 daily, 1 continuous)", len(before.RecoveryPoints), len(after.RecoveryPoints))
	}
	byRes := must(c.ListRecoveryPointsByResource(e.ctx, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket)}))(t)
	if len(byRes.RecoveryPoints) != 15 {
		t.Fatalf("ListRecoveryPointsByResource: %d points", len(byRes.RecoveryPoints))
	}
	var cont string
	for _, rp := range byRes.RecoveryPoints {
		if strings.Contains(*rp.RecoveryPointArn, ":continuous:") {
			cont = *rp.RecoveryPointArn
		}
	}
	if cont == "" {
		t.Fatal("no continuous recovery point for the bucket")
	}
	d := must(c.DescribeRecoveryPoint(e.ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(cont)}))(t)
	if d.CalculatedLifecycle == nil || d.CalculatedLifecycle.DeleteAt == nil || d.ResourceType == nil || *d.ResourceType != "S3" {
		t.Fatalf("continuous point: %+v", d)
	}
	_, err := c.DescribeRecoveryPoint(e.ctx, &backup.DescribeRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:123456789012:recovery-point:nope")})
	wantCode(t, err, "ResourceNotFoundException", 400)
	_, err = c.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault, NextToken: aws.String("bogus")})
	wantCode(t, err, "InvalidParameterValueException", 400)
}

func restoreJob(t *testing.T, e *env, c *backup.Client, id *string) *backup.DescribeRestoreJobOutput {
	t.Helper()
	return must(c.DescribeRestoreJob(e.ctx, &backup.DescribeRestoreJobInput{RestoreJobId: id}))(t)
}

func TestBackupRestoreS3EBSEFS(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 4, RestoreDuration: 100 * time.Second, SnapshotDuration: 10 * time.Second})
	c := backup.NewFromConfig(e.cfg)
	s3c := e.s3(e.cfg)
	vault := aws.String(sandbox.DefaultNames().BackupVault)

	// Back up the bucket now, then change it: the restore holds the
	// bucket as it was at the backup.
	job := must(c.StartBackupJob(e.ctx, &backup.StartBackupJobInput{BackupVaultName: vault, IamRoleArn: aws.String(role),
		ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket), IdempotencyToken: aws.String("bk-1")}))(t)
	again := must(c.StartBackupJob(e.ctx, &backup.StartBackupJobInput{BackupVaultName: vault, IamRoleArn: aws.String(role),
		ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket), IdempotencyToken: aws.String("bk-1")}))(t)
	if *again.BackupJobId != *job.BackupJobId {
		t.Fatal("the idempotency token did not return the same backup job")
	}
	bj := must(c.DescribeBackupJob(e.ctx, &backup.DescribeBackupJobInput{BackupJobId: job.BackupJobId}))(t)
	if bj.State != bktypes.BackupJobStateRunning {
		t.Fatalf("new backup job is %s", bj.State)
	}
	_, err := c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"DestinationBucketName": "too-early"}})
	wantCode(t, err, "InvalidRequestException", 400)
	must(s3c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/after-backup.bin"), Body: bytes.NewReader([]byte("new"))}))(t)
	e.advance(10 * time.Second)
	if bj := must(c.DescribeBackupJob(e.ctx, &backup.DescribeBackupJobInput{BackupJobId: job.BackupJobId}))(t); bj.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup job after its duration: %s", bj.State)
	}
	md := must(c.GetRecoveryPointRestoreMetadata(e.ctx, &backup.GetRecoveryPointRestoreMetadataInput{BackupVaultName: vault, RecoveryPointArn: job.RecoveryPointArn}))(t)
	if md.RestoreMetadata["DestinationBucketName"] != sandbox.DefaultNames().ModelBucket {
		t.Fatalf("restore metadata: %v", md.RestoreMetadata)
	}
	meta := md.RestoreMetadata
	meta["DestinationBucketName"] = "ai-model-artifacts-restored"
	start := &backup.StartRestoreJobInput{RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: aws.String(role), Metadata: meta,
		IdempotencyToken: aws.String("rs-1"), ResourceType: aws.String("S3")}
	rj := must(c.StartRestoreJob(e.ctx, start))(t)
	if again := must(c.StartRestoreJob(e.ctx, start))(t); *again.RestoreJobId != *rj.RestoreJobId {
		t.Fatal("the idempotency token did not return the same restore job")
	}
	if d := restoreJob(t, e, c, rj.RestoreJobId); d.Status != bktypes.RestoreJobStatusPending || d.CreatedResourceArn != nil {
		t.Fatalf("new restore job: %s", d.Status)
	}
	e.advance(50 * time.Second)
	if d := restoreJob(t, e, c, rj.RestoreJobId); d.Status != bktypes.RestoreJobStatusRunning || *d.PercentDone != "50.00%" {
		t.Fatalf("restore half way: %s %s", d.Status, *d.PercentDone)
	}
	_, err = s3c.HeadBucket(e.ctx, &s3.HeadBucketInput{Bucket: aws.String("ai-model-artifacts-restored")})
	if err == nil {
		t.Fatal("the restored bucket exists before the job completes")
	}
	e.advance(50 * time.Second)
	d := restoreJob(t, e, c, rj.RestoreJobId)
	if d.Status != bktypes.RestoreJobStatusCompleted || *d.CreatedResourceArn != "arn:aws:s3:::ai-model-artifacts-restored" {
		t.Fatalf("restore done: %s %v", d.Status, d.CreatedResourceArn)
	}
	src := must(s3c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(sandbox.DefaultNames().ModelBucket)}))(t)
	dst := must(s3c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("ai-model-artifacts-restored")}))(t)
	if *dst.KeyCount != *src.KeyCount-1 || *dst.KeyCount == 0 {
		t.Fatalf("restored %d keys, source has %d (one written after the backup)", *dst.KeyCount, *src.KeyCount)
	}
	for _, o := range dst.Contents {
		if *o.Key == "models/after-backup.bin" {
			t.Fatal("the restore holds an object written after the backup")
		}
	}
	got := must(s3c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String("ai-model-artifacts-restored"), Key: aws.String("models/llama-ft/config.json")}))(t)
	if b, _ := io.ReadAll(got.Body); len(b) == 0 {
		t.Fatal("restored object is empty")
	}
	_, err = c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: job.RecoveryPointArn, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"DestinationBucketName": "ai-model-artifacts-restored"}})
	wantCode(t, err, "InvalidParameterValueException", 400)

	// EBS: the newest point of a dataset volume becomes a new volume.
	ebsPoints := must(c.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault,
		ByResourceType: aws.String("EBS"), MaxResults: aws.Int32(1)}))(t)
	ebsArn := ebsPoints.RecoveryPoints[0].RecoveryPointArn
	emd := must(c.GetRecoveryPointRestoreMetadata(e.ctx, &backup.GetRecoveryPointRestoreMetadataInput{BackupVaultName: vault, RecoveryPointArn: ebsArn}))(t)
	ej := must(c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: ebsArn, IamRoleArn: aws.String(role), Metadata: emd.RestoreMetadata}))(t)
	// EFS: a new file system.
	efsPoints := must(c.ListRecoveryPointsByBackupVault(e.ctx, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault,
		ByResourceType: aws.String("EFS"), MaxResults: aws.Int32(1)}))(t)
	fj := must(c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: efsPoints.RecoveryPoints[0].RecoveryPointArn,
		IamRoleArn: aws.String(role), Metadata: map[string]string{"newFileSystem": "true", "file-system-id": "x"}}))(t)
	e.advance(100 * time.Second)
	ed := restoreJob(t, e, c, ej.RestoreJobId)
	if ed.Status != bktypes.RestoreJobStatusCompleted || !strings.Contains(*ed.CreatedResourceArn, ":volume/vol-") {
		t.Fatalf("EBS restore: %s %v", ed.Status, ed.CreatedResourceArn)
	}
	volID := (*ed.CreatedResourceArn)[strings.LastIndex(*ed.CreatedResourceArn, "/")+1:]
	vols := must(ec2.NewFromConfig(e.cfg).DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}}))(t)
	if len(vols.Volumes) != 1 || int64(*vols.Volumes[0].Size) != *ebsPoints.RecoveryPoints[0].BackupSizeInBytes>>30 {
		t.Fatalf("restored volume: %+v", vols.Volumes)
	}
	fd := restoreJob(t, e, c, fj.RestoreJobId)
	if fd.Status != bktypes.RestoreJobStatusCompleted || !strings.Contains(*fd.CreatedResourceArn, ":file-system/fs-") {
		t.Fatalf("EFS restore: %s %v", fd.Status, fd.CreatedResourceArn)
	}
	jobs := must(c.ListRestoreJobs(e.ctx, &backup.ListRestoreJobsInput{ByStatus: bktypes.RestoreJobStatusCompleted, MaxResults: aws.Int32(2)}))(t)
	if len(jobs.RestoreJobs) != 2 || jobs.NextToken == nil {
		t.Fatalf("ListRestoreJobs page: %d jobs, next %v", len(jobs.RestoreJobs), jobs.NextToken)
	}
	rest := must(c.ListRestoreJobs(e.ctx, &backup.ListRestoreJobsInput{ByStatus: bktypes.RestoreJobStatusCompleted, NextToken: jobs.NextToken}))(t)
	if len(rest.RestoreJobs) != 1 {
		t.Fatalf("second page: %d jobs, want 1", len(rest.RestoreJobs))
	}
	_, err = c.DescribeRestoreJob(e.ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException", 400)
	_, err = c.StartBackupJob(e.ctx, &backup.StartBackupJobInput{BackupVaultName: vault, IamRoleArn: aws.String(role), ResourceArn: aws.String("arn:aws:s3:::no-such-bucket")})
	wantCode(t, err, "ResourceNotFoundException", 400)
}

func TestBackupContinuousPointRestoresToATime(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 4, RestoreDuration: time.Minute})
	c := backup.NewFromConfig(e.cfg)
	s3c := e.s3(e.cfg)
	points := must(c.ListRecoveryPointsByResource(e.ctx, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + sandbox.DefaultNames().ModelBucket)}))(t)
	var cont *string
	for _, rp := range points.RecoveryPoints {
		if strings.Contains(*rp.RecoveryPointArn, ":continuous:") {
			cont = rp.RecoveryPointArn
		}
	}
	must(s3c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(sandbox.DefaultNames().ModelBucket), Key: aws.String("models/late.bin"), Body: bytes.NewReader([]byte("late"))}))(t)
	e.advance(time.Minute)
	restoreTo := t0.Add(-time.Second).Format(time.RFC3339)
	j := must(c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: cont, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"DestinationBucketName": "pitr-copy", "NewBucket": "true", "RestoreTime": restoreTo}}))(t)
	_, err := c.StartRestoreJob(e.ctx, &backup.StartRestoreJobInput{RecoveryPointArn: cont, IamRoleArn: aws.String(role),
		Metadata: map[string]string{"DestinationBucketName": "pitr-2", "RestoreTime": t0.Add(-400 * 24 * time.Hour).Format(time.RFC3339)}})
	wantCode(t, err, "InvalidParameterValueException", 400)
	e.advance(time.Minute)
	if d := restoreJob(t, e, c, j.RestoreJobId); d.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("point-in-time restore: %s", d.Status)
	}
	_, err = s3c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String("pitr-copy"), Key: aws.String("models/late.bin")})
	if err == nil {
		t.Fatal("a restore to before the write holds the object")
	}
	must(s3c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String("pitr-copy"), Key: aws.String("models/llama-ft/config.json")}))(t)
}
