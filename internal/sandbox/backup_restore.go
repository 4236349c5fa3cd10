package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

func (s *backupService) restoreMetadata(r *backupReq) (any, *apiError) {
	rp, ae := s.pointInVault(r)
	if ae != nil {
		return nil, ae
	}
	md := map[string]string{}
	switch rp.ResourceType {
	case "S3":
		md["DestinationBucketName"] = rp.ResourceName
		md["NewBucket"] = "true"
		md["Encrypted"] = "false"
		md["CreationToken"] = uuidFrom(rp.ARN)
	case "EBS":
		id := rp.ResourceArn[strings.LastIndexByte(rp.ResourceArn, '/')+1:]
		md["volumeId"] = id
		md["volumeSize"] = istr(rp.VolumeSize)
		md["volumeType"] = "gp3"
		md["availabilityZone"] = rp.Region + "a"
		md["encrypted"] = "false"
	case "EFS":
		id := rp.ResourceArn[strings.LastIndexByte(rp.ResourceArn, '/')+1:]
		md["file-system-id"] = id
		md["newFileSystem"] = "true"
		md["Encrypted"] = "false"
		md["PerformanceMode"] = rp.PerformanceMode
		md["CreationToken"] = uuidFrom(rp.ARN)
	}
	return map[string]any{"BackupVaultArn": vaultArn(rp.Region, rp.Vault), "RecoveryPointArn": rp.ARN,
		"ResourceType": rp.ResourceType, "RestoreMetadata": md}, nil
}

func (s *backupService) startRestoreJob(r *backupReq) (any, *apiError) {
	arn, role := r.str("RecoveryPointArn"), r.str("IamRoleArn")
	if arn == "" {
		return nil, backupErr("MissingParameterValueException", "RecoveryPointArn is required")
	}
	md := map[string]string{}
	if m, ok := r.in["Metadata"].(map[string]any); ok {
		for k, v := range m {
			sv, _ := v.(string)
			md[k] = sv
		}
	}
	tok := r.str("IdempotencyToken")
	if tok != "" {
		for _, j := range s.e.st.RestoreJobs {
			if j.IdempotencyToken == tok && j.Region == r.c.Region {
				if j.RecoveryPointArn != arn {
					return nil, backupErr("InvalidRequestException", "IdempotencyToken %q was used with a different recovery point", tok)
				}
				return map[string]any{"RestoreJobId": j.ID}, nil
			}
		}
	}
	rp := s.e.recoveryPoint(r.c.Region, arn)
	if rp == nil {
		return nil, notFound("Recovery point %s does not exist", arn)
	}
	if rt := r.str("ResourceType"); rt != "" && rt != rp.ResourceType {
		return nil, backupErr("InvalidParameterValueException", "ResourceType %s does not match the recovery point's %s", rt, rp.ResourceType)
	}
	if st := rp.status(r.c.Now); st != "COMPLETED" && st != "AVAILABLE" {
		return nil, backupErr("InvalidRequestException", "Recovery point %s is %s, not COMPLETED", arn, st)
	}
	j := &restoreJob{ID: s.e.newUUID(), Region: r.c.Region, RecoveryPointArn: arn, ResourceType: rp.ResourceType,
		Metadata: md, IdempotencyToken: tok, IamRole: role, Created: r.c.Now,
		CompleteAt: r.c.Now.Add(s.e.opts.RestoreDuration), SizeBytes: rp.SizeBytes}
	switch rp.ResourceType {
	case "S3":
		dest := md["DestinationBucketName"]
		if dest == "" {
			return nil, backupErr("InvalidParameterValueException", "Metadata DestinationBucketName is required to restore an S3 recovery point")
		}
		if _, exists := s.e.s3.bucketRegion(dest); exists {
			return nil, backupErr("InvalidParameterValueException",
				"Bucket %s already exists: the sandbox restores S3 recovery points into a new bucket", dest)
		}
		for _, o := range s.e.st.RestoreJobs {
			if !o.Done && o.ResourceType == "S3" && o.Metadata["DestinationBucketName"] == dest {
				return nil, backupErr("InvalidRequestException", "Restore job %s is already restoring into bucket %s", o.ID, dest)
			}
		}
		if v := md["RestoreTime"]; v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, backupErr("InvalidParameterValueException", "Metadata RestoreTime %q is not an RFC 3339 time", v)
			}
			if !rp.Continuous || t.Before(rp.Created) || t.After(r.c.Now) {
				return nil, backupErr("InvalidParameterValueException", "RestoreTime %s is outside the recovery point's restore window", v)
			}
		}
	case "EBS":
		if az := md["availabilityZone"]; az != "" && !strings.HasPrefix(az, r.c.Region) {
			return nil, backupErr("InvalidParameterValueException", "availabilityZone %s is not in %s", az, r.c.Region)
		}
	}
	s.e.st.RestoreJobs = append(s.e.st.RestoreJobs, j)
	return map[string]any{"RestoreJobId": j.ID}, nil
}

