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
	numParts
)

// estate is the inventory the views share, each part loaded once and
// refreshed on demand, so switching views never refetches.
type estate struct {
	state [numParts]loadState
	err   [numParts]error
	at    [numParts]time.Time

	identity    inventory.Identity
	vaults      []inventory.Vault
	points      []inventory.RecoveryPoint
	replication []inventory.Replication
	stuck       []inventory.ObjectReplication
	groups      []inventory.Group
	alarms      []inventory.Alarm
	buckets     []inventory.Bucket
}

type loadState int

const (
	notLoaded loadState = iota
	loading
	loaded
)

// estateMsg carries one part back from its tea.Cmd.
type estateMsg struct {
	part part
	gen  int
	fill func(*estate) // applies the result on the event loop
	err  error
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
		switch p {
		case partIdentity:
			id, err := inventory.CallerIdentity(ctx, c, primary)
			msg.err = err
			msg.fill = func(e *estate) { e.identity = id }
		case partPoints:
			vaults, points, err := pointsOf(ctx, c, primary)
			msg.err = err
			msg.fill = func(e *estate) { e.vaults, e.points = vaults, points }
		case partReplication:
			reps, stuck, err := replicationOf(ctx, c, primary, now)
			msg.err = err
			msg.fill = func(e *estate) { e.replication, e.stuck = reps, stuck }
		case partFleet:
			groups, err := inventory.Groups(ctx, c, dr)
			msg.err = err
			msg.fill = func(e *estate) { e.groups = groups }
		case partAlarms:
			all, err := alarmsOf(ctx, c, primary, dr)
			msg.err = err
			msg.fill = func(e *estate) { e.alarms = all }
		case partBuckets:
			buckets, err := inventory.Buckets(ctx, c, primary)
			msg.err = err
			msg.fill = func(e *estate) { e.buckets = buckets }
		}
		return msg
	}
}

// pointsOf reads the vaults in region and every recovery point in them.
func pointsOf(ctx context.Context, c awsx.ClientSource, region string) ([]inventory.Vault, []inventory.RecoveryPoint, error) {
	vaults, err := inventory.Vaults(ctx, c, region)
	if err != nil {
		return nil, nil, err
	}
	var points []inventory.RecoveryPoint
	for _, v := range vaults {
		ps, err := inventory.RecoveryPoints(ctx, c, region, v.Name)
		if err != nil {
			return nil, nil, err
		}
		points = append(points, ps...)
	}
	return vaults, points, nil
}

// replicationOf reads each replication rule of the buckets in region with
// its metric series up to now and a sample of its stuck objects.
func replicationOf(ctx context.Context, c awsx.ClientSource, region string, now time.Time) ([]inventory.Replication, []inventory.ObjectReplication, error) {
	buckets, err := inventory.BucketNames(ctx, c, region)
	if err != nil {
		return nil, nil, err
	}
	var reps []inventory.Replication
	var stuck []inventory.ObjectReplication
	for _, b := range buckets {
		rules, err := inventory.ReplicationRules(ctx, c, region, b)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rules {
			rep, err := inventory.ReplicationSeries(ctx, c, region, r, now.Add(-replicationWindow), now, replicationPeriod)
			if err != nil {
				return nil, nil, err
			}
			reps = append(reps, rep)
			st, err := inventory.StuckObjects(ctx, c, region, b, r.Prefix, stuckSample, stuckPending, now)
			if err != nil {
				return nil, nil, err
			}
			stuck = append(stuck, st...)
		}
	}
	return reps, stuck, nil
}

// alarmsOf reads the alarms of each region in turn.
func alarmsOf(ctx context.Context, c awsx.ClientSource, regions ...string) ([]inventory.Alarm, error) {
	var all []inventory.Alarm
	for _, r := range regions {
		as, err := inventory.Alarms(ctx, c, r)
		if err != nil {
			return nil, err
		}
		all = append(all, as...)
	}
	return all, nil
}
