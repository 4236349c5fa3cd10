package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/inventory"
)

// pointsView shows recovery points by resource (RPO per resource) or by
// vault, and the points of one resource or vault.
type pointsView struct {
	byVault   bool
	top       *grid // resources
	vaultGrid *grid
	res       []inventory.ResourceRPO
	vaults    []inventory.Vault

	open   string // the resource ARN or vault name opened; "" at the top
	pts    *grid
	shown  []inventory.RecoveryPoint
	asking bool   // typing the time for "nearest before"
	when   string // what is typed
	// found is the last "nearest before" answer: enter restores it.
	found *inventory.RecoveryPoint
}

func newPoints() *pointsView {
	v := &pointsView{}
	v.top = newGrid(
		column{title: "RPO", width: 10},
		column{title: "RESOURCE", min: 12},
		column{title: "TYPE", width: 6},
		column{title: "NEWEST", width: 16},
		column{title: "AGE", width: 7, right: true},
		column{title: "POINTS", width: 6, right: true},
	)
	v.pts = newGrid(
		column{title: "CREATED", width: 16},
		column{title: "AGE", width: 7, right: true},
		column{title: "STATUS", width: 11},
		column{title: "SIZE", width: 10, right: true},
		column{title: "COLD", width: 10},
		column{title: "EXPIRES", width: 10},
		column{title: "RESOURCE", min: 8},
	)
	v.top.less = func(col, a, b int) bool {
		x, y := v.res[a], v.res[b]
		switch v.top.cols[col].title {
		case "NEWEST", "AGE":
			return x.Age < y.Age
		}
		return textLess(v.top.cells(a)[col], v.top.cells(b)[col])
	}
	v.pts.less = func(col, a, b int) bool {
		x, y := v.shown[a], v.shown[b]
		switch v.pts.cols[col].title {
		case "CREATED":
			return x.Created.Before(y.Created)
		case "AGE":
			return x.Created.After(y.Created)
		case "SIZE":
			return x.Size < y.Size
		}
		return textLess(v.pts.cells(a)[col], v.pts.cells(b)[col])
	}
	v.vaultGrid = newGrid(
		column{title: "VAULT", width: 20},
		column{title: "POINTS", width: 6, right: true},
		column{title: "ARN", min: 20},
	)
	return v
}

// list is the top-level grid shown: resources or vaults.
func (v *pointsView) list() *grid {
	if v.byVault {
		return v.vaultGrid
	}
	return v.top
}

func (v *pointsView) title() string   { return "Points" }
func (v *pointsView) command() string { return "points" }
func (v *pointsView) keys(e *env) []key.Binding {
	return []key.Binding{e.keys.Enter, e.keys.Back, e.keys.Group, e.keys.Restore, e.keys.Sort}
}
func (v *pointsView) activate(e *env) tea.Cmd { v.build(e); return v.freshen(e) }
func (v *pointsView) freshen(e *env) tea.Cmd  { return e.need(partPoints) }
func (v *pointsView) refresh(e *env) tea.Cmd  { return e.reload(partPoints) }
func (v *pointsView) capturing() bool         { return v.asking }

func (v *pointsView) filterGrid() *grid {
	if v.open != "" {
		return v.pts
	}
	return v.list()
}

func (v *pointsView) back(e *env) (tea.Cmd, bool) {
	if v.open == "" {
		return nil, false
	}
	v.open, v.asking, v.found = "", false, nil
	return nil, true
}

// build recomputes the rows from the estate.
func (v *pointsView) build(e *env) {
	now := e.now()
	obj := e.opts.RPOObjective
	res, vaults := inventory.ByResource(e.est.points, now), e.est.vaults
	v.res, v.vaults = res, vaults
	v.vaultGrid.setSourceByID(len(vaults), func(i int) []string {
		x := vaults[i]
		return []string{x.Name, fmt.Sprint(x.Points), x.ARN}
	}, func(i int) string { return vaults[i].Name })
	{
		v.top.setSourceByID(len(res), func(i int) []string {
			r := res[i]
			state := "✔ within"
			switch {
			case r.Newest.Created.IsZero():
				state = "✖ NONE"
			case r.Age > obj:
				state = "✖ OVER"
			}
			newest, ageS := "-", "-"
			if !r.Newest.Created.IsZero() {
				newest, ageS = stamp(r.Newest.Created), age(r.Age)
			}
			return []string{state, resourceLabel(r.ResourceName, r.ResourceARN), shortType(r.ResourceType), newest, ageS, fmt.Sprint(r.Points)}
		}, func(i int) string { return res[i].ResourceARN })
	}
	if v.open != "" {
		v.openRows(e)
	}
}

