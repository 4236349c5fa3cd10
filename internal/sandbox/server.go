package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// adminPrefix is the reserved path of the admin endpoint. S3 bucket names
// cannot contain underscores, so it never collides with a path-style bucket.
const adminPrefix = "/_sandbox/"

// Server is a running sandbox estate.
type Server struct {
	opts Options
	// identity is IdentityHeader's value, worked out once: every answer
	// carries it.
	identity string

	mu     sync.Mutex // guards offset, faults, hits, limits, rng, nextID
	offset time.Duration
	faults []Fault
	// hits counts the requests each fault has matched, for Fault.Every.
	hits   []int
	limits map[rateKey]*tokenBucket // rate-limited faults' allowances, reset with the faults
	rng    *rand.Rand
	nextID uint64

	log *requestLog

	services map[string]service
	s3       *s3Service
	estate   *estate

	store *store // nil without DataDir

	srvMu    sync.Mutex
	done     chan struct{} // closed by Close
	listener net.Listener
	addr     *net.TCPAddr // where the listener is bound, for the admin endpoint's Host check
	http     *http.Server
	url      string
	closed   bool
}

// New builds the estate (seeded unless o.Empty, or loaded from o.DataDir).
// Call Start to serve it.
func New(o Options) (*Server, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.AdminToken == "" {
		t, err := newAdminToken()
		if err != nil {
			return nil, err
		}
		o.AdminToken = t
	}
	s := &Server{
		opts:     o,
		identity: o.identity(),
		faults:   append([]Fault(nil), o.Faults...),
		hits:     make([]int, len(o.Faults)),
		rng:      rand.New(rand.NewSource(o.Seed)),
		log:      newRequestLog(100_000),
		done:     make(chan struct{}),
	}
	s.s3 = newS3Service(&s.opts)
	s.estate = newEstate(&s.opts, s.s3)
	// Every service the sandbox serves, by SigV4 signing name: the server
	// routes, injects faults and persists by this table alone.
	s.services = map[string]service{
		"s3":                s.s3,
		"ec2":               &ec2Service{e: s.estate},
		"autoscaling":       &autoscalingService{e: s.estate},
		"monitoring":        &cloudwatchService{e: s.estate},
		"backup":            &backupService{e: s.estate},
		"sts":               &stsService{opts: &s.opts},
		"elasticfilesystem": &efsService{e: s.estate},
	}
	now := s.Now()
	loaded := false
	if o.DataDir != "" {
		st, err := openStore(o.DataDir, s.persistentParts())
		if err != nil {
			return nil, err
		}
		s.store = st
		if loaded, err = st.load(); err != nil {
			return nil, err
		}
	}
	if !loaded && !o.Empty {
		if err := seedEstate(s.s3, s.estate, &s.opts, now); err != nil {
			return nil, fmt.Errorf("seed sandbox estate: %w", err)
		}
		if s.store != nil {
			s.store.markDirty()
		}
	}
	return s, nil
}

// persistentParts names what a data directory keeps: the estate the
// services share, the clock offset, and each service with state of its own,
// under its signing name.
func (s *Server) persistentParts() map[string]persistent {
	parts := map[string]persistent{"estate": s.estate, "clock": (*serverClock)(s)}
	for name, svc := range s.services {
		if p, ok := svc.(persistent); ok {
			parts[name] = p
		}
	}
	return parts
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background until Close or until ctx ends.
func (s *Server) Start(ctx context.Context, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox listen on %s: %w", addr, err)
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.listener != nil {
		ln.Close()
		return errors.New("sandbox: already started")
	}
	s.listener = ln
	s.addr, _ = ln.Addr().(*net.TCPAddr)
	s.url = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go s.http.Serve(ln) //nolint:errcheck // Serve always returns ErrServerClosed after Close.
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return nil
}

// URL is the endpoint, e.g. http://127.0.0.1:41234 (empty before Start).
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops serving and saves the estate when a data directory is set.
func (s *Server) Close() error {
	s.srvMu.Lock()
	if s.closed {
		s.srvMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	h := s.http
	s.srvMu.Unlock()
	if h != nil {
		// Shutdown waits for connections that were opened but never used
		// (StateNew) for up to five seconds; in-flight sandbox requests are
		// short, so give them a moment and then close the rest.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			h.Close()
		}
	}
	if s.store != nil {
		return s.store.close()
	}
	return nil
}

// Now is the server clock: Options.Clock plus any advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	off := s.offset
	s.mu.Unlock()
	return s.opts.Clock().Add(off).UTC()
}

