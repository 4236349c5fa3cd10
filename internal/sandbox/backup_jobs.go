package sandbox

import (
	"fmt"
	"time"
)

func (s *backupService) startBackupJob(r *backupReq) (any, *apiError) {
	vaultName, resArn, role := r.str("BackupVaultName"), r.str("ResourceArn"), r.str("IamRoleArn")
	if vaultName == "" || resArn == "" || role == "" {
		return nil, backupErr("MissingParameterValueException", "BackupVaultName, ResourceArn and IamRoleArn are required")
	}
	if tok := r.str("IdempotencyToken"); tok != "" {
		for _, j := range s.e.st.BackupJobs {
			if j.IdempotencyToken == tok && j.Region == r.c.Region {
				if j.ResourceArn != resArn || j.Vault != vaultName {
					return nil, backupErr("InvalidRequestException", "IdempotencyToken %q was used with different parameters", tok)
				}
				return map[string]any{"BackupJobId": j.ID, "RecoveryPointArn": j.RecoveryPointArn, "CreationDate": epochPtr(j.Created)}, nil
			}
		}
	}
	if s.e.vault(r.c.Region, vaultName) == nil {
		return nil, notFound("Backup vault %s does not exist", vaultName)
	}
	res, ae := s.resolveResource(resArn, r.c.Region)
	if ae != nil {
		return nil, ae
	}
	j := &backupJob{ID: s.e.newUUID(), Vault: vaultName, Region: r.c.Region, ResourceArn: resArn, ResourceType: res.typ,
		IdempotencyToken: r.str("IdempotencyToken"), IamRole: role, Created: r.c.Now,
		CompleteAt: r.c.Now.Add(s.e.opts.SnapshotDuration)}
	rp := s.e.newRecoveryPoint(vaultName, res, r.c.Now, j.CompleteAt, j.ID)
	if res.typ == "S3" {
		capture, err := s.e.s3.captureBucket(res.bucket, r.c.Now)
		if err != nil {
			return nil, backupErr("InvalidRequestException", "back up bucket %s: %v", res.bucket, err)
		}
		s.e.st.Captures[rp.ARN] = capture
	}
	j.RecoveryPointArn = rp.ARN
	s.e.st.BackupJobs = append(s.e.st.BackupJobs, j)
	return map[string]any{"BackupJobId": j.ID, "RecoveryPointArn": rp.ARN, "CreationDate": epochPtr(j.Created)}, nil
}

func (s *backupService) backupJobJSON(j *backupJob, now time.Time) map[string]any {
	state, pct := "RUNNING", 100*float64(now.Sub(j.Created))/float64(j.CompleteAt.Sub(j.Created)+1)
	if !now.Before(j.CompleteAt) {
		state, pct = "COMPLETED", 100
	}
	m := map[string]any{"AccountId": accountID, "BackupJobId": j.ID, "BackupVaultName": j.Vault,
		"BackupVaultArn": vaultArn(j.Region, j.Vault), "RecoveryPointArn": j.RecoveryPointArn,
		"ResourceArn": j.ResourceArn, "ResourceType": j.ResourceType, "CreationDate": epochPtr(j.Created),
		"State": state, "PercentDone": fmt.Sprintf("%.1f", pct), "IamRoleArn": j.IamRole,
		"ExpectedCompletionDate": epochPtr(j.CompleteAt), "StartBy": epochPtr(j.Created.Add(8 * time.Hour))}
	if state == "COMPLETED" {
		m["CompletionDate"] = epochPtr(j.CompleteAt)
	}
	return m
}

func (s *backupService) describeBackupJob(r *backupReq) (any, *apiError) {
	for _, j := range s.e.st.BackupJobs {
		if j.ID == r.labels[0] && j.Region == r.c.Region {
			return s.backupJobJSON(j, r.c.Now), nil
		}
	}
	return nil, notFound("Backup job %s does not exist", r.labels[0])
}

func (s *backupService) listBackupJobs(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListBackupJobs")
	if ae != nil {
		return nil, ae
	}
	var sel []*backupJob
	for _, j := range s.e.st.BackupJobs {
		if j.Region == r.c.Region && (r.q.Get("resourceArn") == "" || r.q.Get("resourceArn") == j.ResourceArn) {
			sel = append(sel, j)
		}
	}
	lo, hi, next := page("ListBackupJobs", len(sel), off, max)
	list := []any{}
	for _, j := range sel[lo:hi] {
		list = append(list, s.backupJobJSON(j, r.c.Now))
	}
	return withNext(map[string]any{"BackupJobs": list}, next), nil
}
