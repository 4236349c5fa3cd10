package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// backupRetention is the lifecycle of sandbox recovery points.
const backupRetention = 35 * 24 * time.Hour

// backupService speaks the AWS Backup REST-JSON protocol.
type backupService struct{ e *estate }

// backupRoute is a matched REST path: the operation and its path labels.
type backupRoute struct {
	op     string
	labels []string
}

func pathSegments(r *http.Request) []string {
	raw := strings.Trim(r.URL.EscapedPath(), "/")
	if raw == "" {
		return nil
	}
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

func routeBackup(r *http.Request) (backupRoute, bool) {
	seg := pathSegments(r)
	m := r.Method
	n := len(seg)
	switch {
	case n == 1 && seg[0] == "backup-vaults" && m == http.MethodGet:
		return backupRoute{"ListBackupVaults", nil}, true
	case n == 2 && seg[0] == "backup-vaults" && m == http.MethodPut:
		return backupRoute{"CreateBackupVault", seg[1:]}, true
	case n == 2 && seg[0] == "backup-vaults" && m == http.MethodGet:
		return backupRoute{"DescribeBackupVault", seg[1:]}, true
	case n == 3 && seg[0] == "backup-vaults" && seg[2] == "recovery-points" && m == http.MethodGet:
		return backupRoute{"ListRecoveryPointsByBackupVault", seg[1:2]}, true
	case n == 4 && seg[0] == "backup-vaults" && seg[2] == "recovery-points" && m == http.MethodGet:
		return backupRoute{"DescribeRecoveryPoint", []string{seg[1], seg[3]}}, true
	case n == 5 && seg[0] == "backup-vaults" && seg[2] == "recovery-points" && seg[4] == "restore-metadata" && m == http.MethodGet:
		return backupRoute{"GetRecoveryPointRestoreMetadata", []string{seg[1], seg[3]}}, true
	case n == 3 && seg[0] == "resources" && seg[2] == "recovery-points" && m == http.MethodGet:
		return backupRoute{"ListRecoveryPointsByResource", seg[1:2]}, true
	case n == 2 && seg[0] == "backup" && seg[1] == "plans" && m == http.MethodPut:
		return backupRoute{"CreateBackupPlan", nil}, true
	case n == 2 && seg[0] == "backup" && seg[1] == "plans" && m == http.MethodGet:
		return backupRoute{"ListBackupPlans", nil}, true
	case n == 3 && seg[0] == "backup" && seg[1] == "plans" && m == http.MethodGet:
		return backupRoute{"GetBackupPlan", seg[2:]}, true
	case n == 1 && seg[0] == "backup-jobs" && m == http.MethodPut:
		return backupRoute{"StartBackupJob", nil}, true
	case n == 1 && seg[0] == "backup-jobs" && m == http.MethodGet:
		return backupRoute{"ListBackupJobs", nil}, true
	case n == 2 && seg[0] == "backup-jobs" && m == http.MethodGet:
		return backupRoute{"DescribeBackupJob", seg[1:]}, true
	case n == 1 && seg[0] == "restore-jobs" && m == http.MethodPut:
		return backupRoute{"StartRestoreJob", nil}, true
	case n == 1 && seg[0] == "restore-jobs" && m == http.MethodGet:
		return backupRoute{"ListRestoreJobs", nil}, true
	case n == 2 && seg[0] == "restore-jobs" && m == http.MethodGet:
		return backupRoute{"DescribeRestoreJob", seg[1:]}, true
	}
	return backupRoute{}, false
}

func (s *backupService) identify(r *http.Request) (string, bool, error) {
	rt, ok := routeBackup(r)
	if !ok {
		return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("no AWS Backup operation for %s %s", r.Method, r.URL.Path)}
	}
	return rt.op, r.Method != http.MethodGet, nil
}

// writeJSONError writes the REST-JSON error shape.
func writeJSONError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	sendJSON(w, e.Status, map[string]string{"__type": e.Code, "Code": e.Code, "Message": e.Message})
}

func (s *backupService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	writeJSONError(w, e)
}

// faultErrors are AWS Backup's: it models its server errors as
// ServiceUnavailableException (500, and 503 while impaired) and throttles
// with the common ThrottlingException.
func (s *backupService) faultErrors() faultErrors {
	return faultErrors{
		Throttle: apiError{http.StatusBadRequest, "ThrottlingException", msgRateExceeded},
		Internal: apiError{http.StatusInternalServerError, "ServiceUnavailableException", msgInternal},
		Outage:   apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", msgUnavailable},
	}
}

func backupErr(code, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return backupErr("ResourceNotFoundException", format, args...)
}

