package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/inventory"
)

// part names one piece of the estate the views share.
type part int

const (
	partIdentity part = iota
	partPoints
	partReplication
	partFleet
	partAlarms
	partBuckets
	partVolumes
	numParts
)

// estateData is the inventory the views share, each part loaded once and
// read again when a view showing it is entered stale (env.need), on the
// periodic refresh or on demand: switching views within freshFor never
// refetches.
type estateData struct {
	state [numParts]loadState
	// err is set when a part read nothing (its first call failed); errs
	// lists every call of the part that failed, the part keeping what the
	// others read.
	err  [numParts]error
	errs [numParts][]loadError
	// at is when the part's last answer came; epoch is env.changes when
	// its last read was sent (env.stale).
	at    [numParts]time.Time
	epoch [numParts]int

	identity    inventory.Identity
	vaults      []inventory.Vault
	points      []inventory.RecoveryPoint
	replication []inventory.Replication
	stuck       []inventory.ObjectReplication
	groups      []inventory.Group
	alarms      []inventory.Alarm
	buckets     []inventory.Bucket
	volumes     []inventory.Volume
	snapshots   []inventory.Snapshot
}

type loadState int

const (
	notLoaded loadState = iota
	loading
	loaded
)

// loadError is one failed call of a part: what was read, of which
// resource, where, and the error.
type loadError struct {
	op       string // "list recovery points"
	resource string // the vault, bucket or rule; "" for a region-wide read
	region   string
	err      error
}

// loadErrors collects a part's failed calls as it reads on.
type loadErrors []loadError

func (l *loadErrors) add(op, resource, region string, err error) {
	*l = append(*l, loadError{op: op, resource: resource, region: region, err: err})
}

// whole records err, if any, as the failure of a part read in one call,
// and returns it.
func (l *loadErrors) whole(op, resource, region string, err error) error {
	if err != nil {
		l.add(op, resource, region, err)
	}
	return err
}

// asOf says how old what a pane shows of parts is ("as of 12s ago", the
// oldest of them), and that it is being read again; a part not answered
// yet, or whose last read failed whole, shows nothing to date (partNote
// says so), and "" when no part has.
func asOf(e *env, parts ...part) string {
	var oldest time.Time
	reading := false
	for _, p := range parts {
		at := e.est.at[p]
		if at.IsZero() || e.est.err[p] != nil {
			continue
		}
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
		reading = reading || e.est.state[p] == loading
	}
	return ageNote(e, oldest, reading)
}

// ageNote is asOf for data read at at; reading: a newer read is in
// flight.
func ageNote(e *env, at time.Time, reading bool) string {
	if at.IsZero() {
		return ""
	}
	s := "as of " + age(e.now().Sub(at)) + " ago"
	if reading {
		s += ", refreshing…"
	}
	return e.st.dim.Render(s)
}

// estateMsg carries one part back from its tea.Cmd.
type estateMsg struct {
	part part
	gen  int
	// fill applies what was read on the event loop; it runs unless err
	// is set, even when some calls failed.
	fill func(*estateData)
	err  error       // the part read nothing
	errs []loadError // every failed call, err's included
}

// replicationWindow is how far back the replication sparklines reach.
const (
	replicationWindow = 6 * time.Hour
	replicationPeriod = 5 * time.Minute
	stuckSample       = 200
	stuckPending      = 15 * time.Minute
)

// loadPart returns the command that reads p. It runs off the event loop;
// the result is applied in Update.
func loadPart(ctx context.Context, o *Options, p part, now time.Time, gen int) tea.Cmd {
	c := o.Clients
	primary, dr := o.PrimaryRegion, o.DRRegion
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, o.LoadTimeout)
		defer cancel()
		msg := estateMsg{part: p, gen: gen}
		var errs loadErrors
		switch p {
		case partIdentity:
			id, err := inventory.CallerIdentity(ctx, c, primary)
			msg.err = errs.whole("read the caller identity", "", primary, err)
			msg.fill = func(e *estateData) { e.identity = id }
		case partPoints:
			vaults, points, err := pointsOf(ctx, c, primary, &errs)
			msg.err = err
			msg.fill = func(e *estateData) { e.vaults, e.points = vaults, points }
		case partReplication:
			reps, stuck, err := replicationOf(ctx, c, primary, now, &errs)
			msg.err = err
			msg.fill = func(e *estateData) { e.replication, e.stuck = reps, stuck }
		case partFleet:
			groups, err := inventory.Groups(ctx, c, dr)
			msg.err = errs.whole("describe auto-scaling groups", "", dr, err)
			msg.fill = func(e *estateData) { e.groups = groups }
		case partAlarms:
			all, err := alarmsOf(ctx, c, &errs, primary, dr)
			msg.err = err
			msg.fill = func(e *estateData) { e.alarms = all }
		case partBuckets:
			buckets, err := inventory.Buckets(ctx, c, primary)
			msg.err = errs.whole("list buckets", "", primary, err)
			msg.fill = func(e *estateData) { e.buckets = buckets }
		case partVolumes:
			vols, snaps, err := volumesOf(ctx, c, primary, &errs)
			msg.err = err
			msg.fill = func(e *estateData) { e.volumes, e.snapshots = vols, snaps }
		}
		msg.errs = errs
		return msg
	}
}

