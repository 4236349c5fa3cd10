package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
)

// efsService answers the REST-JSON DescribeFileSystems of Amazon EFS.
type efsService struct{ e *estate }

func (fs *fileSystem) arn() string {
	return "arn:aws:elasticfilesystem:" + fs.Region + ":" + accountID + ":file-system/" + fs.ID
}

func (e *estate) fileSystem(region, id string) *fileSystem {
	for _, fs := range e.st.FileSystems {
		if fs.Region == region && (fs.ID == id || fs.arn() == id) {
			return fs
		}
	}
	return nil
}

func (s *efsService) identify(r *http.Request) (string, bool, error) {
	seg := pathSegments(r)
	if r.Method == http.MethodGet && len(seg) == 2 && seg[0] == "2015-02-01" && seg[1] == "file-systems" {
		return "DescribeFileSystems", false, nil
	}
	return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperationException",
		fmt.Sprintf("no EFS operation for %s %s", r.Method, r.URL.Path)}
}

func (s *efsService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	sendJSON(w, e.Status, map[string]string{"ErrorCode": e.Code, "Message": e.Message})
}

// faultErrors are EFS's: DescribeFileSystems models its server error as
// InternalServerError.
func (s *efsService) faultErrors() faultErrors {
	return faultErrors{
		Throttle: apiError{http.StatusBadRequest, "ThrottlingException", msgRateExceeded},
		Internal: apiError{http.StatusInternalServerError, "InternalServerError", msgInternal},
		Outage:   apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", msgUnavailable},
	}
}

func (s *efsService) serve(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	max := 100
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, c, &apiError{http.StatusBadRequest, "BadRequest", "MaxItems must be a positive integer"})
			return
		}
		max = n
	}
	off, ok := parsePageToken("DescribeFileSystems", q.Get("Marker"))
	if !ok {
		s.writeError(w, r, c, &apiError{http.StatusBadRequest, "BadRequest", "Invalid Marker"})
		return
	}
	id, token := q.Get("FileSystemId"), q.Get("CreationToken")
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	var sel []*fileSystem
	for _, fs := range s.e.st.FileSystems {
		if fs.Region != c.Region || id != "" && fs.ID != id && fs.arn() != id || token != "" && fs.CreationToken != token {
			continue
		}
		sel = append(sel, fs)
	}
	if id != "" && len(sel) == 0 {
		s.writeError(w, r, c, &apiError{http.StatusNotFound, "FileSystemNotFound", fmt.Sprintf("File system '%s' does not exist.", id)})
		return
	}
	lo, hi, next := page("DescribeFileSystems", len(sel), off, max)
	list := []any{}
	for _, fs := range sel[lo:hi] {
		tags := []map[string]string{}
		for _, t := range fs.Tags {
			tags = append(tags, map[string]string{"Key": t.Key, "Value": t.Value})
		}
		list = append(list, map[string]any{"OwnerId": accountID, "CreationToken": fs.CreationToken,
			"FileSystemId": fs.ID, "FileSystemArn": fs.arn(), "CreationTime": epochPtr(fs.Created),
			"LifeCycleState": "available", "Name": fs.Name, "NumberOfMountTargets": 2,
			"SizeInBytes":     map[string]any{"Value": fs.SizeBytes, "ValueInStandard": fs.SizeBytes, "ValueInIA": 0, "Timestamp": epochPtr(c.Now)},
			"PerformanceMode": fs.PerformanceMode, "Encrypted": fs.Encrypted, "ThroughputMode": fs.Throughput, "Tags": tags,
			"FileSystemProtection": map[string]any{"ReplicationOverwriteProtection": "ENABLED"}})
	}
	out := map[string]any{"FileSystems": list}
	if m := q.Get("Marker"); m != "" {
		out["Marker"] = m
	}
	if next != "" {
		out["NextMarker"] = next
	}
	sendJSON(w, http.StatusOK, out)
}