func (s *backupService) serve(w http.ResponseWriter, r *http.Request, c *call) {
	rt, _ := routeBackup(r)
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, c, backupErr("InvalidRequestException", "read request body: %v", err))
		return
	}
	var in map[string]any
	if len(body) > 0 && r.Method != http.MethodGet {
		if err := json.Unmarshal(body, &in); err != nil {
			s.writeError(w, r, c, backupErr("SerializationException", "request body is not JSON: %v", err))
			return
		}
	}
	req := &backupReq{c: c, labels: rt.labels, q: r.URL.Query(), in: in, raw: body}
	s.e.mu.Lock()
	out, ae := s.dispatch(rt.op, req)
	s.e.mu.Unlock()
	if ae != nil {
		s.writeError(w, r, c, ae)
		return
	}
	sendJSON(w, http.StatusOK, out)
}

type backupReq struct {
	c      *call
	labels []string
	q      url.Values
	in     map[string]any
	raw    []byte
}

func (r *backupReq) str(k string) string {
	v, _ := r.in[k].(string)
	return v
}

func (s *backupService) dispatch(op string, r *backupReq) (any, *apiError) {
	switch op {
	case "CreateBackupVault":
		return s.createVault(r)
	case "ListBackupVaults":
		return s.listVaults(r)
	case "DescribeBackupVault":
		return s.describeVault(r)
	case "CreateBackupPlan":
		return s.createPlan(r)
	case "ListBackupPlans":
		return s.listPlans(r)
	case "GetBackupPlan":
		return s.getPlan(r)
	case "StartBackupJob":
		return s.startBackupJob(r)
	case "DescribeBackupJob":
		return s.describeBackupJob(r)
	case "ListBackupJobs":
		return s.listBackupJobs(r)
	case "ListRecoveryPointsByBackupVault":
		return s.listByVault(r)
	case "ListRecoveryPointsByResource":
		return s.listByResource(r)
	case "DescribeRecoveryPoint":
		return s.describeRecoveryPoint(r)
	case "GetRecoveryPointRestoreMetadata":
		return s.restoreMetadata(r)
	case "StartRestoreJob":
		return s.startRestoreJob(r)
	case "DescribeRestoreJob":
		return s.describeRestoreJob(r)
	case "ListRestoreJobs":
		return s.listRestoreJobs(r)
	}
	return nil, backupErr("UnknownOperationException", "unknown operation %s", op)
}

// backupPage reads maxResults/nextToken.
func backupPage(r *backupReq, op string) (max, off int, ae *apiError) {
	max = 1000
	if v := r.q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, backupErr("InvalidParameterValueException", "maxResults must be between 1 and 1000, got %q", v)
		}
		max = n
	}
	off, ok := parsePageToken(op, r.q.Get("nextToken"))
	if !ok {
		return 0, 0, backupErr("InvalidParameterValueException", "The next token is not valid")
	}
	return max, off, nil
}

func queryTime(q url.Values, k string) (time.Time, *apiError) {
	v := q.Get(k)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, backupErr("InvalidParameterValueException", "%s: %q is not a timestamp", k, v)
	}
	return t, nil
}

func vaultArn(region, name string) string {
	return "arn:aws:backup:" + region + ":" + accountID + ":backup-vault:" + name
}

func (e *estate) vault(region, name string) *vault {
	for _, v := range e.st.Vaults {
		if v.Region == region && v.Name == name {
			return v
		}
	}
	return nil
}

func (s *backupService) vaultJSON(v *vault) map[string]any {
	n := 0
	for _, rp := range s.e.st.RecoveryPoints {
		if rp.Vault == v.Name && rp.Region == v.Region {
			n++
		}
	}
	return map[string]any{"BackupVaultName": v.Name, "BackupVaultArn": vaultArn(v.Region, v.Name),
		"CreationDate": epochPtr(v.Created), "CreatorRequestId": v.CreatorRequestID,
		"EncryptionKeyArn":  "arn:aws:kms:" + v.Region + ":" + accountID + ":key/" + uuidFrom("kms/"+v.Name),
		"EncryptionKeyType": "AWS_OWNED_KMS_KEY", "NumberOfRecoveryPoints": n, "Locked": false,
		"VaultState": "AVAILABLE", "VaultType": "BACKUP_VAULT"}
}

func validVaultName(n string) bool {
	if len(n) < 2 || len(n) > 50 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *backupService) createVault(r *backupReq) (any, *apiError) {
	name := r.labels[0]
	if !validVaultName(name) {
		return nil, backupErr("InvalidParameterValueException", "Backup vault name %q is invalid: 2-50 letters, digits, hyphens and underscores", name)
	}
	if s.e.vault(r.c.Region, name) != nil {
		return nil, backupErr("AlreadyExistsException", "Backup vault with the same name already exists")
	}
	v := &vault{Name: name, Region: r.c.Region, CreatorRequestID: r.str("CreatorRequestId"), Created: r.c.Now}
	s.e.st.Vaults = append(s.e.st.Vaults, v)
	return map[string]any{"BackupVaultName": name, "BackupVaultArn": vaultArn(v.Region, name), "CreationDate": epochPtr(v.Created)}, nil
}