// pointsOf reads the vaults in region and every recovery point in them.
// A vault whose points cannot be listed is recorded in errs and the others
// are still read; only a failed vault list fails the part.
func pointsOf(ctx context.Context, c awsx.ClientSource, region string, errs *loadErrors) ([]inventory.Vault, []inventory.RecoveryPoint, error) {
	vaults, err := inventory.Vaults(ctx, c, region)
	if err != nil {
		return nil, nil, errs.whole("list backup vaults", "", region, err)
	}
	var points []inventory.RecoveryPoint
	for _, v := range vaults {
		ps, err := inventory.RecoveryPoints(ctx, c, region, v.Name)
		if err != nil {
			errs.add("list recovery points", v.Name, region, err)
			continue
		}
		points = append(points, ps...)
	}
	return vaults, points, nil
}

// volumesOf reads the EBS volumes in region and their snapshots. The
// volumes still show, newest snapshot unknown, when the snapshots cannot
// be read; only a failed volume list fails the part.
func volumesOf(ctx context.Context, c awsx.ClientSource, region string, errs *loadErrors) ([]inventory.Volume, []inventory.Snapshot, error) {
	vols, err := inventory.Volumes(ctx, c, region)
	if err != nil {
		return nil, nil, errs.whole("describe volumes", "", region, err)
	}
	snaps, err := inventory.Snapshots(ctx, c, region)
	if err != nil {
		errs.add(opSnapshots, "", region, err)
	}
	return vols, snaps, nil
}

// opSnapshots is the failed snapshot read; the Volumes view says the
// newest snapshots are unknown rather than "none".
const opSnapshots = "describe snapshots"

// replicationOf reads each replication rule of the buckets in region with
// its metric series up to now and a sample of its stuck objects. A rule
// whose series or sample cannot be read is kept without them, the failure
// recorded in errs; only a failed bucket list fails the part.
func replicationOf(ctx context.Context, c awsx.ClientSource, region string, now time.Time, errs *loadErrors) ([]inventory.Replication, []inventory.ObjectReplication, error) {
	buckets, err := inventory.BucketNames(ctx, c, region)
	if err != nil {
		return nil, nil, errs.whole("list buckets", "", region, err)
	}
	var reps []inventory.Replication
	var stuck []inventory.ObjectReplication
	for _, b := range buckets {
		rules, err := inventory.ReplicationRules(ctx, c, region, b)
		if err != nil {
			errs.add("read replication rules", b, region, err)
			continue
		}
		for _, r := range rules {
			rep, err := inventory.ReplicationSeries(ctx, c, region, r, now.Add(-replicationWindow), now, replicationPeriod)
			if err != nil {
				errs.add(opReplicationMetrics, ruleResource(r), region, err)
				rep = inventory.Replication{Rule: r}
			}
			reps = append(reps, rep)
			st, err := inventory.StuckObjects(ctx, c, region, b, r.Prefix, stuckSample, stuckPending, now)
			if err != nil {
				errs.add("sample replication status", ruleResource(r), region, err)
				continue
			}
			stuck = append(stuck, st...)
		}
	}
	return reps, stuck, nil
}

// opReplicationMetrics is the failed read of a rule's series; the panes
// look for it to say the series are missing rather than draw zeros.
const opReplicationMetrics = "read replication metrics"

// ruleResource names a replication rule in a loadError.
func ruleResource(r inventory.ReplicationRule) string { return r.Bucket + " rule " + r.ID }

// seriesMissing reports that r's metric series could not be read.
func (e *estateData) seriesMissing(r inventory.ReplicationRule) bool {
	for _, le := range e.errs[partReplication] {
		if le.op == opReplicationMetrics && le.resource == ruleResource(r) {
			return true
		}
	}
	return false
}

// alarmsOf reads the alarms of each region in turn. A region that fails
// is recorded in errs and the others still show; the part fails only when
// every region does.
func alarmsOf(ctx context.Context, c awsx.ClientSource, errs *loadErrors, regions ...string) ([]inventory.Alarm, error) {
	var all []inventory.Alarm
	var first error
	for _, r := range regions {
		as, err := inventory.Alarms(ctx, c, r)
		if err != nil {
			errs.add("describe alarms", "", r, err)
			if first == nil {
				first = err
			}
			continue
		}
		all = append(all, as...)
	}
	if len(all) == 0 && len(*errs) == len(regions) {
		return nil, first
	}
	return all, nil
}
