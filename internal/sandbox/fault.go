package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind string

// Fault kinds.
const (
	// FaultThrottle answers with the service's throttling error (S3
	// SlowDown 503, EC2 RequestLimitExceeded 503, Auto Scaling, CloudWatch
	// and STS Throttling 400, Backup and EFS ThrottlingException 400): a
	// fraction Rate of the matching requests, or, with PerSecond, those over
	// a rate limit per partition (see ratelimit.go).
	FaultThrottle FaultKind = "throttle"
	// FaultError5xx answers with the service's internal error, 500 (S3
	// and EC2 InternalError, Backup ServiceUnavailableException, EFS
	// InternalServerError, the others InternalFailure).
	FaultError5xx FaultKind = "error5xx"
	// FaultLatency delays the request by Latency before serving it.
	FaultLatency FaultKind = "latency"
	// FaultDrop applies the operation, then closes the connection in the
	// middle of the response headers: the client sees a broken connection
	// and cannot tell whether the change was made.
	FaultDrop FaultKind = "drop"
	// FaultOutage fails every matching call with 503 in the service's
	// error shape (EC2 Unavailable, Backup and EFS
	// ServiceUnavailableException, the others ServiceUnavailable), as AWS
	// answers while a regional endpoint is impaired; the SDK retries, then
	// gives up. Usually targeted with Region.
	FaultOutage FaultKind = "outage"
)

// Messages the fault answers share across services.
const (
	msgRateExceeded = "Rate exceeded"
	msgInternal     = "An internal error occurred. Please try again."
	msgInternalS3   = "We encountered an internal error. Please try again." // S3's and EC2's wording
	msgUnavailable  = "The service is unavailable in this region."
)

// faultErrors are the errors a service answers the failing fault kinds
// with, in its own codes: each service declares its own, so the server core
// needs to know none of them.
type faultErrors struct {
	Throttle, Internal, Outage apiError
}

// of is the answer to a failing fault of kind k (throttle, outage, or else
// an internal error). Each call returns its own copy.
func (fe faultErrors) of(k FaultKind) *apiError {
	e := fe.Internal
	switch k {
	case FaultThrottle:
		e = fe.Throttle
	case FaultOutage:
		e = fe.Outage
	}
	return &e
}

// Fault injects failures into matching requests. Service, Operation and
// Region match exactly when set ("" matches any); Writes matches only
// requests that change state. Rate is the fraction of matching requests
// affected, drawn from the seeded RNG; Every, instead, affects exactly the
// Nth, 2Nth, ... matching request since the faults were set, for tests and
// rehearsals that must hit a known share of writes. Neither set means every
// matching request. PerSecond, for a throttle fault only, throttles instead
// the matching requests over that many a second in each partition: an S3
// bucket's prefix, another service's operation in a region. From and Until,
// when set, bound the window (server
// clock) in which the fault applies.
type Fault struct {
	Service   string        `json:"service,omitempty"`
	Operation string        `json:"operation,omitempty"`
	Region    string        `json:"region,omitempty"`
	Writes    bool          `json:"writes,omitempty"`
	Kind      FaultKind     `json:"kind"`
	Rate      float64       `json:"rate,omitempty"`
	PerSecond float64       `json:"per_second,omitempty"`
	Every     int           `json:"every,omitempty"`
	Latency   time.Duration `json:"-"`
	From      time.Time     `json:"from,omitzero"`
	Until     time.Time     `json:"until,omitzero"`
}

