package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// A point in a vault other than the estate's usual one restores from that
// vault: the Points view runs a backup_restore step given the point's
// vault, region, type and ARN, behind a typed gate, and the restore job
// completes.
func TestPointsRestoresFromAnyVault(t *testing.T) {
	t.Run("nearest before a time", func(t *testing.T) {
		h, vol, point := pointInOtherVault(t)
		h.keys("3", "r")
		h.waitScreen(vol)
		h.keys("/")
		h.typeText(vol)
		h.keys("enter", "enter", "R")
		h.waitScreen("nearest COMPLETED point at or before")
		h.keys("enter")
		h.waitScreen("in vault " + otherVault)
		h.keys("enter")
		restored(t, h, point)
	})
	t.Run("chosen in its vault", func(t *testing.T) {
		h, _, point := pointInOtherVault(t)
		h.keys("3", "v", "r")
		h.waitScreen(otherVault)
		h.keys("/")
		h.typeText(otherVault)
		h.keys("enter", "enter")
		h.waitScreen("1/1")
		h.keys("enter")
		restored(t, h, point)
	})
}

// otherVault is a vault the sandbox's estate does not have.
const otherVault = "ai-offsite-vault"

// pointInOtherVault starts a console on a sandbox with otherVault and one
// COMPLETED recovery point in it, of a dataset volume: the volume's newest,
// so "nearest before now" picks it over those of the usual vault. It
// returns the volume id and the point's ARN.
func pointInOtherVault(t *testing.T) (*harness, string, string) {
	t.Helper()
	h := newHarness(t, 120, 40, nil)
	ctx := context.Background()
	bc, err := h.m.env.opts.Clients.Backup(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	ec2c, err := h.m.env.opts.Clients.EC2(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	vols, err := ec2c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"ai-dataset"}}}})
	if err != nil || len(vols.Volumes) == 0 {
		t.Fatalf("dataset volumes: %v", err)
	}
	vol := aws.ToString(vols.Volumes[0].VolumeId)
	if _, err := bc.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String(otherVault)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	job, err := bc.StartBackupJob(ctx, &backup.StartBackupJobInput{
		BackupVaultName: aws.String(otherVault), ResourceArn: aws.String("arn:aws:ec2:us-east-1:" + accountID(t, h) + ":volume/" + vol),
		IamRoleArn: aws.String("arn:aws:iam::" + accountID(t, h) + ":role/service-role/AWSBackupDefaultServiceRole"),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Minute) // the backup job completes
	return h, vol, aws.ToString(job.RecoveryPointArn)
}

// restored approves the restore's gate, which must show point, and checks
// that the run restored point: one COMPLETED restore job, from a runbook
// generated in the state directory.
func restored(t *testing.T, h *harness, point string) {
	t.Helper()
	h.waitScreen("Gate step.backup_restore.restore")
	if s := h.screen(); !strings.Contains(strings.Join(strings.Fields(strings.NewReplacer("║", "").Replace(s)), ""), point) {
		t.Fatalf("the gate does not show the point restored:\n%s", s)
	}
	h.clock.Advance(time.Second)
	approve(h, "restore")
	h.waitScreen("restore job ")
	h.clock.Advance(10 * time.Minute) // the restore job completes
	h.waitScreen("run SUCCEEDED")

	bc, err := h.m.env.opts.Clients.Backup(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := bc.ListRestoreJobs(context.Background(), &backup.ListRestoreJobsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.RestoreJobs) != 1 || aws.ToString(jobs.RestoreJobs[0].RecoveryPointArn) != point || jobs.RestoreJobs[0].Status != "COMPLETED" {
		t.Fatalf("restore jobs %+v, want one COMPLETED of %s", jobs.RestoreJobs, point)
	}
	if _, err := os.Stat(filepath.Join(h.m.env.opts.StateDir, "console-restore.hcl")); err != nil {
		t.Errorf("generated runbook: %v", err)
	}
}

// accountID is the sandbox's account, read from STS.
func accountID(t *testing.T, h *harness) string {
	t.Helper()
	if id := h.m.env.est.identity.Account; id != "" {
		return id
	}
	t.Fatal("no caller identity loaded")
	return ""
}
