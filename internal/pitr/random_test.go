package pitr

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// source of choices for generated listings: a seeded generator, or the
// bytes of a fuzz input.
type chooser struct {
	r    *rand.Rand
	data []byte
}

func (c *chooser) intn(n int) int {
	if c.r != nil {
		return c.r.IntN(n)
	}
	if len(c.data) == 0 {
		return 0
	}
	b := c.data[0]
	c.data = c.data[1:]
	return int(b) % n
}

var keyParts = []string{"a", "b", " ", "+", "%", "ü", "/", "z"}

// scenario is a generated restore: a source listing, maybe a target, and T.
type scenario struct {
	o       Options
	src     []Entry
	tgt     []Entry
	targets bool
	pageLen int
}

func genKeys(c *chooser, prefix string, n int) []string {
	set := map[string]bool{}
	for range n {
		var b strings.Builder
		b.WriteString(prefix)
		for range 1 + c.intn(3) {
			b.WriteString(keyParts[c.intn(len(keyParts))])
		}
		set[b.String()] = true
	}
	return sortedKeys(set)
}

func genEntries(c *chooser, key string, seq *int) []Entry {
	n := 1 + c.intn(6)
	h := 14 + c.intn(8)
	var out []Entry
	nullUsed := false
	for range n {
		*seq++
		id := fmt.Sprintf("v%d", *seq)
		if !nullUsed && c.intn(6) == 0 {
			id, nullUsed = "null", true
		}
		e := Entry{Key: key, VersionID: id, LastModified: at(h)}
		if c.intn(3) == 0 {
			e.IsDeleteMarker = true
		} else {
			k := c.intn(3)
			e.ETag, e.Size = fmt.Sprintf(`"e%d"`, k), int64(k)
		}
		out = append(out, e)
		h -= c.intn(3) // 0: the same second
	}
	return out
}

func genScenario(c *chooser) scenario {
	var s scenario
	prefixes := []string{"", "m/"}
	s.o.SourcePrefix = prefixes[c.intn(2)]
	s.o.At = at(c.intn(24))
	seq := 0
	for _, k := range genKeys(c, s.o.SourcePrefix, c.intn(9)) {
		s.src = append(s.src, genEntries(c, k, &seq)...)
	}
	if c.intn(2) == 0 {
		s.targets = true
		s.o.TargetPrefix = []string{"", "m/", "r/"}[c.intn(3)]
		keys := genKeys(c, s.o.TargetPrefix, c.intn(6))
		// Mostly keys that also exist in the source.
		for i := 0; i < len(s.src); i++ {
			if c.intn(2) == 0 {
				keys = append(keys, s.o.TargetPrefix+strings.TrimPrefix(s.src[i].Key, s.o.SourcePrefix))
			}
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			es := genEntries(c, k, &seq)
			s.tgt = append(s.tgt, es[:min(len(es), 2)]...)
		}
	}
	s.pageLen = 1 + c.intn(5)
	return s
}

func (s scenario) options() Options {
	o := s.o
	if s.targets {
		o.Target = SliceCursor(s.tgt)
	}
	return o
}

// reference computes the plan the slow way: whole listing in maps.
func reference(s scenario) []Decision {
	o := s.o
	if !s.targets {
		o.TargetPrefix = o.SourcePrefix
	}
	bySrc := map[string][]Entry{}
	for _, e := range s.src {
		bySrc[e.Key] = append(bySrc[e.Key], e)
	}
	tgtCur := map[string]Entry{}
	for _, e := range s.tgt {
		if _, ok := tgtCur[e.Key]; !ok {
			tgtCur[e.Key] = e
		}
	}
	var out []Decision
	seen := map[string]bool{}
	for key, es := range bySrc {
		if !o.Range.Contains(key) {
			continue
		}
		tk := o.TargetPrefix + strings.TrimPrefix(key, o.SourcePrefix)
		seen[tk] = true
		var state Entry
		for _, e := range es {
			if !e.LastModified.After(o.At) {
				state = e
				break
			}
		}
		d := Decision{Key: key, TargetKey: tk}
		if s.targets {
			d.Current = tgtCur[tk]
		} else {
			d.Current = es[0]
		}
		switch {
		case state.IsVersion():
			d.Source = state
			if d.Current.IsVersion() && (d.Current.VersionID == state.VersionID && !s.targets || SameContent(state, d.Current)) {
				d.Action = Keep
			} else {
				d.Action = Copy
			}
		case d.Current.IsVersion():
			d.Action = Delete
		}
		out = append(out, d)
	}
	for tk, cur := range tgtCur {
		key := o.SourcePrefix + strings.TrimPrefix(tk, o.TargetPrefix)
		if seen[tk] || !o.Range.Contains(key) {
			continue
		}
		d := Decision{Key: key, TargetKey: tk, Current: cur}
		if cur.IsVersion() {
			d.Action = Delete
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Decision) int { return strings.Compare(a.TargetKey, b.TargetKey) })
	return out
}