func (v *pointsView) openRows(e *env) {
	// A new slice: the grid asks the old rows for the id under its
	// cursor.
	var shown []inventory.RecoveryPoint
	for _, p := range e.est.points {
		if (v.byVault && p.Vault == v.open) || (!v.byVault && p.ResourceARN == v.open) {
			shown = append(shown, p)
		}
	}
	v.shown = shown
	now := e.now()
	v.pts.setSourceByID(len(shown), func(i int) []string {
		p := shown[i]
		cold, del := "-", "-"
		if !p.ColdAt.IsZero() {
			cold = p.ColdAt.UTC().Format("2006-01-02")
		}
		if !p.DeleteAt.IsZero() {
			del = p.DeleteAt.UTC().Format("2006-01-02")
		}
		return []string{stamp(p.Created), age(now.Sub(p.Created)), pointStatus(p.Status), bytes(p.Size),
			cold, del, resourceLabel(p.ResourceName, p.ResourceARN)}
	}, func(i int) string { return shown[i].ARN })
}

func pointStatus(s string) string {
	switch s {
	case "COMPLETED":
		return "✔ " + s
	case "PARTIAL", "EXPIRED", "DELETING":
		return "! " + s
	}
	return "· " + s
}

func (v *pointsView) update(e *env, msg tea.Msg) tea.Cmd {
	if m, ok := msg.(estateMsg); ok && m.part == partPoints {
		v.build(e)
		return nil
	}
	if p, ok := msg.(tea.PasteMsg); ok && v.asking {
		v.when += strings.TrimSpace(p.Content)
		return nil
	}
	k, isKey := msg.(tea.KeyPressMsg)
	if v.asking && isKey {
		return v.askKey(e, k)
	}
	g := v.list()
	if v.open != "" {
		g = v.pts
	}
	if listKeys(e, g, msg) || !isKey {
		return nil
	}
	switch {
	case key.Matches(k, e.keys.Enter) && v.open != "":
		// The point R found, else the one under the cursor (a vault's
		// points have no "nearest before").
		if p := v.found; p != nil {
			v.found = nil
			return askRestore(e, *p)
		}
		i := v.pts.selected()
		if i < 0 {
			return nil
		}
		// The statuses AWS Backup restores from.
		switch p := v.shown[i]; p.Status {
		case "COMPLETED", "AVAILABLE", "STOPPED":
			return askRestore(e, p)
		}
		return status("a "+v.shown[i].Status+" recovery point cannot be restored: choose a COMPLETED one", true)
	case key.Matches(k, e.keys.Enter) && v.open == "":
		i := v.list().selected()
		if i < 0 {
			return nil
		}
		if v.byVault {
			v.open = v.vaults[i].Name
		} else {
			v.open = v.res[i].ResourceARN
		}
		v.pts.top()
		v.openRows(e)
	case key.Matches(k, e.keys.Group):
		v.byVault, v.open = !v.byVault, ""
		v.list().top()
		v.build(e)
	case key.Matches(k, e.keys.Restore):
		if v.open == "" || v.byVault {
			i := v.list().selected()
			if i < 0 || v.byVault {
				return status("open a resource first (enter), then R finds its point nearest before a time", true)
			}
			v.open = v.res[i].ResourceARN
			v.openRows(e)
		}
		v.asking, v.when = true, e.now().UTC().Format(time.RFC3339)
	}
	return nil
}

