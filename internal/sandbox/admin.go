package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// serveAdmin answers the admin endpoint:
//
//	GET  /_sandbox/requests           request log (?service=&operation=&mutating=true|false&since=RFC3339)
//	GET  /_sandbox/faults             injected faults
//	PUT  /_sandbox/faults             replace them: a JSON array of faults, or of --fault
//	                                  strings (["outage:us-east-1"]); [] clears
//	GET  /_sandbox/clock              {"now": ..., "offset": "1m30s"}
//	POST /_sandbox/clock/advance      move the clock forward (?by=90s or {"by":"90s"})
//	GET  /_sandbox/estate             what the estate holds
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	switch {
	case path == "requests" && r.Method == http.MethodGet:
		s.adminRequests(w, r)
	case path == "faults" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Faults())
	case path == "faults" && r.Method == http.MethodPut:
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			adminError(w, http.StatusBadRequest, "read faults: %v", err)
			return
		}
		fs, err := parseAdminFaults(b)
		if err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
		for i, f := range fs {
			if err := f.validate(); err != nil {
				adminError(w, http.StatusBadRequest, "fault %d: %v", i+1, err)
				return
			}
		}
		s.SetFaults(fs)
		adminJSON(w, http.StatusOK, s.Faults())
	case path == "clock" && r.Method == http.MethodGet:
		s.mu.Lock()
		off := s.offset
		s.mu.Unlock()
		adminJSON(w, http.StatusOK, map[string]string{"now": s.Now().Format(time.RFC3339Nano), "offset": off.String()})
	case path == "clock/advance" && r.Method == http.MethodPost:
		by := r.URL.Query().Get("by")
		if by == "" {
			var body struct{ By string }
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil && err != io.EOF {
				adminError(w, http.StatusBadRequest, "clock advance body: %v", err)
				return
			}
			by = body.By
		}
		d, err := time.ParseDuration(by)
		if err != nil {
			adminError(w, http.StatusBadRequest, "clock advance needs a duration such as ?by=90s: %v", err)
			return
		}
		now, err := s.AdvanceClock(d)
		if err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
		adminJSON(w, http.StatusOK, map[string]string{"now": now.Format(time.RFC3339Nano)})
	case path == "estate" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Estate())
	default:
		adminError(w, http.StatusNotFound, "no admin endpoint %s %s", r.Method, r.URL.Path)
	}
}

// parseAdminFaults reads a JSON array of Fault objects or of strings in the
// --fault syntax.
func parseAdminFaults(b []byte) ([]Fault, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("faults must be a JSON array: %w", err)
	}
	fs := make([]Fault, 0, len(raw))
	for i, r := range raw {
		var f Fault
		var spec string
		if json.Unmarshal(r, &spec) == nil {
			p, err := ParseFault(spec)
			if err != nil {
				return nil, fmt.Errorf("fault %d: %w", i+1, err)
			}
			f = p
		} else if err := json.Unmarshal(r, &f); err != nil {
			return nil, fmt.Errorf("fault %d: %w", i+1, err)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Estate summarises what the sandbox holds now.
func (s *Server) Estate() EstateSummary {
	now := s.Now()
	s.estate.advance(now)
	return s.estate.summary(now)
}

func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			adminError(w, http.StatusBadRequest, "since: %v", err)
			return
		}
		since = t
	}
	out := []RequestRecord{}
	for _, rec := range s.Requests() {
		if v := q.Get("service"); v != "" && rec.Service != v {
			continue
		}
		if v := q.Get("operation"); v != "" && rec.Operation != v {
			continue
		}
		if v := q.Get("mutating"); v != "" && fmt.Sprint(rec.Mutating) != v {
			continue
		}
		if rec.Time.Before(since) {
			continue
		}
		out = append(out, rec)
	}
	adminJSON(w, http.StatusOK, out)
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away.
}

func adminError(w http.ResponseWriter, status int, format string, args ...any) {
	adminJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}
