package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/inventory"
)

// modelsView browses model buckets and prefixes and shows a key's (or a
// prefix's) version timeline: the time axis, the current version, delete
// markers, sizes and user metadata; it compares two versions and rolls
// back to one.
type modelsView struct {
	level   int // 0 buckets, 1 a prefix listing, 2 a timeline
	buckets *grid
	shown   []inventory.Bucket // the buckets in the grid's source order
	bucket  string

	prefix  string
	entries []inventory.Entry
	list    *grid
	listGen int
	listing bool
	// renewing: the listing in flight reads the shown prefix again,
	// which stays on screen, cursor and all, until it answers.
	renewing bool
	// listAt is when the shown listing came; listEpoch env.changes when
	// it was asked for (env.stale).
	listAt    time.Time
	listEpoch int
	asked     int // env.changes when the listing in flight was asked for

	tl *timeline
}

// timeline is a streamed version history.
type timeline struct {
	bucket, prefix string
	exact          bool // prefix is one key: drop longer keys that share it
	versions       []inventory.Version
	g              *grid
	gen            int
	streaming      bool
	pages          int
	details        map[string]inventory.VersionDetail // by version id
	pending        map[string]bool
	mark           string // version id marked for compare
	compare        bool
	// full shows the detail (or comparison) alone, the whole width,
	// scrolled in detail: enter opens it, esc closes it.
	full   bool
	detail scroller
	settle int // cursor moves, to fetch details once the cursor rests

	// at is when the versions shown came (the first page); epoch is
	// env.changes when they were asked for (env.stale).
	at    time.Time
	epoch int
	// A refresh reads the history again in the background while the
	// versions shown stay, with the cursor, mark and comparison; fresh
	// gathers its pages and replaces versions once the last has come.
	// renewGen tells its pages from an abandoned refresh's.
	renewing   bool
	renewGen   int
	fresh      []inventory.Version
	freshAt    time.Time
	freshEpoch int
	now        time.Time // the rows' ages are reckoned from it

	// The axis is drawn from every loaded version: it is cached and
	// redrawn only when versions arrive or the width changes.
	axisN, axisW int
	axisAt       time.Time // the minute the axis was drawn at
	axisLine     string
	oldest       time.Time
}

// pageSize is how many entries each ListObjectVersions page asks for.
const pageSize = 1000

func newModels() *modelsView {
	return &modelsView{
		buckets: newGrid(
			column{title: "BUCKET", min: 20},
			column{title: "ROLE", min: 16},
			column{title: "REGION", width: 10},
			column{title: "VERSIONING", width: 12},
			column{title: "CREATED", width: 16},
		),
		list: newGrid(
			column{title: "NAME", min: 20},
			column{title: "SIZE", width: 10, right: true},
			column{title: "MODIFIED", width: 16},
		),
	}
}

func (v *modelsView) title() string   { return "Models" }
func (v *modelsView) command() string { return "models" }
func (v *modelsView) keys(e *env) []key.Binding {
	switch v.level {
	case 2:
		return []key.Binding{e.keys.Compare, e.keys.Rollback, e.keys.Back, e.keys.Top, e.keys.Bottom}
	case 1:
		return []key.Binding{e.keys.Enter, e.keys.Timeline, e.keys.Back, e.keys.Sort}
	}
	return []key.Binding{e.keys.Enter, e.keys.Timeline, e.keys.Sort, e.keys.Refresh}
}

func (v *modelsView) helpKeys(e *env) []key.Binding {
	return []key.Binding{e.keys.Enter, e.keys.Timeline, e.keys.Compare, e.keys.Rollback, e.keys.Back, e.keys.Sort, e.keys.Refresh}
}

func (v *modelsView) activate(e *env) tea.Cmd { v.build(e); return v.freshen(e) }
func (v *modelsView) capturing() bool         { return false }
func (v *modelsView) busy() bool {
	return v.listing || (v.tl != nil && (v.tl.streaming || v.tl.renewing) && v.level == 2)
}

