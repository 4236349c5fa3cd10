package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// A throttle fault with PerSecond set models a rate limit rather than a
// fraction of requests: each partition (an S3 prefix, another service's
// operation) may make PerSecond matching requests a second, with a burst of
// a tenth of a second's worth, and the rest are throttled. So a client that
// slows down stops being throttled, as on S3, whose documented limits are
// per prefix (3,500 writes and 5,500 reads a second), and on the other
// services, whose limits are per operation.
//
// Rates are measured on the process's clock (time.Now), not the estate's:
// advancing the estate's clock to finish a snapshot must not refill a
// limit, and a test's fake clock (testing/synctest) drives both.

// rateKey is one fault's limit on one partition.
type rateKey struct {
	fault     int
	partition string
}

// tokenBucket holds up to burst requests' worth of allowance, refilled at
// rate a second.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take spends one request's allowance if there is one.
func (b *tokenBucket) take(now time.Time, rate float64) bool {
	burst := max(1, rate/10)
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// partitioner is a service whose requests count against a finer rate
// partition than their operation.
type partitioner interface {
	partition(r *http.Request, op string) string
}

// partition is the bucket and the key's prefix up to its last slash
// ("models/a/x.bin" is in "bucket/models/a/"); a listing counts against the
// prefix it lists.
func (s *s3Service) partition(r *http.Request, op string) string {
	t := s3Locate(r)
	key := t.key
	if key == "" {
		key = r.URL.Query().Get("prefix")
	}
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return t.bucket + "/" + key[:i+1]
	}
	return t.bucket + "/"
}

// partitionOf is the rate partition a request counts against.
func partitionOf(svc service, r *http.Request, c *call) string {
	if p, ok := svc.(partitioner); ok {
		return p.partition(r, c.Operation)
	}
	return c.Region + "/" + c.Operation
}