// MarshalJSON writes Latency as a Go duration string ("50ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	type alias Fault
	j := struct {
		alias
		Latency string `json:"latency,omitempty"`
	}{alias: alias(f)}
	if f.Latency != 0 {
		j.Latency = f.Latency.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Latency as a Go duration string.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type alias Fault
	var j struct {
		alias
		Latency string `json:"latency"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Fault(j.alias)
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return fmt.Errorf("fault latency %q: %w", j.Latency, err)
		}
		f.Latency = d
	}
	return nil
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultThrottle, FaultError5xx, FaultDrop, FaultOutage:
	case FaultLatency:
		if f.Latency <= 0 {
			return fmt.Errorf("latency fault needs a positive latency")
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want throttle, error5xx, latency, drop or outage)", f.Kind)
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("fault rate %v outside [0, 1]", f.Rate)
	}
	if f.PerSecond < 0 || f.PerSecond != 0 && f.Kind != FaultThrottle {
		return fmt.Errorf("a rate limit (per_second) is a positive number of requests a second, for a throttle fault only")
	}
	if f.PerSecond > 0 && f.Rate != 0 {
		return fmt.Errorf("a throttle fault takes a rate or a rate limit (per_second), not both")
	}
	if f.Every < 0 || f.Every > 0 && f.Rate > 0 {
		return fmt.Errorf("fault every %d: want a positive count, and no rate with it", f.Every)
	}
	if !f.From.IsZero() && !f.Until.IsZero() && f.Until.Before(f.From) {
		return fmt.Errorf("fault window ends before it starts")
	}
	return nil
}

func (f Fault) matches(service, op, region string, now time.Time) bool {
	if f.Service != "" && f.Service != service || f.Operation != "" && f.Operation != op ||
		f.Region != "" && f.Region != region {
		return false
	}
	if !f.From.IsZero() && now.Before(f.From) || !f.Until.IsZero() && !now.Before(f.Until) {
		return false
	}
	return true
}

// ParseFault reads the --fault flag syntax:
//
//	KIND[:VALUE][,KEY=VALUE...]
//
// KIND is throttle, error5xx, latency, drop or outage. VALUE is the rate for
// throttle, error5xx and drop (0.1), or for throttle a rate limit (500/s);
// the delay for latency (50ms) and the region for outage (us-east-1). KEYs:
// service (SigV4 name: s3, ec2, autoscaling, monitoring, backup, sts,
// elasticfilesystem), op, region, writes (true: only requests that change
// state), rate, per_second, every (N: the Nth, 2Nth, ... matching request),
// latency, from and until (RFC 3339). Examples:
//
//	throttle:0.1
//	throttle:500/s,service=s3,op=CopyObject
//	latency:50ms,service=s3
//	outage:us-east-1
//	error5xx:0.5,service=backup,op=StartRestoreJob
//	drop,service=s3,writes=true,every=10
func ParseFault(s string) (Fault, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	head, value, _ := strings.Cut(parts[0], ":")
	f := Fault{Kind: FaultKind(strings.ToLower(head))}
	bad := func(what string, err error) (Fault, error) {
		return Fault{}, fmt.Errorf("fault %q: %s: %w", s, what, err)
	}
	if value != "" {
		switch f.Kind {
		case FaultThrottle, FaultError5xx, FaultDrop:
			if n, ok := strings.CutSuffix(value, "/s"); ok && f.Kind == FaultThrottle {
				r, err := strconv.ParseFloat(n, 64)
				if err != nil {
					return bad("rate limit", err)
				}
				f.PerSecond = r
				break
			}
			r, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return bad("rate", err)
			}
			f.Rate = r
		case FaultLatency:
			d, err := time.ParseDuration(value)
			if err != nil {
				return bad("latency", err)
			}
			f.Latency = d
		case FaultOutage:
			f.Region = value
		}
	}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("option", fmt.Errorf("%q is not KEY=VALUE", kv))
		}
		switch k {
		case "service":
			f.Service = v
		case "op", "operation":
			f.Operation = v
		case "region":
			f.Region = v
		case "rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return bad("rate", err)
			}
			f.Rate = r
		case "per_second":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return bad("rate limit", err)
			}
			f.PerSecond = r
		case "every":
			n, err := strconv.Atoi(v)
			if err != nil {
				return bad("every", err)
			}
			f.Every = n
		case "writes":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("writes", err)
			}
			f.Writes = b
		case "latency":
			d, err := time.ParseDuration(v)
			if err != nil {
				return bad("latency", err)
			}
			f.Latency = d
		case "from", "until":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return bad(k, err)
			}
			if k == "from" {
				f.From = t
			} else {
				f.Until = t
			}
		default:
			return bad("option", fmt.Errorf("unknown key %q", k))
		}
	}
	if err := f.validate(); err != nil {
		return bad("invalid", err)
	}
	return f, nil
}