// freshen reads again what the level shown holds, when it is stale.
func (v *modelsView) freshen(e *env) tea.Cmd {
	switch v.level {
	case 1:
		switch {
		case v.listing && v.asked < e.changes:
			return v.readList(e) // asked before the run ended: again
		case !v.listing && e.stale(v.listEpoch, v.listAt):
			return v.renewList(e)
		}
		return nil
	case 2:
		tl := v.tl
		switch {
		case tl.streaming && tl.epoch < e.changes:
			return v.openTimeline(e, tl.prefix, tl.exact)
		case tl.renewing && tl.freshEpoch < e.changes,
			!tl.streaming && !tl.renewing && e.stale(tl.epoch, tl.at):
			return v.renewTimeline(e)
		}
		return nil
	}
	return e.need(partBuckets)
}

// refresh reads the level shown again, keeping the cursor on the same
// bucket, entry or version, and the timeline's mark and comparison. A
// read already in flight is left to finish.
func (v *modelsView) refresh(e *env) tea.Cmd {
	switch v.level {
	case 1:
		if v.listing {
			return nil
		}
		return v.renewList(e)
	case 2:
		if v.tl.streaming || v.tl.renewing {
			return nil
		}
		return v.renewTimeline(e)
	}
	return e.reload(partBuckets)
}

func (v *modelsView) filterGrid() *grid {
	switch v.level {
	case 0:
		return v.buckets
	case 1:
		return v.list
	case 2:
		return v.tl.g
	}
	return nil
}

func (v *modelsView) back(e *env) (tea.Cmd, bool) {
	switch v.level {
	case 2:
		if v.tl.full {
			v.tl.full = false // back to the timeline
			return nil, true
		}
		v.tl.gen++ // answers still in flight are dropped
		v.tl.streaming, v.tl.renewing = false, false
		if v.entries == nil {
			v.level = 0 // the timeline was opened from the bucket list
			return v.freshen(e), true
		}
		v.level = 1
		return v.freshen(e), true
	case 1:
		if v.prefix == "" {
			v.level = 0
			return v.freshen(e), true
		}
		parent := strings.TrimSuffix(v.prefix, "/")
		if i := strings.LastIndex(parent, "/"); i >= 0 {
			parent = parent[:i+1]
		} else {
			parent = ""
		}
		return v.openPrefix(e, parent), true
	}
	return nil, false
}

// build lists the buckets model storage first, each with its role: a
// bucket neither the estate file nor a tag classifies is still listed,
// marked, and an unversioned one is never shown as protected.
func (v *modelsView) build(e *env) {
	v.shown = byRank(e.est.buckets, e.bucketClass, func(b inventory.Bucket) string { return b.Name })
	bs := v.shown
	v.buckets.setSourceByID(len(bs), func(i int) []string {
		b := bs[i]
		ver := "○ off"
		if b.Versioned {
			ver = "✔ enabled"
		}
		return []string{b.Name, roleLabel(e.bucketClass(b)), b.Region, ver, stamp(b.Created)}
	}, func(i int) string { return bs[i].Name })
}

type listMsg struct {
	gen     int
	epoch   int // env.changes when asked for
	entries []inventory.Entry
	err     error
}

type versionsMsg struct {
	gen int
	// renew is the refresh the page belongs to (timeline.renewGen); 0:
	// the timeline's first reading.
	renew  int
	stream *inventory.VersionStream
	page   []inventory.Version
	more   bool
	err    error
}

type detailMsg struct {
	gen    int
	detail inventory.VersionDetail
	id     string
	err    error
}

type settleMsg struct{ gen, settle int }

func (v *modelsView) openPrefix(e *env, prefix string) tea.Cmd {
	v.level, v.prefix = 1, prefix
	v.renewing = false
	return v.readList(e)
}

// renewList reads the prefix shown again; it stays on screen until the
// answer comes.
func (v *modelsView) renewList(e *env) tea.Cmd {
	v.renewing = true
	return v.readList(e)
}

func (v *modelsView) readList(e *env) tea.Cmd {
	v.listGen++
	v.listing = true
	v.asked = e.changes
	gen, epoch, bucket, prefix, o := v.listGen, e.changes, v.bucket, v.prefix, e.opts
	ctx := e.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, o.LoadTimeout)
		defer cancel()
		es, err := inventory.Prefixes(ctx, o.Clients, o.PrimaryRegion, bucket, prefix)
		return listMsg{gen: gen, epoch: epoch, entries: es, err: err}
	}
}

