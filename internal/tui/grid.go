package tui

import (
	"sort"
	"strconv"
	"strings"
)

// column is one column of a grid. Width 0 takes what the fixed columns
// leave (at least min).
type column struct {
	title string
	width int
	min   int
	right bool
}

// grid is a scrolling table over a source of rows it does not own: it
// asks for the cells of a row only when that row is drawn or filtered,
// so a source of 100,000 rows costs one screenful per frame.
type grid struct {
	cols  []column
	total int
	cells func(i int) []string
	// less orders two source rows by a column; nil compares cell text.
	less func(col, a, b int) bool

	filter   string
	sortCol  int // -1: source order
	sortDesc bool
	idx      []int // visible rows as source indices; nil: all in source order
	// stable rows never change once appended (a version listing): their
	// lower-cased text is kept so filtering does not format every row
	// again on each key.
	stable bool
	search []string
	cursor int // position in the visible rows
	offset int // first visible row drawn
	// id names a source row (setSourceByID): a refresh puts the cursor
	// back on the row of the same id, wherever the new rows place it.
	id func(i int) string
}

func newGrid(cols ...column) *grid { return &grid{cols: cols, sortCol: -1} }

// setSource replaces the rows, keeping filter and sort; the cursor
// keeps its row number.
func (g *grid) setSource(total int, cells func(i int) []string) {
	g.total, g.cells = total, cells
	g.search = g.search[:0]
	g.apply()
}

// setSourceByID replaces the rows, keeping filter and sort, and keeps the
// cursor on the item it was on: the row whose id matches, wherever the
// new rows place it (a refresh adds, removes and reorders rows). When
// that item is gone the cursor keeps its row number. id must read the
// same snapshot as cells, not fields the caller replaces, since the
// previous id is asked of the old rows after the caller has moved on; a
// source that grows in place (a stream) names its rows with identify and
// takes selectedID before it replaces them.
func (g *grid) setSourceByID(total int, cells func(i int) []string, id func(i int) string) {
	keep, had := g.selectedID()
	g.id = id
	g.setSource(total, cells)
	if had {
		g.seek(keep)
	}
}

// identify names the rows by id, for selectedID and seek.
func (g *grid) identify(id func(i int) string) { g.id = id }

// selectedID is the id of the row under the cursor.
func (g *grid) selectedID() (string, bool) {
	if g.id == nil {
		return "", false
	}
	i := g.selected()
	if i < 0 {
		return "", false
	}
	return g.id(i), true
}

// seek moves the cursor to the visible row of id; false when none has it.
func (g *grid) seek(id string) bool {
	if g.id == nil {
		return false
	}
	for pos, n := 0, g.len(); pos < n; pos++ {
		if g.id(g.at(pos)) == id {
			g.cursor = pos
			return true
		}
	}
	return false
}

// grow tells the grid more rows were appended to its source (streaming):
// without a filter or sort it only extends, so nothing is recomputed.
func (g *grid) grow(total int) {
	if g.stable && total > 0 {
		// Each page's text is prepared as it arrives, so the first filter
		// key does not format the whole listing at once.
		g.total = total
		g.text(total - 1)
	}
	if g.filter == "" && g.sortCol < 0 {
		g.total = total
		return
	}
	g.total = total
	g.apply()
}

// apply recomputes the visible rows from filter and sort.
func (g *grid) apply() {
	if g.filter == "" && g.sortCol < 0 {
		g.idx = nil
	} else {
		g.idx = g.idx[:0]
		f := strings.ToLower(g.filter)
		for i := 0; i < g.total; i++ {
			if f == "" || strings.Contains(g.text(i), f) {
				g.idx = append(g.idx, i)
			}
		}
		if g.sortCol >= 0 {
			col := g.sortCol
			less := g.less
			if less == nil {
				less = func(col, a, b int) bool { return textLess(g.cells(a)[col], g.cells(b)[col]) }
			}
			sort.SliceStable(g.idx, func(a, b int) bool {
				if g.sortDesc {
					return less(col, g.idx[b], g.idx[a])
				}
				return less(col, g.idx[a], g.idx[b])
			})
		}
	}
	g.cursor = min(g.cursor, max(g.len()-1, 0))
}

func (g *grid) len() int {
	if g.idx == nil {
		return g.total
	}
	return len(g.idx)
}

// at maps a visible position to its source row.
func (g *grid) at(pos int) int {
	if g.idx == nil {
		return pos
	}
	return g.idx[pos]
}

// selected is the source row under the cursor, -1 when empty.
func (g *grid) selected() int {
	if g.len() == 0 {
		return -1
	}
	return g.at(g.cursor)
}

