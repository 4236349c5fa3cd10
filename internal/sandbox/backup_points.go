package sandbox

import (
	"sort"
	"strings"
	"time"
)

// resourceRef is a backed-up resource named by its ARN.
type resourceRef struct {
	arn, typ, name, region string
	bucket                 string
	vol                    *volume
	fs                     *fileSystem
}

func (s *backupService) resolveResource(arn string, region string) (*resourceRef, *apiError) {
	switch {
	case strings.HasPrefix(arn, "arn:aws:s3:::"):
		b := strings.TrimPrefix(arn, "arn:aws:s3:::")
		br, ok := s.e.s3.bucketRegion(b)
		if !ok {
			return nil, notFound("Resource %s does not exist", arn)
		}
		if br != region {
			return nil, backupErr("InvalidParameterValueException", "Bucket %s is in %s, not in %s", b, br, region)
		}
		return &resourceRef{arn: arn, typ: "S3", name: b, region: br, bucket: b}, nil
	case strings.HasPrefix(arn, "arn:aws:ec2:"+region+":"+accountID+":volume/"):
		id := arn[strings.LastIndexByte(arn, '/')+1:]
		v := s.e.volume(region, id)
		if v == nil {
			return nil, notFound("Resource %s does not exist", arn)
		}
		n, _ := tagValue(v.Tags, "Name")
		return &resourceRef{arn: arn, typ: "EBS", name: n, region: region, vol: v}, nil
	case strings.HasPrefix(arn, "arn:aws:elasticfilesystem:"+region+":"+accountID+":file-system/"):
		id := arn[strings.LastIndexByte(arn, '/')+1:]
		fs := s.e.fileSystem(region, id)
		if fs == nil {
			return nil, notFound("Resource %s does not exist", arn)
		}
		return &resourceRef{arn: arn, typ: "EFS", name: fs.Name, region: region, fs: fs}, nil
	}
	return nil, backupErr("InvalidParameterValueException", "Invalid or unsupported resource ARN %q (the sandbox backs up S3 buckets, EBS volumes and EFS file systems in this region)", arn)
}

// newRecoveryPoint records a backup of res taken at `at`, completing at done.
func (e *estate) newRecoveryPoint(vaultName string, res *resourceRef, at, done time.Time, jobID string) *recoveryPoint {
	rp := &recoveryPoint{Vault: vaultName, Region: res.region, ResourceArn: res.arn, ResourceType: res.typ,
		ResourceName: res.name, Created: at, Completed: done, BackupJobID: jobID}
	switch res.typ {
	case "EBS":
		sn := e.newSnapshot(res.vol, "This snapshot is created by the AWS Backup service.", []tag{{"aws:backup:source-resource", res.vol.ID}}, at)
		rp.ARN = "arn:aws:ec2:" + res.region + "::snapshot/" + sn.ID
		rp.VolumeSize = res.vol.Size
		rp.SizeBytes = int64(res.vol.Size) << 30
	case "EFS":
		rp.ARN = "arn:aws:backup:" + res.region + ":" + accountID + ":recovery-point:" + e.newUUID()
		rp.PerformanceMode = res.fs.PerformanceMode
		rp.SizeBytes = res.fs.SizeBytes
	default:
		rp.ARN = "arn:aws:backup:" + res.region + ":" + accountID + ":recovery-point:" + e.newUUID()
	}
	e.st.RecoveryPoints = append(e.st.RecoveryPoints, rp)
	return rp
}

func (e *estate) recoveryPoint(region, arn string) *recoveryPoint {
	for _, rp := range e.st.RecoveryPoints {
		if rp.Region == region && rp.ARN == arn {
			return rp
		}
	}
	return nil
}

func (rp *recoveryPoint) status(now time.Time) string {
	switch {
	case rp.Failed:
		return "PARTIAL"
	case rp.Continuous:
		return "AVAILABLE"
	case now.Before(rp.Completed):
		return "CREATING"
	}
	return "COMPLETED"
}

