package sandbox

import (
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// replicationConfig is a bucket's replication configuration as the client
// sent it (re-sent on Get), with each rule's destination resolved.
type replicationConfig struct {
	XMLName xml.Name             `xml:"ReplicationConfiguration"`
	Xmlns   string               `xml:"xmlns,attr,omitempty"`
	Role    string               `xml:"Role"`
	Rules   []replicationRuleXML `xml:"Rule"`
}

type replicationRuleXML struct {
	ID                      string           `xml:"ID,omitempty"`
	Priority                *int             `xml:"Priority,omitempty"`
	Prefix                  *string          `xml:"Prefix,omitempty"`
	Filter                  *replicationFilt `xml:"Filter,omitempty"`
	Status                  string           `xml:"Status"`
	DeleteMarkerReplication *statusXML       `xml:"DeleteMarkerReplication,omitempty"`
	Destination             struct {
		Bucket       string     `xml:"Bucket"`
		Account      string     `xml:"Account,omitempty"`
		StorageClass string     `xml:"StorageClass,omitempty"`
		Other        []otherXML `xml:",any"`
	} `xml:"Destination"`
	// Other keeps settings the sandbox does not act on (replication time
	// control, metrics, existing-object replication) so Get returns them.
	Other []otherXML `xml:",any"`
}

// otherXML is an element kept verbatim.
type otherXML struct {
	XMLName xml.Name
	Inner   string `xml:",innerxml"`
}

type replicationFilt struct {
	Prefix *string `xml:"Prefix,omitempty"`
	Tag    *tagXML `xml:"Tag,omitempty"`
	And    *struct {
		Prefix *string  `xml:"Prefix,omitempty"`
		Tags   []tagXML `xml:"Tag"`
	} `xml:"And,omitempty"`
}

type statusXML struct {
	Status string `xml:"Status"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// replicationRule is a rule ready to match object versions.
type replicationRule struct {
	id            string
	priority      int
	enabled       bool
	prefix        string
	tags          []tagXML
	deleteMarkers bool
	dest          string
}

func (c *replicationConfig) rules() []replicationRule {
	out := make([]replicationRule, 0, len(c.Rules))
	for _, r := range c.Rules {
		rr := replicationRule{id: r.ID, enabled: r.Status == "Enabled",
			dest: strings.TrimPrefix(r.Destination.Bucket, "arn:aws:s3:::")}
		if r.Priority != nil {
			rr.priority = *r.Priority
		}
		if r.Prefix != nil {
			rr.prefix = *r.Prefix
		}
		if f := r.Filter; f != nil {
			switch {
			case f.Prefix != nil:
				rr.prefix = *f.Prefix
			case f.Tag != nil:
				rr.tags = []tagXML{*f.Tag}
			case f.And != nil:
				if f.And.Prefix != nil {
					rr.prefix = *f.And.Prefix
				}
				rr.tags = f.And.Tags
			}
		}
		rr.deleteMarkers = r.DeleteMarkerReplication != nil && r.DeleteMarkerReplication.Status == "Enabled"
		if r.Filter == nil && r.DeleteMarkerReplication == nil {
			// Rules in the first schema (a Prefix, no Filter) replicate
			// delete markers.
			rr.deleteMarkers = true
		}
		out = append(out, rr)
	}
	// The rule with the highest priority wins when several match.
	slices.SortStableFunc(out, func(a, b replicationRule) int { return b.priority - a.priority })
	return out
}

func (r *replicationRule) matches(key string, v *s3Version) bool {
	if !r.enabled || !strings.HasPrefix(key, r.prefix) {
		return false
	}
	if v.deleteMarker {
		return r.deleteMarkers && len(r.tags) == 0
	}
	for _, t := range r.tags {
		if v.tags[t.Key] != t.Value {
			return false
		}
	}
	return true
}

// replicationOp is one version waiting to reach its destination.
type replicationOp struct {
	src     string
	key     string
	version *s3Version
	rule    string
	dest    string
	created time.Time
	due     time.Time
}

// replicationQueue holds pending replication in due order. Replication is
// applied lazily: whenever S3 state is read, every operation due by the
// clock is completed first, as of its due time. Completed operations are
// kept per rule, in due order, so replication metrics can be computed for
// any time, not only now.
type replicationQueue struct {
	pending []*replicationOp
	done    map[string][]replicationRecord
	maxLag  time.Duration
}

// replicationRecord is a completed (or failed) replication.
type replicationRecord struct {
	Created, Due time.Time
	Bytes        int64
	Failed       bool
	// FailedSoFar counts failures up to and including this record.
	FailedSoFar int64
}

func newReplicationQueue() replicationQueue {
	return replicationQueue{done: map[string][]replicationRecord{}}
}

func ruleKey(bucket, rule string) string { return bucket + "\x00" + rule }

// enqueue starts replicating v if a rule of b covers it.
func (q *replicationQueue) enqueue(s *s3Service, b *s3Bucket, key string, v *s3Version, now time.Time) {
	if b.replication == nil || v.replication == replReplica {
		return
	}
	for _, r := range b.replication.rules() {
		if !r.matches(key, v) {
			continue
		}
		if !v.deleteMarker {
			v.replication = replPending
		}
		op := &replicationOp{src: b.name, key: key, version: v, rule: r.id, dest: r.dest,
			created: now, due: now.Add(s.cfg.ReplicationLag)}
		i := len(q.pending)
		for i > 0 && q.pending[i-1].due.After(op.due) {
			i--
		}
		q.pending = slices.Insert(q.pending, i, op)
		q.maxLag = max(q.maxLag, op.due.Sub(op.created))
		return
	}
}

// materialize completes every operation due by now.
func (q *replicationQueue) materialize(s *s3Service, now time.Time) {
	n := 0
	for n < len(q.pending) && !q.pending[n].due.After(now) {
		q.apply(s, q.pending[n])
		n++
	}
	if n > 0 {
		q.pending = slices.Delete(q.pending, 0, n)
	}
}

func (q *replicationQueue) apply(s *s3Service, op *replicationOp) {
	src := s.buckets[op.src]
	if src == nil || op.version.destroyed {
		// The version was destroyed before it replicated.
		return
	}
	failed := q.wouldFail(s, op)
	q.record(op, failed)
	if failed {
		if !op.version.deleteMarker {
			op.version.replication = replFailed
		}
		return
	}
	// Replicas arrive in order, so an entry already applied would be on top.
	if o := s.buckets[op.dest].entry(op.key); len(o.versions) == 0 || o.versions[0].id != op.version.id {
		replica := *op.version
		if !replica.deleteMarker {
			replica.replication = replReplica
		}
		o.versions = slices.Insert(o.versions, 0, &replica)
	}
	if !op.version.deleteMarker {
		op.version.replication = replCompleted
	}
}

// wouldFail reports whether op cannot land: its destination is gone or no
// longer versioned.
func (q *replicationQueue) wouldFail(s *s3Service, op *replicationOp) bool {
	dest := s.buckets[op.dest]
	return dest == nil || dest.versioning != "Enabled"
}

func (q *replicationQueue) record(op *replicationOp, failed bool) {
	k := ruleKey(op.src, op.rule)
	recs := q.done[k]
	r := replicationRecord{Created: op.created, Due: op.due, Bytes: op.version.size, Failed: failed}
	if n := len(recs); n > 0 {
		r.FailedSoFar = recs[n-1].FailedSoFar
	}
	if failed {
		r.FailedSoFar++
	}
	q.done[k] = append(recs, r)
}

// replicationStats is one rule's replication as CloudWatch's AWS/S3
// replication metrics see it.
type replicationStats struct {
	RuleID, DestinationBucket string
	PendingOps, PendingBytes  int64
	FailedOps                 int64
	Latency                   time.Duration // max age of pending, or the last completed's lag
}

func (s *s3Service) replicationStats(bucket string, at time.Time) []replicationStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucket]
	if b == nil || b.replication == nil {
		return nil
	}
	q := &s.repl
	var out []replicationStats
	for _, r := range b.replication.rules() {
		st := replicationStats{RuleID: r.id, DestinationBucket: r.dest}
		var oldest time.Time
		var lastLag time.Duration
		pendingAt := func(created time.Time, bytes int64) {
			st.PendingOps++
			st.PendingBytes += bytes
			if oldest.IsZero() || created.Before(oldest) {
				oldest = created
			}
		}
		// Completed operations: those done by `at`, and those that were
		// still on their way at `at` (created before, due after).
		recs := q.done[ruleKey(bucket, r.id)]
		i := sort.Search(len(recs), func(i int) bool { return recs[i].Due.After(at) })
		if i > 0 {
			st.FailedOps = recs[i-1].FailedSoFar
			lastLag = recs[i-1].Due.Sub(recs[i-1].Created)
		}
		horizon := at.Add(q.maxLag)
		for j := i; j < len(recs) && !recs[j].Due.After(horizon); j++ {
			if !recs[j].Created.After(at) {
				pendingAt(recs[j].Created, recs[j].Bytes)
			}
		}
		// Operations not applied yet (no S3 read since they fell due).
		for _, op := range q.pending {
			if op.src != bucket || op.rule != r.id || op.created.After(at) || op.version.destroyed {
				continue
			}
			if op.due.After(at) {
				pendingAt(op.created, op.version.size)
				continue
			}
			if q.wouldFail(s, op) {
				st.FailedOps++
			}
			lastLag = op.due.Sub(op.created)
		}
		if !oldest.IsZero() {
			st.Latency = at.Sub(oldest)
		} else {
			st.Latency = lastLag
		}
		out = append(out, st)
	}
	return out
}

func (s *s3Service) handlePutBucketReplication(w http.ResponseWriter, r *http.Request, t s3Target) *apiError {
	body, _, e := readS3Body(r)
	if e != nil {
		return e
	}
	var cfg replicationConfig
	if err := xml.Unmarshal(body, &cfg); err != nil || len(cfg.Rules) == 0 {
		return errMalformedXML()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[t.bucket]
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	if b.versioning != "Enabled" {
		return errInvalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
	}
	if len(cfg.Rules) > 1000 {
		return errInvalidRequest("a replication configuration holds at most 1000 rules")
	}
	seen := map[string]bool{}
	for i := range cfg.Rules {
		rule := &cfg.Rules[i]
		if rule.ID == "" {
			rule.ID = "rule-" + strconv.Itoa(i+1)
		}
		if seen[rule.ID] {
			return errInvalidRequest("rule ID " + rule.ID + " is used twice")
		}
		seen[rule.ID] = true
		if rule.Status != "Enabled" && rule.Status != "Disabled" {
			return errMalformedXML()
		}
		name, ok := strings.CutPrefix(rule.Destination.Bucket, "arn:aws:s3:::")
		if !ok || name == "" || strings.Contains(name, "/") {
			return errInvalidArgument("Invalid destination bucket ARN: " + rule.Destination.Bucket)
		}
		dest, ok := s.buckets[name]
		if !ok {
			return errInvalidRequest("Destination bucket must exist: " + name)
		}
		if dest.versioning != "Enabled" {
			return errInvalidRequest("Destination bucket must have versioning enabled: " + name)
		}
		if name == b.name {
			return errInvalidRequest("Destination bucket cannot be the same as the source bucket")
		}
	}
	cfg.Xmlns = ""
	b.replication = &cfg
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *s3Service) handleGetBucketReplication(w http.ResponseWriter, t s3Target) *apiError {
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	var cfg replicationConfig
	if ok && b.replication != nil {
		cfg = *b.replication
	}
	s.mu.Unlock()
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	if cfg.Rules == nil {
		return &apiError{Status: 404, Code: "ReplicationConfigurationNotFoundError",
			Message: "The replication configuration was not found"}
	}
	cfg.Xmlns = s3XMLNS
	return writeXML(w, &cfg)
}

func (s *s3Service) handleDeleteBucketReplication(w http.ResponseWriter, t s3Target) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[t.bucket]
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	b.replication = nil
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// discard drains a body the handler does not need.
func discard(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
}