// AdvanceClock moves the server clock forward by d, so lag, warm-up,
// snapshots and restore jobs progress without waiting.
func (s *Server) AdvanceClock(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("advance clock by %v: the clock only moves forward", d)
	}
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
	if s.store != nil {
		s.store.markDirty()
	}
	return s.Now(), nil
}

// serverClock persists the clock offset, so a drill that fast-forwarded
// keeps its time across restarts.
type serverClock Server

func (c *serverClock) saveState(w io.Writer) error {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return json.NewEncoder(w).Encode(map[string]string{"offset": off.String()})
}

func (c *serverClock) loadState(r io.Reader) error {
	var st struct{ Offset string }
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("decode clock: %w", err)
	}
	d, err := time.ParseDuration(st.Offset)
	if err != nil {
		return fmt.Errorf("decode clock offset %q: %w", st.Offset, err)
	}
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
	return nil
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(fs []Fault) {
	s.mu.Lock()
	s.faults = append([]Fault(nil), fs...)
	s.limits = nil
	s.hits = make([]int, len(fs))
	s.mu.Unlock()
}

// Faults returns the injected faults.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault(nil), s.faults...)
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []RequestRecord { return s.log.all() }

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

func (s *Server) newRequestID() string {
	s.mu.Lock()
	s.nextID++
	n := s.nextID
	s.mu.Unlock()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(s.opts.Seed), n>>48&0xffff, n>>36&0xfff, n>>24&0xfff, n&0xffffffffffff)
}

// pickFault rolls the seeded RNG for each matching fault in order (counts,
// for Every; spends the partition's allowance, for a rate limit): latency
// faults add up, the first failing fault that fires wins.
func (s *Server) pickFault(c *call, partition func() string) (latency time.Duration, fail *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := s.faults[i]
		if !f.matches(c.Service, c.Operation, c.Region, c.Now) || f.Writes && !c.Mutating {
			continue
		}
		if f.Every > 0 {
			s.hits[i]++
			if s.hits[i]%f.Every != 0 {
				continue
			}
		} else if f.PerSecond > 0 {
			if s.limits == nil {
				s.limits = map[rateKey]*tokenBucket{}
			}
			k := rateKey{i, partition()}
			b := s.limits[k]
			if b == nil {
				b = &tokenBucket{}
				s.limits[k] = b
			}
			if b.take(time.Now(), f.PerSecond) {
				continue
			}
		} else if f.Rate > 0 && f.Rate < 1 && s.rng.Float64() >= f.Rate {
			continue
		}
		if f.Kind == FaultLatency {
			latency += f.Latency
			continue
		}
		if fail == nil {
			fail = &f
		}
	}
	return latency, fail
}