func (v *modelsView) openTimeline(e *env, prefix string, exact bool) tea.Cmd {
	gen := 1
	if v.tl != nil {
		gen = v.tl.gen + 1
	}
	tl := &timeline{bucket: v.bucket, prefix: prefix, exact: exact, gen: gen, streaming: true, epoch: e.changes,
		details: map[string]inventory.VersionDetail{}, pending: map[string]bool{}, now: e.now()}
	cols := []column{
		{title: "", width: 11},
		{title: "WRITTEN", width: 16},
		{title: "AGE", width: 7, right: true},
		{title: "SIZE", width: 9, right: true},
	}
	if !exact {
		cols = append(cols, column{title: "KEY", min: 16})
	}
	cols = append(cols, column{title: "VERSION", min: 12})
	tl.g = newGrid(cols...)
	tl.g.stable = true
	tl.g.less = func(col, a, b int) bool {
		x, y := tl.versions[a], tl.versions[b]
		switch cols[col].title {
		case "WRITTEN":
			return x.LastModified.Before(y.LastModified)
		case "AGE":
			return x.LastModified.After(y.LastModified)
		case "SIZE":
			return x.Size < y.Size
		}
		return textLess(tl.g.cells(a)[col], tl.g.cells(b)[col])
	}
	tl.g.setSource(0, tl.row)
	tl.g.identify(tl.versionKey)
	v.tl, v.level = tl, 2
	return v.nextPage(e, nil, 0)
}

// row is version i's cells, its age reckoned from tl.now.
func (tl *timeline) row(i int) []string {
	x := tl.versions[i]
	mark := "○ version"
	switch {
	case x.DeleteMarker && x.IsLatest:
		mark = "✖ deleted*"
	case x.DeleteMarker:
		mark = "✖ deleted"
	case x.IsLatest:
		mark = "● current"
	}
	size := bytes(x.Size)
	if x.DeleteMarker {
		size = "-"
	}
	row := []string{mark, stamp(x.LastModified), age(tl.now.Sub(x.LastModified)), size}
	if !tl.exact {
		row = append(row, x.Key)
	}
	return append(row, x.VersionID)
}

// versionKey names version i: version ids are unique within a key only
// (every key has a "null" one from before versioning).
func (tl *timeline) versionKey(i int) string {
	return tl.versions[i].Key + "\x00" + tl.versions[i].VersionID
}

// renewTimeline reads the timeline shown again in the background; its
// versions, cursor, mark and comparison stay until the reading is whole.
func (v *modelsView) renewTimeline(e *env) tea.Cmd {
	tl := v.tl
	tl.renewGen++
	tl.renewing, tl.fresh, tl.freshAt, tl.freshEpoch = true, nil, time.Time{}, e.changes
	return v.nextPage(e, nil, tl.renewGen)
}

// adopt shows a refresh's versions once all have come: the cursor stays
// on the version it was on, the mark and comparison stay while the
// marked version exists, and the status line is told when it is gone.
func (v *modelsView) adopt(e *env) tea.Cmd {
	tl := v.tl
	keep, had := tl.g.selectedID()
	tl.versions, tl.fresh, tl.renewing = tl.fresh, nil, false
	tl.at, tl.epoch, tl.now = tl.freshAt, tl.freshEpoch, e.now()
	tl.axisN = -1 // the axis is drawn again
	tl.g.setSource(len(tl.versions), tl.row)
	if had {
		tl.g.seek(keep)
	}
	var cmd tea.Cmd
	if tl.mark != "" && !tl.has(tl.mark) {
		gone := tl.mark
		tl.mark, tl.compare = "", false
		cmd = status("the marked version "+short(gone)+" is no longer in the history: press c on a version to mark it", false)
	}
	return tea.Batch(cmd, v.detail(e))
}

// has reports whether the version id is in the history.
func (tl *timeline) has(id string) bool {
	for _, x := range tl.versions {
		if x.VersionID == id {
			return true
		}
	}
	return false
}

// nextPage reads one page of the stream (opening it first when nil); the
// next page is asked for when this one arrives, so the timeline shows
// from the first page on and input is never blocked.
func (v *modelsView) nextPage(e *env, s *inventory.VersionStream, renew int) tea.Cmd {
	tl := v.tl
	gen, o, ctx := tl.gen, e.opts, e.ctx
	bucket, prefix, exact := tl.bucket, tl.prefix, tl.exact
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, o.LoadTimeout)
		defer cancel()
		if s == nil {
			var err error
			if s, err = inventory.NewVersionStream(ctx, o.Clients, o.PrimaryRegion, bucket, prefix, exact, pageSize); err != nil {
				return versionsMsg{gen: gen, renew: renew, err: err}
			}
		}
		page, more, err := s.Next(ctx)
		return versionsMsg{gen: gen, renew: renew, stream: s, page: page, more: more, err: err}
	}
}

