package pitr

import (
	"errors"
	"strings"
	"testing"
)

func latest(e Entry) Entry { e.IsLatest = true; return e }

func TestOrderCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		listing []Entry
		bad     int    // index of the refused entry; -1: accepted
		words   string // in the refusal
	}{
		{"S3's order", []Entry{latest(dm("a", "d2", 5)), ver("a", "v2", 4), ver("a", "v1", 1), latest(ver("b", "v1", 2))}, -1, ""},
		{"same second", []Entry{latest(ver("a", "v2", 3)), dm("a", "d1", 3), ver("a", "v1", 3)}, -1, ""},
		{"versions first, delete markers after", []Entry{latest(ver("a", "v2", 4)), ver("a", "v1", 1), dm("a", "d2", 5)}, 2, "after the older v1"},
		{"a non-latest entry first", []Entry{ver("a", "v1", 1), latest(ver("a", "v2", 4))}, 0, "not marked IsLatest"},
		{"oldest first", []Entry{latest(ver("a", "v1", 1)), ver("a", "v2", 4)}, 1, "after the older"},
		{"two latest", []Entry{latest(ver("a", "v2", 4)), latest(ver("a", "v1", 1))}, 1, "second entry marked IsLatest"},
		{"keys descending", []Entry{latest(ver("b", "v1", 1)), latest(ver("a", "v1", 1))}, 1, `key "a" listed after "b"`},
		{"next key not latest", []Entry{latest(ver("a", "v1", 1)), ver("b", "v1", 1)}, 1, `first entry of key "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c OrderCheck
			for i, e := range tc.listing {
				err := c.Check(e)
				switch {
				case i == tc.bad && (!errors.Is(err, ErrOrder) || !strings.Contains(err.Error(), tc.words)):
					t.Fatalf("entry %d: %v, want ErrOrder saying %q", i, err, tc.words)
				case i == tc.bad:
					return
				case err != nil:
					t.Fatalf("entry %d: %v", i, err)
				}
			}
			if tc.bad >= 0 {
				t.Fatalf("listing accepted, want entry %d refused", tc.bad)
			}
		})
	}
}

// FuzzOrderCheck: a listing built in S3's order is always accepted, and
// swapping two entries of one key with different times is refused.
func FuzzOrderCheck(f *testing.F) {
	f.Add([]byte{3, 1, 2, 0, 5})
	f.Add([]byte{0, 0, 7})
	f.Fuzz(func(t *testing.T, hours []byte) {
		if len(hours) < 2 || len(hours) > 64 {
			t.Skip()
		}
		// One key, entries newest first.
		hs := make([]int, len(hours))
		for i, h := range hours {
			hs[i] = int(h)
		}
		for i := range hs {
			for j := i + 1; j < len(hs); j++ {
				if hs[j] > hs[i] {
					hs[i], hs[j] = hs[j], hs[i]
				}
			}
		}
		listing := make([]Entry, len(hs))
		for i, h := range hs {
			listing[i] = ver("k", string(rune('a'+i%26)), h)
		}
		listing[0].IsLatest = true
		var c OrderCheck
		for _, e := range listing {
			if err := c.Check(e); err != nil {
				t.Fatalf("S3's order refused: %v", err)
			}
		}
		if hs[0] == hs[len(hs)-1] {
			return
		}
		// The oldest entry listed first: refused somewhere.
		swapped := append([]Entry{listing[len(listing)-1]}, listing[:len(listing)-1]...)
		swapped[0].IsLatest, swapped[1].IsLatest = true, false
		c = OrderCheck{}
		for _, e := range swapped {
			if err := c.Check(e); err != nil {
				return
			}
		}
		t.Fatalf("oldest-first listing %v accepted", hs)
	})
}