// materializeRestore creates what a finished restore job restores.
func (e *estate) materializeRestore(j *restoreJob) error {
	rp := e.recoveryPoint(j.Region, j.RecoveryPointArn)
	if rp == nil {
		return fmt.Errorf("recovery point %s no longer exists", j.RecoveryPointArn)
	}
	switch j.ResourceType {
	case "S3":
		dest := j.Metadata["DestinationBucketName"]
		capture := e.st.Captures[rp.ARN]
		if capture == nil {
			at := rp.Created
			if rp.Continuous {
				at = j.Created
				if v := j.Metadata["RestoreTime"]; v != "" {
					if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
						at = t
					}
				}
			}
			c, err := e.s3.captureBucket(rp.ResourceName, at)
			if err != nil {
				return fmt.Errorf("read bucket %s at %s: %w", rp.ResourceName, at.Format(time.RFC3339), err)
			}
			capture = c
		}
		if err := e.s3.restoreCapture(capture, dest, j.Region, j.CompleteAt); err != nil {
			return fmt.Errorf("restore into bucket %s: %w", dest, err)
		}
		j.CreatedResourceArn = "arn:aws:s3:::" + dest
	case "EBS":
		az := j.Metadata["availabilityZone"]
		if az == "" {
			az = j.Region + "a"
		}
		size := rp.VolumeSize
		if n, err := strconv.Atoi(j.Metadata["volumeSize"]); err == nil && n >= size {
			size = n
		}
		vt := j.Metadata["volumeType"]
		if vt == "" {
			vt = "gp3"
		}
		snapID := rp.ARN[strings.LastIndexByte(rp.ARN, '/')+1:]
		v := &volume{ID: e.newID("vol"), Region: j.Region, AZ: az, Size: size, SnapshotID: snapID, VolumeType: vt,
			Created: j.CompleteAt, Tags: []tag{{"aws:backup:source-resource", rp.ResourceArn}}}
		e.st.Volumes = append(e.st.Volumes, v)
		j.CreatedResourceArn = "arn:aws:ec2:" + j.Region + ":" + accountID + ":volume/" + v.ID
	case "EFS":
		if j.Metadata["newFileSystem"] == "false" {
			id := j.Metadata["file-system-id"]
			fs := e.fileSystem(j.Region, id)
			if fs == nil {
				return fmt.Errorf("file system %s does not exist", id)
			}
			j.CreatedResourceArn = fs.arn()
			return nil
		}
		pm := j.Metadata["PerformanceMode"]
		if pm == "" {
			pm = rp.PerformanceMode
		}
		fs := &fileSystem{ID: e.newID("fs"), Region: j.Region, Name: rp.ResourceName + "-restored",
			CreationToken: j.Metadata["CreationToken"], PerformanceMode: pm, Throughput: "bursting",
			Created: j.CompleteAt, SizeBytes: rp.SizeBytes, Encrypted: j.Metadata["Encrypted"] == "true",
			Tags: []tag{{"Name", rp.ResourceName + "-restored"}, {"aws:backup:source-resource", rp.ResourceArn}}}
		if fs.CreationToken == "" {
			fs.CreationToken = j.ID
		}
		e.st.FileSystems = append(e.st.FileSystems, fs)
		j.CreatedResourceArn = fs.arn()
	}
	return nil
}