// check runs the streaming planner on s and compares it with the reference
// and with the invariants a restore must keep.
func check(t *testing.T, s scenario) {
	t.Helper()
	ds, st, err := run(s.options(), pages(s.src, s.pageLen))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	ref := reference(s)
	if fmt.Sprint(ds) != fmt.Sprint(ref) {
		t.Fatalf("streaming plan differs from reference\n got %v\nwant %v", ds, ref)
	}
	seen := map[string]bool{}
	for i, d := range ds {
		if seen[d.TargetKey] {
			t.Fatalf("two decisions for %q", d.TargetKey)
		}
		seen[d.TargetKey] = true
		if i > 0 && d.TargetKey <= ds[i-1].TargetKey {
			t.Fatalf("decisions out of key order: %q after %q", d.TargetKey, ds[i-1].TargetKey)
		}
		if d.Action == Copy {
			if d.Source.LastModified.After(s.o.At) || d.Source.IsDeleteMarker || !slices.Contains(s.src, d.Source) {
				t.Fatalf("copy source %v is not a listed version at or before T", d.Source)
			}
		}
	}
	if st.Keys != int64(len(ds)) || st.Entries != int64(len(s.src)) {
		t.Fatalf("stats %+v for %d decisions over %d entries", st, len(ds), len(s.src))
	}

	// Apply the plan to the target and check every key is in its state at
	// T; then a second run makes no write.
	target := newStore(s.src)
	if s.targets {
		target = newStore(s.tgt)
	}
	target.apply(ds)
	for _, d := range ref {
		cur := target.current()[d.TargetKey]
		if d.Source.Exists() {
			if !SameContent(cur, d.Source) && !(cur.VersionID == d.Source.VersionID && !s.targets) {
				t.Fatalf("%s is %v after the restore, want %v", d.TargetKey, cur, d.Source)
			}
		} else if cur.IsVersion() {
			t.Fatalf("%s is %v after the restore, want deleted", d.TargetKey, cur)
		}
	}
	again := s
	if s.targets {
		again.tgt = target.listing()
	} else {
		again.src = target.listing()
	}
	_, st2, err := run(again.options(), pages(again.src, s.pageLen))
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if st2.Writes() != 0 {
		t.Fatalf("second run plans %d writes", st2.Writes())
	}
}

func TestPlannerAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		s := genScenario(&chooser{r: r})
		t.Run(fmt.Sprint(i), func(t *testing.T) { check(t, s) })
	}
}

// Planning disjoint key ranges separately, as parallel listing does, gives
// the same decisions as planning the prefix at once.
func TestPlannerRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		c := &chooser{r: r}
		s := genScenario(c)
		whole, _, err := run(s.options(), [][]Entry{s.src})
		if err != nil {
			t.Fatal(err)
		}
		var sample []string
		for _, e := range s.src {
			if c.intn(3) == 0 && (len(sample) == 0 || sample[len(sample)-1] != e.Key) {
				sample = append(sample, e.Key)
			}
		}
		ranges, err := Split(sample, 1+c.intn(4))
		if err != nil {
			t.Fatal(err)
		}
		var parts []Decision
		for _, rg := range ranges {
			o := s.options()
			o.Range = rg
			ds, _, err := run(o, pages(s.src, s.pageLen))
			if err != nil {
				t.Fatalf("%d: range %v: %v", i, rg, err)
			}
			parts = append(parts, ds...)
		}
		if fmt.Sprint(parts) != fmt.Sprint(whole) {
			t.Fatalf("%d: ranges %v\n got %v\nwant %v", i, ranges, parts, whole)
		}
	}
}

func TestSplit(t *testing.T) {
	rs, err := Split([]string{"a", "b", "c", "d", "e", "f"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{{"", "c"}, {"c", "e"}, {"e", ""}}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", rs, want)
	}
	if rs, _ := Split(nil, 4); len(rs) != 1 || rs[0] != (Range{}) {
		t.Fatalf("no sample: got %v", rs)
	}
	if rs, _ := Split([]string{"a", "a", "a"}, 3); len(rs) != 2 {
		t.Fatalf("repeated sample: got %v", rs)
	}
	if _, err := Split([]string{"b", "a"}, 2); err == nil {
		t.Fatal("unsorted sample accepted")
	}
	if _, err := Split(nil, 0); err == nil {
		t.Fatal("zero ranges accepted")
	}
}

func FuzzPlanner(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 5, 3, 2, 0, 1, 4, 4, 7, 1, 2, 3, 0, 0, 9})
	f.Add([]byte("restore models to yesterday at noon, please"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, genScenario(&chooser{data: data}))
	})
}

func TestMapRange(t *testing.T) {
	for _, tt := range []struct {
		r    Range
		want Range
	}{
		{Range{}, Range{}},
		{Range{After: "m/a", Through: "m/c"}, Range{After: "r/a", Through: "r/c"}},
		{Range{After: "x", Through: "m/c"}, Range{Through: "r/c"}},
	} {
		if got := MapRange(tt.r, "m/", "r/"); got != tt.want {
			t.Errorf("MapRange(%v) = %v, want %v", tt.r, got, tt.want)
		}
	}
	var s Stats
	s.Add(Stats{Entries: 1, Keys: 2, Copies: 3, Deletes: 4, Keeps: 5, CopyBytes: 6, TargetReads: 7})
	s.Add(Stats{Entries: 1, Keys: 1, Copies: 1, Deletes: 1, Keeps: 1, CopyBytes: 1, TargetReads: 1})
	if s != (Stats{2, 3, 4, 5, 6, 7, 8}) || s.Writes() != 9 {
		t.Fatalf("stats %+v", s)
	}
}