func (v *modelsView) detail(e *env) tea.Cmd {
	tl := v.tl
	i := tl.g.selected()
	if i < 0 {
		return nil
	}
	x := tl.versions[i]
	if _, ok := tl.details[x.VersionID]; ok || tl.pending[x.VersionID] || x.DeleteMarker {
		return nil
	}
	tl.pending[x.VersionID] = true
	return readDetail(e, tl.gen, tl.bucket, x)
}

// readDetail reads the metadata of version x in bucket for the
// timeline of generation gen.
func readDetail(e *env, gen int, bucket string, x inventory.Version) tea.Cmd {
	o, ctx := e.opts, e.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, o.LoadTimeout)
		defer cancel()
		d, err := inventory.Detail(ctx, o.Clients, o.PrimaryRegion, bucket, x.Key, x.VersionID)
		return detailMsg{gen: gen, detail: d, id: x.VersionID, err: err}
	}
}

// settled fetches the selected version's metadata once the cursor rests,
// so holding j over thousands of rows does not fire a request per row.
func (v *modelsView) settled(e *env) tea.Cmd {
	tl := v.tl
	tl.settle++
	if !e.live {
		return v.detail(e)
	}
	gen, n := tl.gen, tl.settle
	return tea.Tick(150*time.Millisecond, func(time.Time) tea.Msg { return settleMsg{gen: gen, settle: n} })
}

func (v *modelsView) update(e *env, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case estateMsg:
		if msg.part == partBuckets {
			v.build(e)
		}
		return nil
	case listMsg:
		if msg.gen != v.listGen {
			return nil
		}
		v.listing = false
		renew := v.renewing
		v.renewing = false
		if msg.err != nil {
			return status(msg.err.Error(), true)
		}
		entries, prefix := msg.entries, v.prefix
		v.entries, v.listAt, v.listEpoch = entries, e.now(), msg.epoch
		if !renew {
			// Another prefix: start at its top.
			v.list.cursor = 0
			v.list.identify(nil)
		}
		v.list.setSourceByID(len(entries), func(i int) []string {
			x := entries[i]
			name := strings.TrimPrefix(x.Key, prefix)
			if x.IsPrefix {
				return []string{"▸ " + name, "", ""}
			}
			return []string{"  " + name, bytes(x.Size), stamp(x.LastModified)}
		}, func(i int) string { return entries[i].Key })
		return nil
	case versionsMsg:
		tl := v.tl
		if tl == nil || msg.gen != tl.gen {
			return nil
		}
		if msg.renew != 0 {
			return v.renewed(e, msg)
		}
		if msg.err != nil {
			tl.streaming = false
			return status(msg.err.Error(), true)
		}
		if tl.at.IsZero() {
			tl.at = e.now()
		}
		tl.pages++
		first := len(tl.versions) == 0
		tl.versions = append(tl.versions, msg.page...)
		tl.g.grow(len(tl.versions))
		var cmd tea.Cmd
		if first && len(tl.versions) > 0 {
			cmd = v.settled(e)
		}
		if msg.more {
			return tea.Batch(cmd, v.nextPage(e, msg.stream, 0))
		}
		tl.streaming = false
		return cmd
	case detailMsg:
		tl := v.tl
		if tl == nil || msg.gen != tl.gen {
			return nil
		}
		delete(tl.pending, msg.id)
		if msg.err != nil {
			return status(msg.err.Error(), true)
		}
		tl.details[msg.id] = msg.detail
		return nil
	case settleMsg:
		if v.tl != nil && msg.gen == v.tl.gen && msg.settle == v.tl.settle {
			return v.detail(e)
		}
		return nil
	}
	k, isKey := msg.(tea.KeyPressMsg)
	switch v.level {
	case 0:
		if listKeys(e, v.buckets, msg) || !isKey {
			return nil
		}
		if key.Matches(k, e.keys.Enter, e.keys.Timeline) {
			i := v.buckets.selected()
			if i < 0 {
				return nil
			}
			v.bucket = v.shown[i].Name
			if key.Matches(k, e.keys.Timeline) {
				v.entries = nil
				return v.openTimeline(e, "", false)
			}
			return v.openPrefix(e, "")
		}
	case 1:
		if listKeys(e, v.list, msg) || !isKey {
			return nil
		}
		i := v.list.selected()
		if i < 0 {
			return nil
		}
		x := v.entries[i]
		switch {
		case key.Matches(k, e.keys.Enter) && x.IsPrefix:
			return v.openPrefix(e, x.Key)
		case key.Matches(k, e.keys.Enter), key.Matches(k, e.keys.Timeline):
			return v.openTimeline(e, x.Key, !x.IsPrefix)
		}
	case 2:
		tl := v.tl
		if tl.full && isKey {
			if key.Matches(k, e.keys.Enter) {
				tl.full = false
			} else {
				tl.detail.scroll(e.keys, k, max(e.h-8, 1))
			}
			return nil
		}
		if isKey && key.Matches(k, e.keys.Enter) && tl.g.selected() >= 0 {
			tl.full, tl.detail = true, scroller{}
			return nil
		}
		if listKeys(e, tl.g, msg) {
			tl.compare = false
			return v.settled(e)
		}
		if !isKey {
			return nil
		}
		i := tl.g.selected()
		if i < 0 {
			return nil
		}
		x := tl.versions[i]
		switch {
		case key.Matches(k, e.keys.Compare):
			if tl.mark == "" || tl.mark == x.VersionID {
				tl.mark, tl.compare = x.VersionID, false
				return status("marked "+x.VersionID+": move to another version and press c to compare", false)
			}
			tl.compare = true
			return v.fetch(e, tl.mark)
		case key.Matches(k, e.keys.Rollback):
			return v.askRollback(e, x)
		}
	}
	return nil
}

