package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/inventory"
)

// fleetView shows the DR auto-scaling groups, the instances of the group
// under the cursor, and every alarm with its state.
type fleetView struct {
	groups *grid
	shown  []inventory.Group // the groups in the grid's source order
	alarms *grid
	focus  int // 0: groups, 1: alarms
}

func newFleet() *fleetView {
	return &fleetView{
		groups: newGrid(
			column{title: "STATE", width: 8},
			column{title: "GROUP", min: 16},
			column{title: "ROLE", width: 14},
			column{title: "REGION", width: 9},
			column{title: "MIN", width: 3, right: true},
			column{title: "DES", width: 3, right: true},
			column{title: "MAX", width: 3, right: true},
			column{title: "UP", width: 3, right: true},
			column{title: "PEND", width: 4, right: true},
		),
		alarms: newGrid(
			column{title: "STATE", width: 10},
			column{title: "ALARM", min: 18},
			column{title: "KIND", width: 9},
			column{title: "REGION", width: 9},
			column{title: "SINCE", width: 16},
		),
	}
}

var fleetParts = []part{partFleet, partAlarms}

func (v *fleetView) title() string   { return "Fleet" }
func (v *fleetView) command() string { return "fleet" }
func (v *fleetView) keys(e *env) []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "groups/alarms")), e.keys.Refresh, e.keys.Sort}
}
func (v *fleetView) activate(e *env) tea.Cmd { v.build(e); return v.freshen(e) }
func (v *fleetView) freshen(e *env) tea.Cmd  { return e.need(fleetParts...) }
func (v *fleetView) refresh(e *env) tea.Cmd {
	return tea.Batch(e.reload(partFleet), e.reload(partAlarms))
}
func (v *fleetView) back(*env) (tea.Cmd, bool) { return nil, false }
func (v *fleetView) capturing() bool           { return false }
func (v *fleetView) filterGrid() *grid {
	if v.focus == 0 {
		return v.groups
	}
	return v.alarms
}

// build lists the DR fleet first: a group in the DR region is DR capacity
// only when the estate file or its tag says so.
func (v *fleetView) build(e *env) {
	v.shown = byRank(e.est.groups, e.groupClass, func(g inventory.Group) string { return g.Name })
	gs, as := v.shown, e.est.alarms
	v.groups.setSourceByID(len(gs), func(i int) []string {
		g := gs[i]
		return []string{ansiStrip(fleetState(&e.st, g)), g.Name, roleLabel(e.groupClass(g)), g.Region, fmt.Sprint(g.Min), fmt.Sprint(g.Desired),
			fmt.Sprint(g.Max), fmt.Sprint(g.InService), fmt.Sprint(g.Pending)}
	}, func(i int) string { return gs[i].Region + "/" + gs[i].Name })
	v.alarms.setSourceByID(len(as), func(i int) []string {
		a := as[i]
		kind := "metric"
		if a.Composite {
			kind = "composite"
		}
		return []string{alarmState(a.State), a.Name, kind, a.Region, stamp(a.Updated)}
	}, func(i int) string { return as[i].Region + "/" + as[i].Name })
}

func (v *fleetView) update(e *env, msg tea.Msg) tea.Cmd {
	if m, ok := msg.(estateMsg); ok && (m.part == partFleet || m.part == partAlarms) {
		v.build(e)
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "left", "h":
			v.focus = 0
			return nil
		case "right", "l":
			v.focus = 1
			return nil
		}
	}
	if v.focus == 0 {
		listKeys(e, v.groups, msg)
	} else {
		listKeys(e, v.alarms, msg)
	}
	return nil
}

func (v *fleetView) render(e *env, w, h int) string {
	st := &e.st
	var b strings.Builder
	mark := func(i int) string {
		if v.focus == i {
			return "▸ "
		}
		return "  "
	}
	gh := max(min(len(v.shown)+1, h/4), 2)
	b.WriteString(mark(0) + st.title.Render("Auto-scaling groups") + " in " + e.opts.DRRegion + ", DR fleet first  " + asOf(e, partFleet) + "  " + filterNote(v.groups) + "\n")
	if n := partNote(e, partFleet); n != "" {
		b.WriteString(n + "\n")
	} else {
		b.WriteString(v.groups.view(st, w, gh) + "\n")
		if n := unclassified(v.shown, e.groupClass); n > 0 {
			b.WriteString(st.warn.Render(fmt.Sprintf("  ? %d %s unclassified: %s", n, plural(n, "group", "groups"), estate.Hint(estate.KindGroup))) + "\n")
		}
	}
	var inst []inventory.Instance
	name := ""
	if i := v.groups.selected(); i >= 0 && i < len(v.shown) {
		inst, name = v.shown[i].Instances, v.shown[i].Name
	}
	ih := max(min(len(inst), h/4), 1)
	fmt.Fprintf(&b, "  %s %s\n", st.title.Render("Instances"), name)
	if len(inst) == 0 {
		b.WriteString(st.dim.Render("  no instances") + "\n")
	}
	for i, in := range inst {
		if i >= ih {
			fmt.Fprintf(&b, "  … %d more\n", len(inst)-i)
			break
		}
		fmt.Fprintf(&b, "  %s %-20s %-12s %-11s %s\n", instanceGlyph(in), in.ID, in.Zone, in.Type, in.Health)
	}
	used := strings.Count(b.String(), "\n")
	b.WriteString(mark(1) + st.title.Render("Alarms") + "  " + asOf(e, partAlarms) + "  " + filterNote(v.alarms) + "\n")
	if n := partNote(e, partAlarms); n != "" {
		return b.String() + n
	}
	if n := failNote(e, partAlarms); n != "" {
		b.WriteString(n + "\n")
		used++
	}
	return b.String() + v.alarms.view(st, w, max(h-used-1, 2))
}

func instanceGlyph(in inventory.Instance) string {
	switch {
	case in.State == "InService" && in.Health != "Unhealthy":
		return "● InService  "
	case strings.HasPrefix(in.State, "Pending"):
		return "◌ " + cell(in.State, 11, false)
	}
	return "○ " + cell(in.State, 11, false)
}
