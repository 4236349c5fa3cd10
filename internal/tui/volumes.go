package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/inventory"
)

// volumesView shows the EBS volumes of the primary region with their
// newest completed snapshot, AWS Backup's or a plain one, its age against
// the volume's objective, and the snapshots still being taken.
type volumesView struct {
	g      *grid
	covers []inventory.VolumeCover
	class  []classed
	// open shows one volume whole (enter): its tags, attachments and
	// snapshots.
	open *pager
}

// volumesParts are read for the view: recovery points hold the snapshots
// AWS Backup took.
var volumesParts = []part{partVolumes, partPoints}

func newVolumes() *volumesView {
	v := &volumesView{g: newGrid(
		column{title: "RPO", width: 9},
		column{title: "VOLUME", min: 16},
		column{title: "ROLE", width: 14},
		column{title: "SIZE", width: 5, right: true},
		column{title: "NEWEST", width: 16},
		column{title: "AGE", width: 6, right: true},
		column{title: "FROM", min: 18},
		column{title: "TAKING", width: 8},
	)}
	v.g.less = func(col, a, b int) bool {
		x, y := v.covers[a], v.covers[b]
		switch v.g.cols[col].title {
		case "NEWEST", "AGE":
			return newestAt(x).After(newestAt(y))
		case "SIZE":
			return x.Volume.SizeGiB < y.Volume.SizeGiB
		}
		return textLess(v.g.cells(a)[col], v.g.cells(b)[col])
	}
	return v
}

func newestAt(c inventory.VolumeCover) time.Time {
	if c.Newest == nil {
		return time.Time{}
	}
	return c.Newest.Started
}

func (v *volumesView) title() string   { return "Volumes" }
func (v *volumesView) command() string { return "volumes" }
func (v *volumesView) keys(e *env) []key.Binding {
	if v.open != nil {
		return []key.Binding{e.keys.Back, e.keys.Up, e.keys.Down, e.keys.PageDown}
	}
	return []key.Binding{e.keys.Enter, e.keys.Refresh, e.keys.Sort}
}
func (v *volumesView) activate(e *env) tea.Cmd { v.build(e); return v.freshen(e) }
func (v *volumesView) freshen(e *env) tea.Cmd  { return e.need(volumesParts...) }
func (v *volumesView) refresh(e *env) tea.Cmd {
	return tea.Batch(e.reload(partVolumes), e.reload(partPoints))
}
func (v *volumesView) back(*env) (tea.Cmd, bool) {
	if v.open != nil {
		v.open = nil
		return nil, true
	}
	return nil, false
}
func (v *volumesView) capturing() bool   { return false }
func (v *volumesView) filterGrid() *grid { return v.g }

func (v *volumesView) update(e *env, msg tea.Msg) tea.Cmd {
	if m, ok := msg.(estateMsg); ok && (m.part == partVolumes || m.part == partPoints) {
		v.build(e)
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		if v.open != nil {
			if !v.open.key(e, k) {
				v.open = nil
			}
			return nil
		}
		if i := v.g.selected(); key.Matches(k, e.keys.Enter) && i >= 0 && i < len(v.covers) {
			v.open = volumePager(v.covers[i])
			return nil
		}
	}
	listKeys(e, v.g, msg)
	return nil
}

// volumeState is a volume's RPO cell: its newest snapshot against its
// objective.
type volumeState int

const (
	volWithin volumeState = iota
	volOver
	volNone
	volUnknown // the snapshots could not be read
	// volUnrated is a volume no estate file or tag gives a role: whether it
	// needs snapshots at all is the operator's call, so it is neither
	// within nor over an objective.
	volUnrated
)

func (e *env) volumeState(c inventory.VolumeCover, cl classed) volumeState {
	switch {
	case cl.Source == estate.FromUnclassified:
		return volUnrated
	case e.snapshotsUnread():
		if c.Newest == nil {
			return volUnknown
		}
	case c.Newest == nil:
		return volNone
	}
	if e.now().Sub(c.Newest.Started) > e.rpoOf(cl.Class) {
		return volOver
	}
	return volWithin
}

// snapshotsUnread reports that the volumes loaded but their snapshots did
// not, so "no snapshot" would be a guess.
func (e *env) snapshotsUnread() bool {
	for _, le := range e.est.errs[partVolumes] {
		if le.op == opSnapshots {
			return true
		}
	}
	return false
}

func (v *volumesView) build(e *env) {
	covers := inventory.CoverVolumes(e.est.volumes, e.est.snapshots, e.est.points)
	cls := func(c inventory.VolumeCover) classed { return e.volumeClass(c.Volume) }
	v.covers = byRank(covers, cls, func(c inventory.VolumeCover) string { return volumeLabel(c.Volume) })
	v.class = make([]classed, len(v.covers))
	for i, c := range v.covers {
		v.class[i] = cls(c)
	}
	covers, class := v.covers, v.class
	v.g.setSourceByID(len(covers), func(i int) []string {
		c, cl := covers[i], class[i]
		newest, ago, from := "—", "", ""
		if c.Newest != nil {
			newest, ago, from = stamp(c.Newest.Started), age(e.now().Sub(c.Newest.Started)), snapshotFrom(*c.Newest)
		}
		taking := ""
		if len(c.InProgress) > 0 {
			taking = "◌ " + c.InProgress[0].Progress
			if n := len(c.InProgress); n > 1 {
				taking += fmt.Sprintf(" +%d", n-1)
			}
		}
		return []string{rpoCell(e.volumeState(c, cl)), volumeLabel(c.Volume), roleLabel(cl),
			fmt.Sprintf("%dG", c.Volume.SizeGiB), newest, ago, from, taking}
	}, func(i int) string { return covers[i].Volume.ID })
}