// renewed takes a page of the timeline's refresh; the last one replaces
// what is shown. A failed refresh keeps what is shown, and says so.
func (v *modelsView) renewed(e *env, msg versionsMsg) tea.Cmd {
	tl := v.tl
	if !tl.renewing || msg.renew != tl.renewGen {
		return nil
	}
	if msg.err != nil {
		tl.renewing, tl.fresh = false, nil
		return status("refresh: "+msg.err.Error(), true)
	}
	if tl.freshAt.IsZero() {
		tl.freshAt = e.now()
	}
	tl.fresh = append(tl.fresh, msg.page...)
	if msg.more {
		return v.nextPage(e, msg.stream, msg.renew)
	}
	return v.adopt(e)
}

// fetch reads the details of a version that is not under the cursor.
func (v *modelsView) fetch(e *env, id string) tea.Cmd {
	tl := v.tl
	if _, ok := tl.details[id]; ok || tl.pending[id] {
		return nil
	}
	for _, x := range tl.versions {
		if x.VersionID == id && !x.DeleteMarker {
			tl.pending[id] = true
			return readDetail(e, tl.gen, tl.bucket, x)
		}
	}
	return nil
}

// askRollback opens the confirmation that shows what becomes current.
func (v *modelsView) askRollback(e *env, x inventory.Version) tea.Cmd {
	if e.opts.ReadOnly {
		return status("read-only console: roll back is disabled", true)
	}
	switch {
	case x.DeleteMarker:
		return status("a delete marker cannot become current: choose a version", true)
	case x.IsLatest:
		return status("this version is already current", true)
	}
	if e.opts.Runs == nil {
		return status("roll back runs through the engine, which is not configured here", true)
	}
	return rollbackRun(e, v.tl.bucket, x)
}

func (v *modelsView) render(e *env, w, h int) string {
	st := &e.st
	switch v.level {
	case 0:
		head := st.title.Render("Buckets") + " in " + e.opts.PrimaryRegion + ", model storage first  " + v.buckets.position() + "  " + asOf(e, partBuckets) + "  " + filterNote(v.buckets)
		if n := partNote(e, partBuckets); n != "" {
			return head + "\n" + n
		}
		if n := unclassified(v.shown, e.bucketClass); n > 0 {
			hint := st.warn.Render(fmt.Sprintf("  ? %d %s unclassified: %s", n, plural(n, "bucket", "buckets"), estate.Hint(estate.KindBucket)))
			return head + "\n" + v.buckets.view(st, w, h-2) + "\n" + hint
		}
		return head + "\n" + v.buckets.view(st, w, h-1)
	case 1:
		tail := "  " + v.list.position() + "  " + ageNote(e, v.listAt, v.renewing) + "  " + filterNote(v.list)
		head := st.title.Render(keepEnd("s3://"+v.bucket+"/"+v.prefix, w-widthOf(tail))) + tail
		if v.listing && !v.renewing {
			return head + "\n" + st.dim.Render("  listing…")
		}
		return head + "\n" + v.list.view(st, w, h-1)
	}
	return v.renderTimeline(e, w, h)
}

