package pitr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// want is one expected decision: action, target key, and the version id of
// the source (for Copy and for Keep of a version).
type want struct {
	key    string
	action Action
	source string
}

func (w want) String() string { return fmt.Sprintf("%s %s <- %q", w.action, w.key, w.source) }

func got(ds []Decision) []want {
	out := make([]want, len(ds))
	for i, d := range ds {
		out[i] = want{d.TargetKey, d.Action, d.Source.VersionID}
	}
	return out
}

func TestPlannerInPlace(t *testing.T) {
	T := at(10)
	zero := Entry{Key: "empty", VersionID: "z1", LastModified: at(3), ETag: `"d41d8cd98f00b204e9800998ecf8427e"`}
	tests := []struct {
		name    string
		at      time.Time
		prefix  string
		listing []Entry
		want    []want
	}{
		{"created after T is deleted",
			T, "", []Entry{ver("a", "v1", 11)},
			[]want{{"a", Delete, ""}}},
		{"deleted before T and re-created after is deleted",
			T, "", []Entry{ver("a", "v2", 12), dm("a", "d1", 8), ver("a", "v1", 5)},
			[]want{{"a", Delete, ""}}},
		{"delete marker current at T and now is kept deleted",
			T, "", []Entry{dm("a", "d1", 8), ver("a", "v1", 5)},
			[]want{{"a", Keep, ""}}},
		{"deleted after T comes back",
			T, "", []Entry{dm("a", "d2", 13), dm("a", "d1", 12), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v1"}}},
		{"overwritten after T is copied back",
			T, "", []Entry{ver("a", "v3", 14), ver("a", "v2", 11), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v1"}}},
		{"unchanged since T makes no write",
			T, "", []Entry{ver("a", "v2", 9), ver("a", "v1", 5)},
			[]want{{"a", Keep, "v2"}}},
		{"T equal to a version's time is inclusive",
			T, "", []Entry{ver("a", "v3", 11), ver("a", "v2", 10), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v2"}}},
		{"T equal to the current version's time keeps it",
			T, "", []Entry{ver("a", "v2", 10), ver("a", "v1", 5)},
			[]want{{"a", Keep, "v2"}}},
		{"T equal to a delete marker's time is inclusive",
			T, "", []Entry{ver("a", "v2", 11), dm("a", "d1", 10), ver("a", "v1", 5)},
			[]want{{"a", Delete, ""}}},
		{"same second: delete marker listed first wins",
			T, "", []Entry{ver("a", "v3", 11), dm("a", "d1", 10), ver("a", "v2", 10), ver("a", "v1", 5)},
			[]want{{"a", Delete, ""}}},
		{"same second: version listed first wins",
			T, "", []Entry{ver("a", "v3", 11), ver("a", "v2", 10), dm("a", "d1", 10), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v2"}}},
		{"same second, current marker listed first stays deleted",
			T, "", []Entry{dm("a", "d1", 10), ver("a", "v2", 10)},
			[]want{{"a", Keep, ""}}},
		{"V, delete marker, V2, delete marker restores V",
			T, "", []Entry{dm("a", "d2", 14), ver("a", "v2", 13), dm("a", "d1", 11), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v1"}}},
		{"suspended versioning: null version written after T",
			T, "", []Entry{ver("a", "null", 11), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v1"}}},
		{"suspended versioning: null version before T unchanged",
			T, "", []Entry{ver("a", "null", 4)},
			[]want{{"a", Keep, "null"}}},
		{"suspended versioning: null delete marker after T",
			T, "", []Entry{dm("a", "null", 12), ver("a", "v1", 5)},
			[]want{{"a", Copy, "v1"}}},
		{"zero-byte object is copied back",
			T, "", []Entry{ver("empty", "z2", 12), zero},
			[]want{{"empty", Copy, "z1"}}},
		{"zero-byte object unchanged",
			T, "", []Entry{zero},
			[]want{{"empty", Keep, "z1"}}},
		{"keys that need URL encoding",
			T, "", []Entry{
				ver("a b", "v2", 12), ver("a b", "v1", 1),
				ver("a%20b", "v1", 11),
				ver("a+b", "v1", 2),
				ver("models/ключ ü", "v2", 11), ver("models/ключ ü", "v1", 3),
			},
			[]want{{"a b", Copy, "v1"}, {"a%20b", Delete, ""}, {"a+b", Keep, "v1"}, {"models/ключ ü", Copy, "v1"}}},
		{"a prefix",
			T, "models/", []Entry{ver("models/a", "v2", 12), ver("models/a", "v1", 1), ver("models/b/", "v1", 12)},
			[]want{{"models/a", Copy, "v1"}, {"models/b/", Delete, ""}}},
		{"several keys, mixed",
			T, "", []Entry{
				ver("a", "v1", 1),
				dm("b", "d1", 20), dm("b", "d0", 19),
				ver("c", "v2", 11), ver("c", "v1", 9),
				dm("d", "d1", 15), ver("d", "v1", 10),
			},
			[]want{{"a", Keep, "v1"}, {"b", Keep, ""}, {"c", Copy, "v1"}, {"d", Copy, "v1"}}},
		{"empty listing",
			T, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every way of cutting the listing into pages gives the same
			// plan: one key split across pages, pages of only markers.
			for n := 1; n <= max(1, len(tt.listing)); n++ {
				ds, _, err := run(Options{At: tt.at, SourcePrefix: tt.prefix}, pages(tt.listing, n))
				if err != nil {
					t.Fatalf("pages of %d: %v", n, err)
				}
				if g := got(ds); fmt.Sprint(g) != fmt.Sprint(tt.want) {
					t.Fatalf("pages of %d:\n got %v\nwant %v", n, g, tt.want)
				}
				for _, d := range ds {
					if d.Current.VersionID != tt.listing[indexOfKey(tt.listing, d.Key)].VersionID {
						t.Errorf("%s: Current %v is not the key's first entry", d.Key, d.Current)
					}
				}
			}
			// A second run over the result makes no write.
			ds, _, _ := run(Options{At: tt.at, SourcePrefix: tt.prefix}, [][]Entry{tt.listing})
			s := newStore(tt.listing)
			s.apply(ds)
			_, st, err := run(Options{At: tt.at, SourcePrefix: tt.prefix}, pages(s.listing(), 2))
			if err != nil {
				t.Fatal(err)
			}
			if st.Writes() != 0 {
				t.Errorf("second run plans %d writes", st.Writes())
			}
		})
	}
}

func indexOfKey(es []Entry, key string) int {
	for i, e := range es {
		if e.Key == key {
			return i
		}
	}
	return -1
}

func TestPlannerOnlyDeleteMarkerPages(t *testing.T) {
	// A mass delete after T: every key's newest entry is a delete marker, and
	// with small pages most pages hold nothing else.
	var listing []Entry
	for i := range 50 {
		k := fmt.Sprintf("k%03d", i)
		listing = append(listing, dm(k, "d2", 20), dm(k, "d1", 19), ver(k, "v1", 1))
	}
	ds, st, err := run(Options{At: at(10)}, pages(listing, 2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Copies != 50 || len(ds) != 50 {
		t.Fatalf("copies %d, decisions %d, want 50", st.Copies, len(ds))
	}
}

func TestPlannerTarget(t *testing.T) {
	T := at(10)
	src := []Entry{
		ver("models/a", "v2", 12), ver("models/a", "v1", 5), // a at T: v1
		ver("models/b", "v1", 11),                          // b absent at T
		dm("models/c", "d1", 12), ver("models/c", "v1", 5), // c at T: v1
		ver("models/d", "v1", 2),                          // d at T: v1
		dm("models/e", "d1", 8), ver("models/e", "v1", 2), // e deleted at T
		ver("models/f", "v2", 12), ver("models/f", "v1", 2), // f at T: v1
	}
	// The target's current objects (as ListObjectsV2 would give them, plus
	// one older version and one delete marker as ListObjectVersions would).
	tgt := []Entry{
		{Key: "restored/0-only-in-target", VersionID: "t0", LastModified: at(1), ETag: `"x"`},
		{Key: "restored/a", VersionID: "t1", LastModified: at(1), Size: 2, ETag: `"etag-v1"`}, // same content as v1
		{Key: "restored/b", VersionID: "t2", LastModified: at(1), Size: 9, ETag: `"y"`},
		{Key: "restored/b", VersionID: "t2old", LastModified: at(0), Size: 9, ETag: `"y"`},
		{Key: "restored/d", VersionID: "t3", LastModified: at(1), Size: 2, ETag: `"other"`},
		{Key: "restored/e", VersionID: "t4", IsDeleteMarker: true, LastModified: at(1)},
		{Key: "restored/f", VersionID: "t5", IsDeleteMarker: true, LastModified: at(1)},
		{Key: "restored/zz-only-in-target", VersionID: "t6", LastModified: at(1), ETag: `"z"`},
	}
	wantPlan := []want{
		{"restored/0-only-in-target", Delete, ""},
		{"restored/a", Keep, "v1"},
		{"restored/b", Delete, ""},
		{"restored/c", Copy, "v1"},
		{"restored/d", Copy, "v1"},
		{"restored/e", Keep, ""},
		{"restored/f", Copy, "v1"},
		{"restored/zz-only-in-target", Delete, ""},
	}
	for n := 1; n <= len(src); n++ {
		ds, _, err := run(Options{At: T, SourcePrefix: "models/", TargetPrefix: "restored/", Target: SliceCursor(tgt)}, pages(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if g := got(ds); fmt.Sprint(g) != fmt.Sprint(wantPlan) {
			t.Fatalf("pages of %d:\n got %v\nwant %v", n, g, wantPlan)
		}
		if ds[2].Current.VersionID != "t2" || ds[0].Key != "models/0-only-in-target" {
			t.Fatalf("current/key mapping wrong: %+v %+v", ds[2], ds[0])
		}
	}

	// Into an empty target (another bucket, same prefix): copy what existed.
	ds, _, err := run(Options{At: T, SourcePrefix: "models/", TargetPrefix: "models/", Target: SliceCursor(nil)}, [][]Entry{src})
	if err != nil {
		t.Fatal(err)
	}
	wantEmpty := []want{{"models/a", Copy, "v1"}, {"models/b", Keep, ""}, {"models/c", Copy, "v1"}, {"models/d", Copy, "v1"}, {"models/e", Keep, ""}, {"models/f", Copy, "v1"}}
	if g := got(ds); fmt.Sprint(g) != fmt.Sprint(wantEmpty) {
		t.Fatalf("empty target:\n got %v\nwant %v", g, wantEmpty)
	}

	// A second run against the restored target makes no write.
	ds, _, _ = run(Options{At: T, SourcePrefix: "models/", TargetPrefix: "restored/", Target: SliceCursor(tgt)}, [][]Entry{src})
	ts := newStore(tgt)
	ts.apply(ds)
	_, st, err := run(Options{At: T, SourcePrefix: "models/", TargetPrefix: "restored/", Target: SliceCursor(ts.listing())}, [][]Entry{src})
	if err != nil {
		t.Fatal(err)
	}
	if st.Writes() != 0 {
		t.Fatalf("second run into target plans %d writes", st.Writes())
	}
}

func TestPlannerErrors(t *testing.T) {
	T := at(10)
	tests := []struct {
		name    string
		o       Options
		listing []Entry
		want    string
	}{
		{"no time", Options{}, nil, "no restore time"},
		{"target prefix without target", Options{At: T, SourcePrefix: "a/", TargetPrefix: "b/"}, nil, "needs the target"},
		{"empty range", Options{At: T, Range: Range{After: "b", Through: "a"}}, nil, "empty key range"},
		{"keys out of order", Options{At: T}, []Entry{ver("b", "v1", 1), ver("a", "v1", 1)}, "out of order"},
		{"regrouped key", Options{At: T}, []Entry{ver("a", "v1", 1), ver("b", "v1", 1), dm("a", "d1", 1)}, "out of order"},
		{"outside prefix", Options{At: T, SourcePrefix: "m/"}, []Entry{ver("x", "v1", 1)}, "outside prefix"},
		{"no key", Options{At: T}, []Entry{{VersionID: "v", LastModified: T}}, "without a key"},
		{"no time on entry", Options{At: T}, []Entry{{Key: "a", VersionID: "v"}}, "no LastModified"},
		{"target out of order", Options{At: T, Target: SliceCursor([]Entry{{Key: "b"}, {Key: "a"}})}, []Entry{ver("c", "v1", 1)}, "out of order"},
		{"target outside prefix", Options{At: T, SourcePrefix: "m/", TargetPrefix: "r/", Target: SliceCursor([]Entry{{Key: "x"}})}, []Entry{ver("m/c", "v1", 1)}, "outside prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(tt.o, [][]Entry{tt.listing})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, _, err := run(Options{At: T}, [][]Entry{{ver("b", "v1", 1), ver("a", "v1", 1)}}); !errors.Is(err, ErrOrder) {
		t.Fatalf("err = %v, want ErrOrder", err)
	}
}

func TestPlannerEmitErrorStops(t *testing.T) {
	p, err := New(Options{At: at(10)})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	err = p.Feed([]Entry{ver("a", "v1", 1), ver("b", "v1", 1)}, func(Decision) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want stop", err)
	}
	if err := p.Feed(nil, func(Decision) error { return nil }); err == nil {
		t.Fatal("feed after a failure was accepted")
	}
}

func TestParseTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-01T10:00:00Z", at(10), true},
		{"2026-03-01T12:00:00+02:00", at(10), true},
		{" 2026-03-01T10:00:00.5Z ", at(10).Add(500 * time.Millisecond), true},
		{"2026-03-01T10:00:00", time.Time{}, false},
		{"2026-03-01 10:00:00", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := ParseTime(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) not in UTC", tt.in)
		}
	}
}

func TestSameContent(t *testing.T) {
	a := Entry{Key: "a", Size: 3, ETag: `"ABC"`}
	for _, tt := range []struct {
		b    Entry
		same bool
	}{
		{Entry{Key: "b", Size: 3, ETag: "abc"}, true},
		{Entry{Key: "b", Size: 4, ETag: "abc"}, false},
		{Entry{Key: "b", Size: 3, ETag: `"abd"`}, false},
		{Entry{Key: "b", Size: 3}, false},
	} {
		if got := SameContent(a, tt.b); got != tt.same {
			t.Errorf("SameContent(%v, %v) = %v", a, tt.b, got)
		}
	}
	if SameContent(Entry{}, Entry{}) {
		t.Error("two entries without ETags are the same")
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tt := range []struct {
		sb, sp, db, dp string
		ok             bool
	}{
		{"b", "models/", "b", "models/", true},
		{"b", "models/", "c", "models/", true},
		{"b", "models/", "b", "restored/", true},
		{"b", "models/", "b", "models/old/", false},
		{"b", "models/old/", "b", "models/", false},
		{"b", "", "b", "restored/", false},
	} {
		err := CheckTarget(tt.sb, tt.sp, tt.db, tt.dp)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTarget(%v) = %v", tt, err)
		}
	}
}

func TestPlannerKeyWithManyVersions(t *testing.T) {
	// 2,500 versions of one key, one a minute, newest first, listed in
	// pages of 1,000 as S3 does; then a second key.
	var listing []Entry
	for i := 2500; i >= 1; i-- {
		e := ver("big", fmt.Sprintf("v%04d", i), 0)
		e.LastModified = t0.Add(time.Duration(i) * time.Minute)
		listing = append(listing, e)
	}
	listing = append(listing, ver("small", "s1", 0))
	T := t0.Add(800*time.Minute + 30*time.Second)
	ds, st, err := run(Options{At: T}, pages(listing, 1000))
	if err != nil {
		t.Fatal(err)
	}
	want := []want{{"big", Copy, "v0800"}, {"small", Keep, "s1"}}
	if fmt.Sprint(got(ds)) != fmt.Sprint(want) || st.Entries != 2501 {
		t.Fatalf("got %v (%+v), want %v", got(ds), st, want)
	}
}

func TestEntryArchived(t *testing.T) {
	for _, tt := range []struct {
		e    Entry
		want bool
	}{
		{Entry{Key: "a", StorageClass: "GLACIER"}, true},
		{Entry{Key: "a", StorageClass: "DEEP_ARCHIVE"}, true},
		{Entry{Key: "a", StorageClass: "GLACIER_IR"}, false},
		{Entry{Key: "a", StorageClass: "STANDARD"}, false},
		{Entry{Key: "a", StorageClass: "GLACIER", IsDeleteMarker: true}, false},
		{Entry{}, false},
	} {
		if got := tt.e.Archived(); got != tt.want {
			t.Errorf("%+v.Archived() = %v", tt.e, got)
		}
	}
}