func rpoCell(s volumeState) string {
	switch s {
	case volOver:
		return "✖ OVER"
	case volNone:
		return "✖ NONE"
	case volUnknown:
		return "? unread"
	case volUnrated:
		return "· no role"
	}
	return "✔ within"
}

// volumeLabel names a volume by its Name tag and id.
func volumeLabel(v inventory.Volume) string {
	if v.Name == "" {
		return v.ID
	}
	return v.Name + " (" + v.ID + ")"
}

// snapshotFrom says who took a snapshot: AWS Backup into a vault, or a
// plain EBS snapshot.
func snapshotFrom(s inventory.Snapshot) string {
	if s.Vault != "" {
		return "vault " + s.Vault
	}
	return "EBS snapshot"
}

// volumeCounts are the figures the Overview shows for volumes.
type volumeCounts struct {
	total, within, over, none, unclassified, taking int
}

func (e *env) countVolumes() volumeCounts {
	var n volumeCounts
	for _, c := range inventory.CoverVolumes(e.est.volumes, e.est.snapshots, e.est.points) {
		cl := e.volumeClass(c.Volume)
		n.total++
		if cl.Source == estate.FromUnclassified {
			n.unclassified++
		}
		n.taking += len(c.InProgress)
		switch e.volumeState(c, cl) {
		case volWithin:
			n.within++
		case volOver:
			n.over++
		case volNone:
			n.none++
		}
	}
	return n
}

// volumePager is one volume in full.
func volumePager(c inventory.VolumeCover) *pager {
	vol := c.Volume
	p := &pager{title: "Volume " + vol.ID}
	add := func(f string, a ...any) { p.text = append(p.text, fmt.Sprintf(f, a...)) }
	name := vol.Name
	if name == "" {
		name = "(no Name tag)"
	}
	add("name %s  %s  %s  %d GiB  %s  created %s", name, vol.Zone, vol.Type, vol.SizeGiB, vol.State, vol.Created.UTC().Format(time.RFC3339))
	if len(vol.Attached) > 0 {
		add("attached to %s", strings.Join(vol.Attached, ", "))
	}
	for _, k := range sortedKeys(vol.Tags) {
		add("tag %s = %s", k, vol.Tags[k])
	}
	add("")
	if n := c.Newest; n != nil {
		from := "a plain EBS snapshot"
		if n.Vault != "" {
			from = "AWS Backup, vault " + n.Vault
		}
		add("newest completed snapshot %s, started %s, %s", n.ID, n.Started.UTC().Format(time.RFC3339), from)
		if n.Description != "" {
			add("  %s", n.Description)
		}
	} else {
		add("no completed snapshot")
	}
	for _, s := range c.InProgress {
		add("in progress %s  %s  started %s", s.ID, s.Progress, s.Started.UTC().Format(time.RFC3339))
	}
	return p
}

func (v *volumesView) render(e *env, w, h int) string {
	if v.open != nil {
		return v.open.render(e, w, h)
	}
	st := &e.st
	var b strings.Builder
	b.WriteString(st.title.Render("EBS volumes") + " in " + e.opts.PrimaryRegion + "  " + asOf(e, volumesParts...) + "  objective " + age(e.opts.RPOObjective) +
		" (a volume's " + estate.TagRPO + " tag or estate tier wins)  " + v.g.position() + "  " + filterNote(v.g) + "\n")
	if n := partNote(e, partVolumes); n != "" {
		return b.String() + n
	}
	used := 1
	var notes []string
	if n := failNote(e, partVolumes); n != "" {
		notes = append(notes, n)
	}
	if n := unclassified(v.covers, func(c inventory.VolumeCover) classed { return e.volumeClass(c.Volume) }); n > 0 {
		notes = append(notes, st.warn.Render(fmt.Sprintf("  ? %d %s unclassified: %s", n, plural(n, "volume", "volumes"), estate.Hint(estate.KindVolume))))
	}
	var pending []inventory.Snapshot
	for _, c := range v.covers {
		pending = append(pending, c.InProgress...)
	}
	tail := 0
	if len(pending) > 0 {
		tail = 1 + min(len(pending), 3)
	}
	gh := max(h-used-len(notes)-tail, 2)
	if len(v.covers) == 0 {
		b.WriteString(st.dim.Render("  no EBS volumes in "+e.opts.PrimaryRegion) + "\n")
	} else {
		b.WriteString(v.g.view(st, w, gh) + "\n")
	}
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	if len(pending) > 0 {
		b.WriteString(st.title.Render("Snapshots in progress") + "\n")
		for i, s := range pending {
			if i == 3 {
				break
			}
			line := fmt.Sprintf("  ◌ %s  %s  %s  started %s", s.ID, s.VolumeID, cell(s.Progress, 4, true), stamp(s.Started))
			if s.Vault != "" {
				line += "  vault " + s.Vault
			}
			b.WriteString(cell(line, w, false) + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