func (v *modelsView) renderTimeline(e *env, w, h int) string {
	st := &e.st
	tl := v.tl
	var b strings.Builder
	state := fmt.Sprintf("%s versions", count(len(tl.versions)))
	if tl.streaming {
		state += fmt.Sprintf(" (streaming, page %d)", tl.pages+1)
	}
	// The path gives way first: the counts and the age must show.
	tail := fmt.Sprintf("  %s  %s  %s  %s", state, tl.g.position(), ageNote(e, tl.at, tl.renewing), filterNote(tl.g))
	fmt.Fprintf(&b, "%s%s\n", st.title.Render(keepEnd("s3://"+tl.bucket+"/"+tl.prefix, w-widthOf(tail))), tail)
	axis, labels := v.axis(e, w)
	b.WriteString(axis + "\n" + labels + "\n")
	if tl.full {
		// The detail alone, whole and wrapped, scrolled.
		return b.String() + tl.detail.window(st.dim.Render("detail (esc: the timeline)"), v.detailText(e, w, true), h-3)
	}
	// The detail pane goes to the right when there is room, else below;
	// it takes two fifths of a wide window, so what is compared shows.
	side := w >= 110
	dw := w
	if side {
		dw = max(44, w*2/5)
	}
	detailLines := v.detailLines(e, dw)
	if side {
		lw := w - dw - 3
		left := strings.Split(tl.g.view(st, lw, h-4), "\n")
		for i := 0; i < h-4; i++ {
			l, r := "", ""
			if i < len(left) {
				l = left[i]
			}
			if i < len(detailLines) {
				r = detailLines[i]
			}
			b.WriteString(cell(l, lw, false) + " │ " + r + "\n")
		}
		return b.String()
	}
	dh := min(len(detailLines), max(4, (h-4)/3))
	b.WriteString(tl.g.view(st, w, h-4-dh) + "\n")
	for _, l := range detailLines[:dh] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// axis draws the loaded history on one line, oldest left, now right:
// │ a version, ✖ a delete marker, ● the current version, ▲ the cursor.
func (v *modelsView) axis(e *env, w int) (string, string) {
	tl := v.tl
	if len(tl.versions) == 0 {
		return e.st.dim.Render("  (no versions yet)"), ""
	}
	width := max(w-4, 10)
	newest := e.now()
	stale := tl.axisN != len(tl.versions) || tl.axisW != width || !tl.axisAt.Equal(newest.Truncate(time.Minute))
	if stale {
		tl.oldest = tl.versions[0].LastModified
		for _, x := range tl.versions {
			if x.LastModified.Before(tl.oldest) {
				tl.oldest = x.LastModified
			}
		}
	}
	oldest := tl.oldest
	span := newest.Sub(oldest)
	if span <= 0 {
		span = time.Second
	}
	col := func(t time.Time) int {
		return min(max(int(float64(t.Sub(oldest))/float64(span)*float64(width-1)), 0), width-1)
	}
	if stale {
		line := []rune(strings.Repeat("─", width))
		rank := func(r rune) int {
			switch r {
			case '│':
				return 1
			case '✖':
				return 2
			case '●':
				return 3
			}
			return 0
		}
		for _, x := range tl.versions {
			r := '│'
			switch {
			case x.IsLatest && !x.DeleteMarker:
				r = '●'
			case x.DeleteMarker:
				r = '✖'
			}
			c := col(x.LastModified)
			if rank(r) > rank(line[c]) {
				line[c] = r
			}
		}
		tl.axisLine, tl.axisN, tl.axisW, tl.axisAt = string(line), len(tl.versions), width, newest.Truncate(time.Minute)
	}
	line := tl.axisLine
	cursor := []rune(strings.Repeat(" ", width))
	if i := tl.g.selected(); i >= 0 {
		cursor[col(tl.versions[i].LastModified)] = '▲'
	}
	left := oldest.UTC().Format("2006-01-02")
	right := "now " + newest.UTC().Format("2006-01-02")
	labels := "  " + left + strings.Repeat(" ", max(width-len(left)-len(right), 1)) + right
	return "  " + line + "\n  " + string(cursor), labels
}

// detailLines is the selected version's metadata, or the comparison of
// the marked version with the selected one.
func (v *modelsView) detailLines(e *env, w int) []string { return v.detailText(e, w, false) }

// detailText is the selected version's detail, or the comparison, at
// width w: each line cut to it, or, whole, wrapped at it (the full view).
func (v *modelsView) detailText(e *env, w int, whole bool) []string {
	fit := func(s string) []string {
		if whole {
			return wrapWhole(s, w)
		}
		return []string{cell(s, w, false)}
	}
	st := &e.st
	tl := v.tl
	i := tl.g.selected()
	if i < 0 {
		return nil
	}
	x := tl.versions[i]
	if tl.compare && tl.mark != "" && tl.mark != x.VersionID {
		a, okA := tl.details[tl.mark]
		bd, okB := tl.details[x.VersionID]
		if !okA || !okB {
			return []string{st.dim.Render("comparing… (reading metadata)")}
		}
		out := []string{st.title.Render("Compare") + " A=" + short(tl.mark) + " B=" + short(x.VersionID)}
		keys := map[string]bool{}
		for k := range a.Metadata {
			keys[k] = true
		}
		for k := range bd.Metadata {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		rows := append([][3]string{{"size", bytes(a.Size), bytes(bd.Size)}, {"written", stamp(a.LastModified), stamp(bd.LastModified)}},
			[][3]string{}...)
		for _, k := range ks {
			rows = append(rows, [3]string{k, a.Metadata[k], bd.Metadata[k]})
		}
		for _, r := range rows {
			eq := "="
			if r[1] != r[2] {
				eq = "≠"
			}
			out = append(out, fit(clean(fmt.Sprintf("%s %s: %s | %s", eq, r[0], r[1], r[2])))...)
		}
		return out
	}
	if x.DeleteMarker {
		return []string{st.title.Render("Delete marker") + " " + short(x.VersionID), "written " + stamp(x.LastModified),
			"the key did not exist from then until the next version"}
	}
	d, ok := tl.details[x.VersionID]
	if !ok {
		return []string{st.dim.Render("reading metadata of " + short(x.VersionID) + "…")}
	}
	mark := "○ earlier version"
	if x.IsLatest {
		mark = "● current version"
	}
	if x.VersionID == tl.mark {
		mark += " (marked)"
	}
	head := fmt.Sprintf("%s %s  %s", st.title.Render(mark), short(x.VersionID), bytes(d.Size))
	if d.ReplicationStatus != "" {
		head += "  replication " + d.ReplicationStatus
	}
	out := fit(head)
	if !tl.exact {
		// A prefix's timeline cuts its KEY column: the detail says it.
		out = append(out, fit(clean("key "+x.Key))...)
	}
	for _, k := range sortedKeys(d.Metadata) {
		out = append(out, fit(clean(k+": "+d.Metadata[k]))...)
	}
	return out
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// rollbackRunbookText is the runbook the console runs to roll a model
// artifact back: the model_rollback step, whose own confirmation shows
// what becomes current and asks for bucket/key. Values come in as
// variables, so no key needs quoting in HCL.
const rollbackRunbookText = `runbook {
  description = "Make an earlier version of a model artifact current (from the console)"
}

variable "region" {
  type = string
}

variable "bucket" {
  type = string
}

variable "key" {
  type = string
}

variable "version_id" {
  type = string
}

step "model_rollback" "artifact" {
  region     = var.region
  bucket     = var.bucket
  key        = var.key
  version_id = var.version_id
}
`

// rollbackRun writes the roll back runbook into the state directory (so
// the run can be resumed like any other) and asks the root to run it
// through the engine and show it: it is journalled, its gate shows the
// change, and the Runs view keeps it.
func rollbackRun(e *env, bucket string, x inventory.Version) tea.Cmd {
	vars := []string{"region=" + e.opts.PrimaryRegion, "bucket=" + bucket, "key=" + x.Key, "version_id=" + x.VersionID}
	return generatedRun(e, "roll back", "console-rollback.hcl", rollbackRunbookText, vars)
}