// ServeHTTP routes a request to the admin endpoint or to a service.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(IdentityHeader, s.identity)
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	start := time.Now()
	scope, _ := parseScope(r)
	if scope.Service == "" {
		// Unsigned requests (browsers, curl, anonymous S3 clients) go to S3
		// in the primary region.
		scope.Service, scope.Region = "s3", s.opts.PrimaryRegion
	}
	c := &call{Service: scope.Service, Region: scope.Region, RequestID: s.newRequestID(), Now: s.Now()}
	sw := &statusWriter{ResponseWriter: w}
	var dropped net.Conn
	defer func() {
		s.log.add(RequestRecord{Time: c.Now, Service: c.Service, Region: c.Region, Operation: c.Operation,
			Mutating: c.Mutating, Status: sw.status, RequestID: c.RequestID, Latency: time.Since(start)})
		// A dropped connection closes only once the request is logged, so
		// a client that sees the failure also sees the record.
		if dropped != nil {
			dropped.Close()
		}
	}()
	sw.Header().Set("x-amz-request-id", c.RequestID)
	sw.Header().Set("x-amzn-RequestId", c.RequestID)
	svc, ok := s.services[c.Service]
	if !ok {
		c.Operation = "Unknown"
		writeUnknownService(sw, c)
		return
	}
	op, mutating, err := svc.identify(r)
	c.Operation, c.Mutating = op, mutating
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Status: http.StatusBadRequest, Code: "InvalidAction", Message: err.Error()}
		}
		svc.writeError(sw, r, c, ae)
		return
	}
	if s.opts.StrictAuth {
		if ae := s.verify(r, scope); ae != nil {
			svc.writeError(sw, r, c, ae)
			return
		}
	}
	latency, fail := s.pickFault(c, func() string { return partitionOf(svc, r, c) })
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if fail != nil && fail.Kind != FaultDrop {
		svc.writeError(sw, r, c, svc.faultErrors().of(fail.Kind))
		return
	}
	// Time-driven state (finished restore jobs, replication) catches up
	// with the clock before any service looks at it.
	if s.estate.advance(c.Now) && s.store != nil {
		s.store.markDirty()
	}
	if fail != nil { // drop
		dropped = s.serveDropped(sw, r, svc, c)
		return
	}
	svc.serve(sw, r, c)
	if c.Mutating && s.store != nil && sw.status < 300 {
		s.store.markDirty()
	}
}

// serveDropped applies the operation, then cuts the connection in the
// middle of the response headers, as a network failure would: the client
// cannot tell whether the change was made, and the SDK sees a broken
// connection, which its retryer retries.
func (s *Server) serveDropped(sw *statusWriter, r *http.Request, svc service, c *call) net.Conn {
	rec := httptest.NewRecorder()
	svc.serve(rec, r, c)
	if c.Mutating && s.store != nil {
		s.store.markDirty()
	}
	hj, ok := sw.ResponseWriter.(http.Hijacker)
	if !ok {
		sw.WriteHeader(http.StatusBadGateway)
		return nil
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil
	}
	sw.status = 0
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	rec.Header().Write(&head) //nolint:errcheck // a bytes.Buffer does not fail.
	b := head.Bytes()
	buf.Write(b[:len(b)*2/3])
	buf.Flush()
	return conn
}

func writeUnknownService(w http.ResponseWriter, c *call) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<ErrorResponse><Error><Type>Sender</Type><Code>UnknownService</Code><Message>the sandbox does not serve %s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlEscape(c.Service), c.RequestID)
}

// statusWriter records the status a service answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush, hijack).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// RequestRecord is one served request.
type RequestRecord struct {
	Time      time.Time     `json:"time"`
	Service   string        `json:"service"`
	Region    string        `json:"region"`
	Operation string        `json:"operation"`
	Mutating  bool          `json:"mutating"`
	Status    int           `json:"status"` // 0: the connection was dropped
	RequestID string        `json:"requestId"`
	Latency   time.Duration `json:"latencyNs"`
}

// requestLog is a bounded ring of the most recent requests.
type requestLog struct {
	mu   sync.Mutex
	buf  []RequestRecord
	next int // oldest record once buf is full
}

func newRequestLog(n int) *requestLog { return &requestLog{buf: make([]RequestRecord, 0, n)} }

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) < cap(l.buf) {
		l.buf = append(l.buf, r)
		return
	}
	l.buf[l.next] = r
	l.next = (l.next + 1) % len(l.buf)
}

func (l *requestLog) all() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RequestRecord, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

// readBody reads and replaces r.Body so it can be read again.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}
