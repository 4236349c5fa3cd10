package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// replicationView shows per rule lag and pending operations/bytes as
// sparklines over the last hours, and the objects FAILED or long PENDING.
type replicationView struct {
	stuck *grid
}

func newReplication() *replicationView {
	return &replicationView{stuck: newGrid(
		column{title: "STATUS", width: 10},
		column{title: "KEY", min: 20},
		column{title: "WRITTEN", width: 16},
		column{title: "VERSION", width: 14},
	)}
}

func (v *replicationView) title() string   { return "Replication" }
func (v *replicationView) command() string { return "replication" }
func (v *replicationView) keys(e *env) []key.Binding {
	return []key.Binding{e.keys.Refresh, e.keys.Sort}
}
func (v *replicationView) activate(e *env) tea.Cmd   { v.build(e); return v.freshen(e) }
func (v *replicationView) freshen(e *env) tea.Cmd    { return e.need(partReplication) }
func (v *replicationView) refresh(e *env) tea.Cmd    { return e.reload(partReplication) }
func (v *replicationView) filterGrid() *grid         { return v.stuck }
func (v *replicationView) back(*env) (tea.Cmd, bool) { return nil, false }
func (v *replicationView) capturing() bool           { return false }

func (v *replicationView) build(e *env) {
	s := e.est.stuck
	v.stuck.setSourceByID(len(s), func(i int) []string {
		o := s[i]
		st := "✖ " + o.Status
		if o.Status == "PENDING" {
			st = "◌ " + o.Status
		}
		return []string{st, o.Key, stamp(o.LastModified), o.VersionID}
	}, func(i int) string { return s[i].Key + "\x00" + s[i].VersionID })
}

func (v *replicationView) update(e *env, msg tea.Msg) tea.Cmd {
	if m, ok := msg.(estateMsg); ok && m.part == partReplication {
		v.build(e)
		return nil
	}
	listKeys(e, v.stuck, msg)
	return nil
}

func (v *replicationView) render(e *env, w, h int) string {
	st := &e.st
	var b strings.Builder
	fmt.Fprintf(&b, "%s  last %s, %s resolution  %s\n", st.title.Render("Replication"), age(replicationWindow), age(replicationPeriod), asOf(e, partReplication))
	if n := partNote(e, partReplication); n != "" {
		return b.String() + n
	}
	used := 1
	if n := failNote(e, partReplication); n != "" {
		b.WriteString(n + "\n")
		used++
	}
	if len(e.est.replication) == 0 {
		b.WriteString(st.dim.Render("  no bucket in "+e.opts.PrimaryRegion+" has replication rules") + "\n")
	}
	spark := max(w-34, 10)
	for _, r := range e.est.replication {
		state := st.ok.Render("✔ " + r.Rule.Status)
		if r.Rule.Status != "Enabled" {
			state = st.warn.Render("! " + r.Rule.Status)
		}
		prefix := r.Rule.Prefix
		if prefix == "" {
			prefix = "(all)"
		}
		fmt.Fprintf(&b, "%s rule %s  %s → %s  prefix %s\n", state, r.Rule.ID, r.Rule.Bucket, r.Rule.DestinationBucket, prefix)
		if e.est.seriesMissing(r.Rule) {
			fmt.Fprintf(&b, "  %s\n", st.warn.Render("! lag, pending and failed operations not read (press "+e.keys.Errors.Help().Key+")"))
			used += 2
			continue
		}
		from, to := e.now().Add(-replicationWindow), e.now()
		fmt.Fprintf(&b, "  %-13s %10s %s\n", "lag", age(secs(r.Latency.Last())), timeSpark(r.Latency, from, to, spark))
		fmt.Fprintf(&b, "  %-13s %10s %s\n", "pending ops", count(int(r.OpsPending.Last())), timeSpark(r.OpsPending, from, to, spark))
		fmt.Fprintf(&b, "  %-13s %10s %s\n", "pending bytes", bytes(int64(r.BytesPending.Last())), timeSpark(r.BytesPending, from, to, spark))
		failed := r.OpsFailed.Max()
		mark := st.ok.Render("✔ none")
		if failed > 0 {
			mark = st.bad.Render(fmt.Sprintf("✖ %s", count(int(failed))))
		}
		fmt.Fprintf(&b, "  %-13s %10s\n", "failed ops", mark)
		used += 5
	}
	fmt.Fprintf(&b, "%s  %s\n", st.title.Render("Objects FAILED or PENDING > "+age(stuckPending)),
		fmt.Sprintf("(sample of %d current objects per rule) %s", stuckSample, filterNote(v.stuck)))
	used++
	if len(e.est.stuck) == 0 {
		b.WriteString(st.ok.Render("  ✔ none") + "\n")
		return b.String()
	}
	return b.String() + v.stuck.view(st, w, max(h-used, 2))
}
