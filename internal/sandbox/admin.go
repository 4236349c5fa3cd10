package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// TokenEnv is the environment variable that carries the admin token to
// processes other than the one serving the sandbox: `drconsole sandbox`
// prints it at start (and takes its token from it when set), and the
// commands that inject a drill's faults read it.
const TokenEnv = "DRCONSOLE_SANDBOX_TOKEN"

// IdentityHeader is set on every answer, so a client pointed at an
// endpoint can tell the sandbox from AWS by what it answers rather than
// by its URL; its value names the sandbox's pace ("pace=quick", PaceOf).
const IdentityHeader = "X-Drconsole-Sandbox"

// minAdminToken is the shortest admin token accepted: a token chosen by
// hand (TokenEnv) must still be too long to guess.
const minAdminToken = 16

// newAdminToken draws a token of 128 random bits.
func newAdminToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sandbox admin token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// CheckAdminToken says what is wrong with a chosen admin token: it must
// travel in an Authorization header as a bearer token (RFC 6750's
// b64token characters) and be long enough not to be guessed.
func CheckAdminToken(t string) error {
	if len(t) < minAdminToken || len(t) > 256 {
		return fmt.Errorf("the admin token must be %d to 256 characters long, not %d", minAdminToken, len(t))
	}
	for _, c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-._~+/=", c):
		default:
			return fmt.Errorf("the admin token may hold only letters, digits and -._~+/=, not %q", c)
		}
	}
	return nil
}

// AdminToken is the bearer token the admin endpoint requires.
func (s *Server) AdminToken() string { return s.opts.AdminToken }

// admitAdmin decides whether an admin request may be served: status is 0
// when it may, else the HTTP status to refuse it with and why. The admin
// endpoint moves the clock drills measure RTO and RPO on and injects
// faults, so no web page the operator has open may reach it, in this
// order:
//
//   - a request a browser sends on a page's behalf carries Origin, or
//     Sec-Fetch-Site other than "none" (an address typed by hand): 403.
//     Pages served from the sandbox's own buckets count too, so
//     same-origin is refused as well;
//   - a Host other than the address the sandbox listens on is a DNS
//     rebinding attempt (a page's own name resolving to loopback): 403;
//   - no token, or the wrong one: 401. This holds with or without
//     StrictAuth, whose SigV4 credentials do not open the admin endpoint;
//   - a PUT or POST, or any request with a body, that is not
//     application/json: 415, since text/plain and form bodies are what a
//     page can send without a CORS preflight.
func (s *Server) admitAdmin(r *http.Request) (status int, why string) {
	if o := r.Header.Values("Origin"); len(o) > 0 {
		return http.StatusForbidden, fmt.Sprintf("the admin endpoint does not answer web pages (Origin %q)", o[0])
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "none" {
		return http.StatusForbidden, fmt.Sprintf("the admin endpoint does not answer web pages (Sec-Fetch-Site %q)", site)
	}
	if !s.ownHost(r.Host) {
		return http.StatusForbidden, fmt.Sprintf("Host %q is not the address the sandbox listens on (%s)", r.Host, strings.TrimPrefix(s.URL(), "http://"))
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(bearer)), []byte(s.opts.AdminToken)) != 1 {
		return http.StatusUnauthorized, "the admin endpoint wants the sandbox's token, printed at start: Authorization: Bearer $" + TokenEnv
	}
	if r.Method == http.MethodPut || r.Method == http.MethodPost || r.ContentLength != 0 {
		ct := r.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, fmt.Sprintf("admin requests with a body, and every PUT and POST, must be Content-Type: application/json, not %q", ct)
		}
	}
	return 0, ""
}

// ownHost reports whether host (a request's Host) names the address the
// sandbox listens on: its IP, or localhost, which browsers never resolve
// through DNS, with its port. Any other name may be a rebinding attack.
func (s *Server) ownHost(host string) bool {
	s.srvMu.Lock()
	addr := s.addr
	s.srvMu.Unlock()
	if addr == nil {
		return false
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil || port != fmt.Sprint(addr.Port) {
		return false
	}
	if strings.EqualFold(h, "localhost") {
		return addr.IP.IsLoopback() || addr.IP.IsUnspecified()
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.Equal(addr.IP) || addr.IP.IsUnspecified())
}

// serveAdmin answers the admin endpoint, once admitAdmin admits the
// request (every answer is JSON):
//
//	GET  /_sandbox/requests           request log (?service=&operation=&mutating=true|false&since=RFC3339)
//	GET  /_sandbox/faults             injected faults
//	PUT  /_sandbox/faults             replace them: a JSON array of faults, or of --fault
//	                                  strings (["outage:us-east-1"]); [] clears
//	GET  /_sandbox/clock              {"now": ..., "offset": "1m30s"}
//	POST /_sandbox/clock/advance      move the clock forward (?by=90s or {"by":"90s"})
//	GET  /_sandbox/estate             what the estate holds
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if status, why := s.admitAdmin(r); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drconsole sandbox"`)
		}
		adminError(w, status, "%s", why)
		return
	}
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
