package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// backupRetention is the lifecycle of sandbox recovery points.
const backupRetention = 35 * 24 * time.Hour

// backupService speaks the AWS Backup REST-JSON protocol.
type backupService struct{ e *estate }

func (s *backupService) identify(r *http.Request) (string, bool, error) {
	rt, ok := routeBackup(r)
	if !ok {
		return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("no AWS Backup operation for %s %s", r.Method, r.URL.Path)}
	}
	return rt.op, r.Method != http.MethodGet, nil
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