func (s *backupService) recoveryPointJSON(rp *recoveryPoint, now time.Time) map[string]any {
	m := map[string]any{"RecoveryPointArn": rp.ARN, "BackupVaultName": rp.Vault, "BackupVaultArn": vaultArn(rp.Region, rp.Vault),
		"ResourceArn": rp.ResourceArn, "ResourceType": rp.ResourceType, "ResourceName": rp.ResourceName,
		"CreationDate": epochPtr(rp.Created), "InitiationDate": epochPtr(rp.Created), "Status": rp.status(now),
		"BackupSizeInBytes": rp.SizeBytes, "IamRoleArn": "arn:aws:iam::" + accountID + ":role/service-role/AWSBackupDefaultServiceRole",
		"IsEncrypted": true, "EncryptionKeyType": "AWS_OWNED_KMS_KEY", "StorageClass": "WARM", "VaultType": "BACKUP_VAULT",
		"Lifecycle": map[string]any{"DeleteAfterDays": int(backupRetention / (24 * time.Hour))}, "IsParent": false}
	if rp.Continuous {
		// A continuous point restores to any time in its window, from its
		// CreationDate to its CompletionDate, which is always now: backup
		// is continuous, and the retention rolls forward with it.
		m["CalculatedLifecycle"] = map[string]any{"DeleteAt": epochPtr(now.Add(backupRetention))}
		m["CompletionDate"] = epochPtr(now)
	} else {
		m["CalculatedLifecycle"] = map[string]any{"DeleteAt": epochPtr(rp.Created.Add(backupRetention))}
		if rp.status(now) == "COMPLETED" {
			m["CompletionDate"] = epochPtr(rp.Completed)
		}
	}
	if rp.PlanID != "" {
		m["CreatedBy"] = map[string]any{"BackupPlanId": rp.PlanID, "BackupPlanArn": planArn(rp.Region, rp.PlanID), "BackupPlanVersion": "1"}
	}
	return m
}

func (s *backupService) listByVault(r *backupReq) (any, *apiError) {
	name := r.labels[0]
	if s.e.vault(r.c.Region, name) == nil {
		return nil, notFound("Backup vault %s does not exist", name)
	}
	max, off, ae := backupPage(r, "ListRecoveryPointsByBackupVault")
	if ae != nil {
		return nil, ae
	}
	before, ae := queryTime(r.q, "createdBefore")
	if ae != nil {
		return nil, ae
	}
	after, ae := queryTime(r.q, "createdAfter")
	if ae != nil {
		return nil, ae
	}
	resArn, resType, planID := r.q.Get("resourceArn"), r.q.Get("resourceType"), r.q.Get("backupPlanId")
	var sel []*recoveryPoint
	for _, rp := range s.e.st.RecoveryPoints {
		if rp.Region != r.c.Region || rp.Vault != name ||
			resArn != "" && rp.ResourceArn != resArn || resType != "" && rp.ResourceType != resType ||
			planID != "" && rp.PlanID != planID ||
			!before.IsZero() && !rp.Created.Before(before) || !after.IsZero() && !rp.Created.After(after) {
			continue
		}
		sel = append(sel, rp)
	}
	sortPointsNewestFirst(sel)
	lo, hi, next := page("ListRecoveryPointsByBackupVault", len(sel), off, max)
	list := []any{}
	for _, rp := range sel[lo:hi] {
		list = append(list, s.recoveryPointJSON(rp, r.c.Now))
	}
	return withNext(map[string]any{"RecoveryPoints": list}, next), nil
}

func sortPointsNewestFirst(ps []*recoveryPoint) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Created.After(ps[j].Created) })
}

func (s *backupService) listByResource(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListRecoveryPointsByResource")
	if ae != nil {
		return nil, ae
	}
	arn := r.labels[0]
	var sel []*recoveryPoint
	for _, rp := range s.e.st.RecoveryPoints {
		if rp.Region == r.c.Region && rp.ResourceArn == arn {
			sel = append(sel, rp)
		}
	}
	sortPointsNewestFirst(sel)
	lo, hi, next := page("ListRecoveryPointsByResource", len(sel), off, max)
	list := []any{}
	for _, rp := range sel[lo:hi] {
		list = append(list, map[string]any{"RecoveryPointArn": rp.ARN, "CreationDate": epochPtr(rp.Created),
			"Status": rp.status(r.c.Now), "BackupSizeBytes": rp.SizeBytes, "BackupVaultName": rp.Vault,
			"ResourceName": rp.ResourceName, "IsParent": false, "EncryptionKeyType": "AWS_OWNED_KMS_KEY", "VaultType": "BACKUP_VAULT"})
	}
	return withNext(map[string]any{"RecoveryPoints": list}, next), nil
}

func (s *backupService) pointInVault(r *backupReq) (*recoveryPoint, *apiError) {
	if s.e.vault(r.c.Region, r.labels[0]) == nil {
		return nil, notFound("Backup vault %s does not exist", r.labels[0])
	}
	rp := s.e.recoveryPoint(r.c.Region, r.labels[1])
	if rp == nil || rp.Vault != r.labels[0] {
		return nil, notFound("Recovery point %s does not exist in vault %s", r.labels[1], r.labels[0])
	}
	return rp, nil
}

func (s *backupService) describeRecoveryPoint(r *backupReq) (any, *apiError) {
	rp, ae := s.pointInVault(r)
	if ae != nil {
		return nil, ae
	}
	return s.recoveryPointJSON(rp, r.c.Now), nil
}
