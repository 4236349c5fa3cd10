package pitr

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// at returns t0 plus h hours.
func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func ver(key, id string, h int) Entry {
	return Entry{Key: key, VersionID: id, LastModified: at(h), Size: int64(len(id)), ETag: `"etag-` + id + `"`}
}

func dm(key, id string, h int) Entry {
	return Entry{Key: key, VersionID: id, IsDeleteMarker: true, LastModified: at(h)}
}

// pages cuts a listing into pages of n entries.
func pages(entries []Entry, n int) [][]Entry {
	var out [][]Entry
	for len(entries) > n {
		out = append(out, entries[:n])
		entries = entries[n:]
	}
	return append(out, entries)
}

// run feeds pages to a planner and collects its decisions.
func run(o Options, pp [][]Entry) ([]Decision, Stats, error) {
	p, err := New(o)
	if err != nil {
		return nil, Stats{}, err
	}
	var out []Decision
	emit := func(d Decision) error { out = append(out, d); return nil }
	for _, page := range pp {
		if err := p.Feed(page, emit); err != nil {
			return out, p.Stats(), err
		}
	}
	err = p.Close(emit)
	return out, p.Stats(), err
}

// store is a versioned bucket in memory: per key, entries newest first.
type store struct {
	keys map[string][]Entry
	seq  int
	now  time.Time
}

func newStore(listing []Entry) *store {
	s := &store{keys: map[string][]Entry{}, now: at(1000)}
	for _, e := range listing {
		e.IsLatest = len(s.keys[e.Key]) == 0
		s.keys[e.Key] = append(s.keys[e.Key], e)
	}
	return s
}

// listing returns the store in S3's order.
func (s *store) listing() []Entry {
	var out []Entry
	for _, k := range sortedKeys(s.keys) {
		out = append(out, s.keys[k]...)
	}
	return out
}

func (s *store) put(key string, e Entry) {
	s.seq++
	s.now = s.now.Add(time.Second)
	e.Key, e.VersionID, e.LastModified, e.IsLatest = key, fmt.Sprintf("w%d", s.seq), s.now, true
	old := s.keys[key]
	if len(old) > 0 {
		old[0].IsLatest = false
	}
	s.keys[key] = append([]Entry{e}, old...)
}

// apply performs a plan's writes on s (the target store).
func (s *store) apply(ds []Decision) {
	for _, d := range ds {
		switch d.Action {
		case Copy:
			s.put(d.TargetKey, Entry{Size: d.Source.Size, ETag: d.Source.ETag})
		case Delete:
			s.put(d.TargetKey, Entry{IsDeleteMarker: true})
		}
	}
}

// current returns each key's current entry.
func (s *store) current() map[string]Entry {
	out := map[string]Entry{}
	for k, es := range s.keys {
		out[k] = es[0]
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
