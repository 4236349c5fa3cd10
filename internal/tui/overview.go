package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/inventory"
)

// overview shows the numbers an on-call needs first: RPO now per
// protected resource, replication lag and backlog, DR fleet capacity and
// the alarms in ALARM.
type overview struct{}

func newOverview() *overview { return &overview{} }

var overviewParts = []part{partPoints, partReplication, partFleet, partAlarms, partVolumes}

func (v *overview) title() string                    { return "Overview" }
func (v *overview) command() string                  { return "overview" }
func (v *overview) keys(e *env) []key.Binding        { return []key.Binding{e.keys.NextTab, e.keys.Refresh} }
func (v *overview) activate(e *env) tea.Cmd          { return v.freshen(e) }
func (v *overview) freshen(e *env) tea.Cmd           { return e.need(overviewParts...) }
func (v *overview) update(e *env, m tea.Msg) tea.Cmd { return nil }
func (v *overview) filterGrid() *grid                { return nil }
func (v *overview) back(*env) (tea.Cmd, bool)        { return nil, false }
func (v *overview) capturing() bool                  { return false }

func (v *overview) refresh(e *env) tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range overviewParts {
		cmds = append(cmds, e.reload(p))
	}
	return tea.Batch(cmds...)
}

func (v *overview) render(e *env, w, h int) string {
	st := &e.st
	var b strings.Builder
	now := e.now()
	obj := e.opts.RPOObjective
	// The other sections take at most three lines each; recovery points
	// get what they leave of h, less their title and summary lines.
	per := 3
	rest := v.renderRest(e, w, per)
	perPoints := max(h-strings.Count(rest, "\n")-3, 2)

	from := ""
	if e.rpoFrom != "" {
		from = " (" + e.rpoFrom + ")"
	}
	fmt.Fprintf(&b, "%s  objective %s%s  %s\n", st.title.Render("Recovery points: RPO now"), age(obj), from, asOf(e, partPoints))
	if n := partNote(e, partPoints); n != "" {
		b.WriteString(n + "\n")
	} else {
		res := inventory.ByResource(e.est.points, now)
		if len(res) == 0 {
			b.WriteString(st.dim.Render("  no protected resources") + "\n")
		}
		over := 0
		for _, r := range res {
			if r.Newest.Created.IsZero() || r.Age > obj {
				over++
			}
		}
		for i, r := range res {
			if i == perPoints-1 && len(res) > perPoints {
				fmt.Fprintf(&b, "  … %d more (:points)\n", len(res)-i)
				break
			}
			state := st.ok.Render("✔ within")
			ageS := age(r.Age)
			if r.Newest.Created.IsZero() {
				state, ageS = st.bad.Render("✖ NONE  "), "never"
			} else if r.Age > obj {
				state = st.bad.Render("✖ OVER  ")
			}
			fmt.Fprintf(&b, "  %s %s %s %s\n", state, cell(resourceLabel(r.ResourceName, r.ResourceARN), max(w-44, 16), false),
				cell(shortType(r.ResourceType), 8, false), cell("newest "+ageS+" ago", 20, true))
		}
		if over > 0 {
			fmt.Fprintf(&b, "  %s\n", st.bad.Render(fmt.Sprintf("✖ %d of %d resources over the objective", over, len(res))))
		}
	}

	if n := failNote(e, partPoints); n != "" {
		b.WriteString(n + "\n")
	}
	b.WriteString(rest)
	return b.String()
}