// askKey edits the "nearest before" time and, on enter, moves to the
// point a restore to that time would use.
func (v *pointsView) askKey(e *env, k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		v.asking = false
	case "backspace", "ctrl+h":
		if r := []rune(v.when); len(r) > 0 {
			v.when = string(r[:len(r)-1])
		}
	case "ctrl+u":
		v.when = ""
	case "enter":
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(v.when))
		if err != nil {
			return status(fmt.Sprintf("%q is not an RFC 3339 time with a zone (e.g. 2026-11-20T08:00:00Z)", v.when), true)
		}
		v.asking = false
		p, ok := inventory.NearestBefore(v.shown, v.open, t)
		if !ok {
			return status("no COMPLETED point at or before "+t.UTC().Format(time.RFC3339), true)
		}
		for pos := 0; pos < v.pts.len(); pos++ {
			if v.shown[v.pts.at(pos)].ARN == p.ARN {
				v.pts.cursor = pos
			}
		}
		v.found = &p
		return status(fmt.Sprintf("nearest before %s: %s (%s, %s earlier) in vault %s; enter restores it into a new resource",
			t.UTC().Format(time.RFC3339), stamp(p.Created), p.Status, age(t.Sub(p.Created)), p.Vault), false)
	default:
		v.when += k.Text
	}
	return nil
}

func (v *pointsView) render(e *env, w, h int) string {
	st := &e.st
	if v.open == "" {
		// The explanation comes last, so a narrow screen cuts it before
		// the position, the age or the filter.
		what, why := "by resource", st.dim.Render("(newest COMPLETED point, oldest first)")
		if v.byVault {
			what, why = "by vault", ""
		}
		var parts []string
		for _, s := range []string{st.title.Render("Recovery points") + " " + what, v.list().position(), asOf(e, partPoints), filterNote(v.list()), why} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		head := strings.Join(parts, "  ")
		if n := partNote(e, partPoints); n != "" {
			return head + "\n" + n
		}
		if n := failNote(e, partPoints); n != "" {
			return head + "\n" + n + "\n" + v.list().view(st, w, h-2)
		}
		return head + "\n" + v.list().view(st, w, h-1)
	}
	head := st.title.Render(resourceLabel("", v.open)) + "  " + v.pts.position() + "  " + asOf(e, partPoints) + "  " + filterNote(v.pts)
	if n := failNote(e, partPoints); n != "" {
		head += "\n" + n
		h--
	}
	if v.asking {
		head += "\nnearest COMPLETED point at or before (RFC 3339): " + v.when + "█"
		return head + "\n" + v.pts.view(st, w, h-2)
	}
	return head + "\n" + v.pts.view(st, w, h-1)
}

// restoreRunbookText is the runbook the console runs to restore a
// recovery point: one backup_restore step given the point, its vault, its
// region and its resource type, so a point in any vault restores from
// that vault. confirm puts the step behind its own gate, which shows the
// planned restore; the token is the step's name. Values come in as
// variables, so no ARN needs quoting in HCL.
const restoreRunbookText = `runbook {
  description = "Restore an AWS Backup recovery point into a new resource (from the console)"
}

variable "region" {
  type = string
}

variable "vault" {
  type = string
}

variable "recovery_point_arn" {
  type = string
}

variable "resource_type" {
  type = string
}

step "backup_restore" "restore" {
  region             = var.region
  vault              = var.vault
  recovery_point_arn = var.recovery_point_arn
  resource_type      = var.resource_type
  confirm            = true
}
`

// askRestore starts the restore of p, unless the console cannot run it.
func askRestore(e *env, p inventory.RecoveryPoint) tea.Cmd {
	switch {
	case e.opts.ReadOnly:
		return status("read-only console: restore is disabled", true)
	case e.opts.Runs == nil:
		return status("restore runs through the engine, which is not configured here", true)
	}
	return restoreRun(e, p)
}

// restoreRun writes the restore runbook into the state directory (so the
// run can be resumed like any other) and asks the root to run it through
// the engine and show it, as a roll back does. The points were read in
// the primary region, so that is the vault's region.
func restoreRun(e *env, p inventory.RecoveryPoint) tea.Cmd {
	vars := []string{"region=" + e.opts.PrimaryRegion, "vault=" + p.Vault, "recovery_point_arn=" + p.ARN, "resource_type=" + p.ResourceType}
	return generatedRun(e, "restore", "console-restore.hcl", restoreRunbookText, vars)
}
