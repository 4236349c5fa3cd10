package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// Pace is how fast the estate's slow work goes: snapshots, instance
// warm-up, restore jobs and replication. An RTO measured on the sandbox is
// only comparable with another measured at the same pace, so the pace is
// named on every answer (IdentityHeader) and shown where runs are watched.
type Pace string

// The paces.
const (
	// PaceReal is the default: durations of the order AWS takes for a
	// small estate (snapshots 2m, warm-up 45s, restores 3m, replication
	// 30s).
	PaceReal Pace = "real"
	// PaceQuick makes a failover finish while the operator watches
	// (snapshots 5s, warm-up 5s, restores 10s): the console's embedded
	// sandbox runs at it unless told otherwise.
	PaceQuick Pace = "quick"
	// PaceCustom is any other set of durations.
	PaceCustom Pace = "custom"
)

// ParsePace reads a --pace value: real or quick.
func ParsePace(s string) (Pace, error) {
	switch p := Pace(strings.ToLower(strings.TrimSpace(s))); p {
	case PaceReal, PaceQuick:
		return p, nil
	}
	return "", fmt.Errorf("pace %q: want real or quick", s)
}

// WithPace sets the durations of p (PaceReal: the defaults) over o's.
func (o Options) WithPace(p Pace) Options {
	switch p {
	case PaceQuick:
		o.InstanceWarmup, o.SnapshotDuration, o.RestoreDuration = 5*time.Second, 5*time.Second, 10*time.Second
		o.ReplicationLag = 0
	case PaceReal:
		o.InstanceWarmup, o.SnapshotDuration, o.RestoreDuration, o.ReplicationLag = 0, 0, 0, 0
	}
	return o
}

// Pace names the pace o's durations make, defaults filled in.
func (o Options) Pace() Pace {
	o = o.withDefaults()
	for _, p := range []Pace{PaceReal, PaceQuick} {
		q := Options{}.WithPace(p).withDefaults()
		if o.InstanceWarmup == q.InstanceWarmup && o.SnapshotDuration == q.SnapshotDuration &&
			o.RestoreDuration == q.RestoreDuration && o.ReplicationLag == q.ReplicationLag {
			return p
		}
	}
	return PaceCustom
}

// PaceDetail is the durations behind the pace, for a line a person reads:
// "snapshots 5s, warm-up 5s, restores 10s, replication 30s".
func (o Options) PaceDetail() string {
	o = o.withDefaults()
	return fmt.Sprintf("snapshots %s, warm-up %s, restores %s, replication %s",
		o.SnapshotDuration, o.InstanceWarmup, o.RestoreDuration, o.ReplicationLag)
}

// identity is the value of IdentityHeader: the sandbox and its pace.
func (o Options) identity() string { return "pace=" + string(o.Pace()) }

// PaceOf reads the pace from an answer's IdentityHeader value; "" when the
// value names none.
func PaceOf(header string) Pace {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "pace="); ok {
			return Pace(v)
		}
	}
	return ""
}