func (s *backupService) restoreJobJSON(j *restoreJob, now time.Time) map[string]any {
	status, pct := "PENDING", 0.0
	dur := j.CompleteAt.Sub(j.Created)
	el := now.Sub(j.Created)
	switch {
	case j.Done && j.Failed != "":
		status, pct = "FAILED", 100
	case j.Done:
		status, pct = "COMPLETED", 100
	case el >= dur/10:
		status, pct = "RUNNING", 100*float64(el)/float64(dur)
	}
	rp := s.e.recoveryPoint(j.Region, j.RecoveryPointArn)
	m := map[string]any{"AccountId": accountID, "RestoreJobId": j.ID, "RecoveryPointArn": j.RecoveryPointArn,
		"ResourceType": j.ResourceType, "CreationDate": epochPtr(j.Created), "Status": status,
		"PercentDone": fmt.Sprintf("%.2f%%", pct), "BackupSizeInBytes": j.SizeBytes, "IamRoleArn": j.IamRole,
		"ExpectedCompletionTimeMinutes": int64((dur + time.Minute - 1) / time.Minute), "IsParent": false}
	if rp != nil {
		m["RecoveryPointCreationDate"] = epochPtr(rp.Created)
		m["SourceResourceArn"] = rp.ResourceArn
		m["BackupVaultArn"] = vaultArn(rp.Region, rp.Vault)
	}
	if j.Done {
		m["CompletionDate"] = epochPtr(j.CompleteAt)
		if j.Failed != "" {
			m["StatusMessage"] = j.Failed
		} else {
			m["CreatedResourceArn"] = j.CreatedResourceArn
		}
	}
	return m
}

func (s *backupService) describeRestoreJob(r *backupReq) (any, *apiError) {
	for _, j := range s.e.st.RestoreJobs {
		if j.ID == r.labels[0] && j.Region == r.c.Region {
			return s.restoreJobJSON(j, r.c.Now), nil
		}
	}
	return nil, notFound("Restore job %s does not exist", r.labels[0])
}

func (s *backupService) listRestoreJobs(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListRestoreJobs")
	if ae != nil {
		return nil, ae
	}
	var bounds [4]time.Time
	for i, k := range []string{"createdBefore", "createdAfter", "completeBefore", "completeAfter"} {
		t, ae := queryTime(r.q, k)
		if ae != nil {
			return nil, ae
		}
		bounds[i] = t
	}
	status, rtype := r.q.Get("status"), r.q.Get("resourceType")
	var sel []map[string]any
	for _, j := range s.e.st.RestoreJobs {
		if j.Region != r.c.Region || rtype != "" && j.ResourceType != rtype ||
			!bounds[0].IsZero() && !j.Created.Before(bounds[0]) || !bounds[1].IsZero() && !j.Created.After(bounds[1]) {
			continue
		}
		if !bounds[2].IsZero() && !(j.Done && j.CompleteAt.Before(bounds[2])) || !bounds[3].IsZero() && !(j.Done && j.CompleteAt.After(bounds[3])) {
			continue
		}
		m := s.restoreJobJSON(j, r.c.Now)
		if status != "" && m["Status"] != status {
			continue
		}
		sel = append(sel, m)
	}
	lo, hi, next := page("ListRestoreJobs", len(sel), off, max)
	list := []any{}
	for _, m := range sel[lo:hi] {
		list = append(list, m)
	}
	return withNext(map[string]any{"RestoreJobs": list}, next), nil
}
