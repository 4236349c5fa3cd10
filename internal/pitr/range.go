package pitr

import (
	"errors"
	"fmt"
	"strings"
)

// Range is a span of keys (After, Through]: keys greater than After and at
// most Through; an empty bound is open. The exclusive lower bound matches
// ListObjectVersions' KeyMarker, so a range's listing starts with
// KeyMarker = After and stops past Through.
type Range struct {
	After   string
	Through string
}

// Contains reports whether key is in r.
func (r Range) Contains(key string) bool {
	return (r.After == "" || key > r.After) && (r.Through == "" || key <= r.Through)
}

// String renders the range for logs.
func (r Range) String() string {
	lo, hi := "(start", "end)"
	if r.After != "" {
		lo = fmt.Sprintf("(%q", r.After)
	}
	if r.Through != "" {
		hi = fmt.Sprintf("%q]", r.Through)
	}
	return lo + ", " + hi
}

func (r Range) check() error {
	if r.After != "" && r.Through != "" && r.Through <= r.After {
		return fmt.Errorf("empty key range %s", r)
	}
	return nil
}

// Split proposes n contiguous ranges covering every key, cut at keys taken
// evenly from sample: a sorted sample of the prefix's keys, such as a first
// ListObjectsV2 page set or the CommonPrefixes of a delimited listing. Each
// range can then be listed and planned on its own, concurrently; together
// they decide every key exactly once. Fewer ranges come back when the sample
// has too few distinct keys.
func Split(sample []string, n int) ([]Range, error) {
	if n < 1 {
		return nil, errors.New("split: want at least one range")
	}
	for i := 1; i < len(sample); i++ {
		if sample[i] < sample[i-1] {
			return nil, fmt.Errorf("split: sample %w at %q", ErrOrder, sample[i])
		}
	}
	var cuts []string
	for i := 1; i < n; i++ {
		j := i * len(sample) / n
		if j >= len(sample) {
			break
		}
		c := sample[j]
		if c == "" || (len(cuts) > 0 && c <= cuts[len(cuts)-1]) {
			continue
		}
		cuts = append(cuts, c)
	}
	out := make([]Range, 0, len(cuts)+1)
	after := ""
	for _, c := range cuts {
		out = append(out, Range{After: after, Through: c})
		after = c
	}
	return append(out, Range{After: after}), nil
}

// MapRange moves a range of source keys under srcPrefix to the matching
// range of target keys under dstPrefix, to bound the target's listing
// alongside the source's. A bound outside srcPrefix becomes open: the
// planner still skips what is out of range, at the cost of reading it.
func MapRange(r Range, srcPrefix, dstPrefix string) Range {
	move := func(k string) string {
		if rest, ok := strings.CutPrefix(k, srcPrefix); ok && k != "" {
			return dstPrefix + rest
		}
		return ""
	}
	return Range{After: move(r.After), Through: move(r.Through)}
}