// renderRest renders the sections below recovery points, each at most per
// lines.
func (v *overview) renderRest(e *env, w, per int) string {
	st := &e.st
	var b strings.Builder
	b.WriteString(paneTitle(e, "Replication", partReplication))
	if n := partNote(e, partReplication); n != "" {
		b.WriteString(n + "\n")
	} else if len(e.est.replication) == 0 {
		b.WriteString(st.dim.Render("  no replication rules") + "\n")
	} else {
		for i, r := range e.est.replication {
			if i >= per {
				break
			}
			if e.est.seriesMissing(r.Rule) {
				fmt.Fprintf(&b, "  %s → %s  %s\n", r.Rule.Bucket, r.Rule.DestinationBucket, st.warn.Render("lag and pending not read"))
				continue
			}
			fmt.Fprintf(&b, "  %s → %s  lag %s  pending %s ops, %s\n",
				r.Rule.Bucket, r.Rule.DestinationBucket, age(secs(r.Latency.Last())),
				count(int(r.OpsPending.Last())), bytes(int64(r.BytesPending.Last())))
		}
		if n := len(e.est.stuck); n > 0 {
			fmt.Fprintf(&b, "  %s\n", st.warn.Render(fmt.Sprintf("! %d objects FAILED or long PENDING (:replication)", n)))
		}
	}

	if n := failNote(e, partReplication); n != "" {
		b.WriteString(n + "\n")
	}
	b.WriteString(paneTitle(e, "Volumes", volumesParts...))
	if n := partNote(e, partVolumes); n != "" {
		b.WriteString(n + "\n")
	} else {
		b.WriteString(volumesLine(e) + "\n")
	}

	b.WriteString(paneTitle(e, "DR fleet", partFleet))
	if n := partNote(e, partFleet); n != "" {
		b.WriteString(n + "\n")
	} else {
		var fleet, other []inventory.Group
		for _, g := range e.est.groups {
			if e.groupClass(g).Role == "dr-fleet" {
				fleet = append(fleet, g)
			} else {
				other = append(other, g)
			}
		}
		if len(fleet) == 0 {
			b.WriteString(st.warn.Render("  ! no group in "+e.opts.DRRegion+" is classified dr-fleet: "+estate.Hint(estate.KindGroup)) + "\n")
		}
		for i, g := range fleet {
			if i >= per-1 {
				fmt.Fprintf(&b, "  … %d more (:fleet)\n", len(fleet)-i)
				break
			}
			fmt.Fprintf(&b, "  %s %s  %s  desired %d  InService %d  Pending %d\n", fleetState(st, g), g.Name, g.Region, g.Desired, g.InService, g.Pending)
		}
		if len(other) > 0 {
			names := make([]string, len(other))
			for i, g := range other {
				names[i] = g.Name
			}
			b.WriteString(cell(st.dim.Render(fmt.Sprintf("  %d other %s, not DR fleet: %s", len(other), plural(len(other), "group", "groups"), strings.Join(names, ", "))), w, false) + "\n")
		}
	}

	b.WriteString(paneTitle(e, "Alarms", partAlarms))
	if n := partNote(e, partAlarms); n != "" {
		b.WriteString(n + "\n")
	} else {
		var firing []inventory.Alarm
		for _, a := range e.est.alarms {
			if a.State == "ALARM" {
				firing = append(firing, a)
			}
		}
		if len(firing) == 0 {
			fmt.Fprintf(&b, "  %s\n", st.ok.Render(fmt.Sprintf("✔ none in ALARM (%d alarms)", len(e.est.alarms))))
		}
		for i, a := range firing {
			if i >= per {
				fmt.Fprintf(&b, "  … %d more (:fleet)\n", len(firing)-i)
				break
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", st.bad.Render("✖ ALARM"), a.Name, a.Region)
		}
		if n := failNote(e, partAlarms); n != "" {
			b.WriteString(n + "\n")
		}
	}
	return b.String()
}

// paneTitle is a section's title line with the age of its data.
func paneTitle(e *env, title string, parts ...part) string {
	if n := asOf(e, parts...); n != "" {
		return e.st.title.Render(title) + "  " + n + "\n"
	}
	return e.st.title.Render(title) + "\n"
}

// volumesLine sums the volumes up: how many, how many within their
// objective, over it or never snapshotted, and snapshots in progress.
func volumesLine(e *env) string {
	st := &e.st
	n := e.countVolumes()
	if n.total == 0 {
		return st.dim.Render("  no EBS volumes in " + e.opts.PrimaryRegion)
	}
	parts := []string{fmt.Sprintf("  %d %s", n.total, plural(n.total, "volume", "volumes"))}
	if n.within > 0 {
		parts = append(parts, st.ok.Render(fmt.Sprintf("✔ %d within", n.within)))
	}
	if n.over > 0 {
		parts = append(parts, st.bad.Render(fmt.Sprintf("✖ %d over", n.over)))
	}
	if n.none > 0 {
		parts = append(parts, st.bad.Render(fmt.Sprintf("✖ %d never snapshotted", n.none)))
	}
	if n.taking > 0 {
		parts = append(parts, st.warn.Render(fmt.Sprintf("◌ %d %s in progress", n.taking, plural(n.taking, "snapshot", "snapshots"))))
	}
	if n.unclassified > 0 {
		parts = append(parts, st.dim.Render(fmt.Sprintf("%d unclassified", n.unclassified)))
	}
	return strings.Join(parts, "  ") + st.dim.Render("  (:volumes)")
}

// fleetState marks a group whose InService count is below desired.
func fleetState(st *styles, g inventory.Group) string {
	switch {
	case g.Desired == 0:
		return st.dim.Render("○ idle ")
	case int32(g.InService) >= g.Desired:
		return st.ok.Render("✔ ready")
	default:
		return st.warn.Render("◌ short")
	}
}

// resourceLabel names a resource by its name and the last part of its
// ARN, since several resources may share a name (three dataset volumes).
func resourceLabel(name, arn string) string {
	id := arn
	if i := strings.LastIndexAny(arn, ":/"); i >= 0 {
		id = arn[i+1:]
	}
	switch {
	case name == "":
		return id
	case id == name || id == "":
		return name
	}
	return name + " (" + id + ")"
}

// shortType shortens a Backup resource type for narrow columns.
func shortType(t string) string {
	switch t {
	case "EBS", "EFS", "S3", "RDS":
		return t
	case "ElasticFileSystem":
		return "EFS"
	}
	return t
}
