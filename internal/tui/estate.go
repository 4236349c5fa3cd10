package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

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
			vaults, err := inventory.Vaults(ctx, c, primary)
			var points []inventory.RecoveryPoint
			for _, v := range vaults {
				if err != nil {
					break
				}
				var ps []inventory.RecoveryPoint
				ps, err = inventory.RecoveryPoints(ctx, c, primary, v.Name)
				points = append(points, ps...)
			}
			msg.err = err
			msg.fill = func(e *estate) { e.vaults, e.points = vaults, points }
		case partReplication:
			var reps []inventory.Replication
			var stuck []inventory.ObjectReplication
			buckets, err := inventory.Buckets(ctx, c, primary)
			for _, b := range buckets {
				if err != nil {
					break
				}
				var rules []inventory.ReplicationRule
				rules, err = inventory.ReplicationRules(ctx, c, primary, b.Name)
				for _, r := range rules {
					if err != nil {
						break
					}
					var rep inventory.Replication
					rep, err = inventory.ReplicationSeries(ctx, c, primary, r, now.Add(-replicationWindow), now, replicationPeriod)
					reps = append(reps, rep)
					if err == nil {
						var st []inventory.ObjectReplication
						st, err = inventory.StuckObjects(ctx, c, primary, b.Name, r.Prefix, stuckSample, stuckPending, now)
						stuck = append(stuck, st...)
					}
				}
			}
			msg.err = err
			msg.fill = func(e *estate) { e.replication, e.stuck = reps, stuck }
		case partFleet:
			groups, err := inventory.Groups(ctx, c, dr)
			msg.err = err
			msg.fill = func(e *estate) { e.groups = groups }
		case partAlarms:
			var all []inventory.Alarm
			var err error
			for _, r := range []string{primary, dr} {
				var as []inventory.Alarm
				as, err = inventory.Alarms(ctx, c, r)
				if err != nil {
					break
				}
				all = append(all, as...)
			}
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
