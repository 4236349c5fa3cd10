package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// backupRoute is a matched REST path: the operation and its path labels.
type backupRoute struct {
	op     string
	labels []string
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

// writeJSONError writes the REST-JSON error shape.
func writeJSONError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	sendJSON(w, e.Status, map[string]string{"__type": e.Code, "Code": e.Code, "Message": e.Message})
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

func withNext(m map[string]any, next string) map[string]any {
	if next != "" {
		m["NextToken"] = next
	}
	return m
}