func (s *backupService) listVaults(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListBackupVaults")
	if ae != nil {
		return nil, ae
	}
	var sel []*vault
	for _, v := range s.e.st.Vaults {
		if v.Region == r.c.Region {
			sel = append(sel, v)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	lo, hi, next := page("ListBackupVaults", len(sel), off, max)
	list := []any{}
	for _, v := range sel[lo:hi] {
		list = append(list, s.vaultJSON(v))
	}
	return withNext(map[string]any{"BackupVaultList": list}, next), nil
}

func withNext(m map[string]any, next string) map[string]any {
	if next != "" {
		m["NextToken"] = next
	}
	return m
}

func (s *backupService) describeVault(r *backupReq) (any, *apiError) {
	v := s.e.vault(r.c.Region, r.labels[0])
	if v == nil {
		return nil, notFound("Backup vault %s does not exist", r.labels[0])
	}
	return s.vaultJSON(v), nil
}

func (e *estate) plan(region, id string) *backupPlan {
	for _, p := range e.st.Plans {
		if p.Region == region && p.ID == id {
			return p
		}
	}
	return nil
}

func planArn(region, id string) string {
	return "arn:aws:backup:" + region + ":" + accountID + ":backup-plan:" + id
}

func (s *backupService) createPlan(r *backupReq) (any, *apiError) {
	plan, ok := r.in["BackupPlan"].(map[string]any)
	if !ok {
		return nil, backupErr("MissingParameterValueException", "BackupPlan is required")
	}
	name, _ := plan["BackupPlanName"].(string)
	if name == "" {
		return nil, backupErr("MissingParameterValueException", "BackupPlanName is required")
	}
	rules, _ := plan["Rules"].([]any)
	if len(rules) == 0 {
		return nil, backupErr("MissingParameterValueException", "a backup plan needs at least one rule")
	}
	for _, p := range s.e.st.Plans {
		if p.Region == r.c.Region && p.Name == name {
			if creq := r.str("CreatorRequestId"); creq != "" && creq == p.CreatorRequestID {
				return s.planCreated(p), nil
			}
			return nil, backupErr("AlreadyExistsException", "Backup plan with the same name already exists")
		}
	}
	for _, ru := range rules {
		rm, _ := ru.(map[string]any)
		if rm == nil {
			return nil, backupErr("InvalidParameterValueException", "a rule is not an object")
		}
		target, _ := rm["TargetBackupVaultName"].(string)
		if s.e.vault(r.c.Region, target) == nil {
			return nil, backupErr("InvalidParameterValueException", "Backup vault %q does not exist", target)
		}
		rn, _ := rm["RuleName"].(string)
		rm["RuleId"] = uuidFrom(r.c.Region + "/" + name + "/" + rn)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		return nil, backupErr("InvalidParameterValueException", "backup plan: %v", err)
	}
	p := &backupPlan{ID: s.e.newUUID(), Name: name, Region: r.c.Region, VersionID: s.e.newUUID(),
		CreatorRequestID: r.str("CreatorRequestId"), Created: r.c.Now, Plan: b}
	s.e.st.Plans = append(s.e.st.Plans, p)
	return s.planCreated(p), nil
}

func (s *backupService) planCreated(p *backupPlan) map[string]any {
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
		"CreationDate": epochPtr(p.Created), "VersionId": p.VersionID}
}

func (s *backupService) listPlans(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListBackupPlans")
	if ae != nil {
		return nil, ae
	}
	var sel []*backupPlan
	for _, p := range s.e.st.Plans {
		if p.Region == r.c.Region {
			sel = append(sel, p)
		}
	}
	lo, hi, next := page("ListBackupPlans", len(sel), off, max)
	list := []any{}
	for _, p := range sel[lo:hi] {
		list = append(list, map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
			"BackupPlanName": p.Name, "CreationDate": epochPtr(p.Created), "VersionId": p.VersionID,
			"CreatorRequestId": p.CreatorRequestID})
	}
	return withNext(map[string]any{"BackupPlansList": list}, next), nil
}

func (s *backupService) getPlan(r *backupReq) (any, *apiError) {
	p := s.e.plan(r.c.Region, r.labels[0])
	if p == nil {
		return nil, notFound("Backup plan %s does not exist", r.labels[0])
	}
	return map[string]any{"BackupPlan": json.RawMessage(p.Plan), "BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
		"VersionId": p.VersionID, "CreationDate": epochPtr(p.Created), "CreatorRequestId": p.CreatorRequestID}, nil
}

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