func (g *grid) setFilter(f string) {
	g.filter = f
	g.apply()
}

// cycleSort moves sorting to the next column (then back to source order).
func (g *grid) cycleSort() {
	g.sortCol++
	if g.sortCol >= len(g.cols) {
		g.sortCol = -1
	}
	g.apply()
}

func (g *grid) reverse() {
	if g.sortCol < 0 {
		g.sortCol = 0
	}
	g.sortDesc = !g.sortDesc
	g.apply()
}

func (g *grid) move(delta int) {
	g.cursor = max(min(g.cursor+delta, g.len()-1), 0)
}

func (g *grid) top()    { g.cursor = 0 }
func (g *grid) bottom() { g.cursor = max(g.len()-1, 0) }

// widths gives each column its width within w, flexible columns sharing
// what is left.
func (g *grid) widths(w int) []int {
	ws := make([]int, len(g.cols))
	fixed, flex := 0, 0
	for i, c := range g.cols {
		if c.width > 0 {
			ws[i] = c.width
			fixed += c.width
		} else {
			flex++
		}
	}
	fixed += len(g.cols) - 1 // one space between columns
	if flex > 0 {
		share := max((w-fixed)/flex, 0)
		for i, c := range g.cols {
			if c.width == 0 {
				ws[i] = max(share, c.min)
			}
		}
	}
	return ws
}

// view draws the header and as many rows as fit in h lines, scrolling so
// the cursor stays visible. The cursor row carries a ▶ marker as well as
// the highlight.
func (g *grid) view(st *styles, w, h int) string {
	if h <= 0 {
		return ""
	}
	ws := g.widths(w - 2)
	var b strings.Builder
	hdr := make([]string, len(g.cols))
	for i, c := range g.cols {
		t := c.title
		if i == g.sortCol {
			if g.sortDesc {
				t += "↓"
			} else {
				t += "↑"
			}
		}
		hdr[i] = cell(t, ws[i], c.right)
	}
	b.WriteString(st.colHeader.Render("  " + strings.Join(hdr, " ")))
	rows := h - 1
	n := g.len()
	if n == 0 {
		b.WriteString("\n" + st.dim.Render("  (nothing to show)"))
		return b.String()
	}
	if g.cursor < g.offset {
		g.offset = g.cursor
	}
	if g.cursor >= g.offset+rows {
		g.offset = g.cursor - rows + 1
	}
	g.offset = max(min(g.offset, n-rows), 0)
	line := make([]string, len(g.cols))
	for pos := g.offset; pos < min(g.offset+rows, n); pos++ {
		cs := g.cells(g.at(pos))
		for i, c := range g.cols {
			v := ""
			if i < len(cs) {
				v = cs[i]
			}
			line[i] = cell(clean(v), ws[i], c.right)
		}
		b.WriteByte('\n')
		if pos == g.cursor {
			b.WriteString(st.selected.Render("▶ " + strings.Join(line, " ")))
		} else {
			b.WriteString("  " + strings.Join(line, " "))
		}
	}
	return b.String()
}

// position renders "row/total" for a title line.
func (g *grid) position() string {
	if g.len() == 0 {
		return "0/0"
	}
	return count(g.cursor+1) + "/" + count(g.len())
}

// text is row i as the filter matches it.
func (g *grid) text(i int) string {
	if !g.stable {
		return strings.ToLower(strings.Join(g.cells(i), " "))
	}
	for len(g.search) <= i {
		g.search = append(g.search, strings.ToLower(strings.Join(g.cells(len(g.search)), " ")))
	}
	return g.search[i]
}

// textLess orders cells as numbers when both are numbers (counts with
// thousands separators included), else as text.
// severity ranks the glyph a state cell starts with, worst first, so
// sorting by a state column puts what needs a person at the top; -1 for
// a cell that starts with none.
func severity(r rune) int {
	const worstFirst = "✖⚠!?↻⊘▶◌≡⤼·○✔"
	i := 0
	for _, g := range worstFirst {
		if g == r {
			return i
		}
		i++
	}
	return -1
}

func textLess(a, b string) bool {
	if ra, rb := firstRune(a), firstRune(b); ra != rb {
		if sa, sb := severity(ra), severity(rb); sa >= 0 && sb >= 0 {
			return sa < sb
		}
	}
	x, errA := strconv.ParseFloat(strings.ReplaceAll(a, ",", ""), 64)
	y, errB := strconv.ParseFloat(strings.ReplaceAll(b, ",", ""), 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}
