package pitr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Action is what a decision does to one key.
type Action uint8

// The three outcomes for a key.
const (
	// Keep: the key already is in its state at T; no write.
	Keep Action = iota
	// Copy: copy Source (the version current at T) over the key, making it
	// the current version again.
	Copy
	// Delete: add a delete marker, because the key was deleted or did not
	// exist at T. No version is ever destroyed.
	Delete
)

// String names the action.
func (a Action) String() string {
	switch a {
	case Keep:
		return "keep"
	case Copy:
		return "copy"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Decision is the plan for one key.
type Decision struct {
	// Key is the source key.
	Key string
	// TargetKey is the key the action applies to: Key itself for an in-place
	// restore, or Key moved from the source prefix to the target prefix.
	TargetKey string
	Action    Action
	// Source is the version current at T, whenever T's state is a version
	// (for Copy, what to copy; for Keep, what is already there). It is the
	// zero Entry when the key was deleted or absent at T.
	Source Entry
	// Current is the target key's current entry before the restore, or the
	// zero Entry when it has none: what the undo journal records so the
	// restore can itself be reverted.
	Current Entry
}

// ErrOrder reports a listing that is not in S3's order, which would make
// streaming decisions wrong; it usually means entries were regrouped (the
// SDK's split into Versions and DeleteMarkers) or pages were fed twice.
var ErrOrder = errors.New("listing out of order")

// Cursor reads a target's entries in ascending key order. Only the first
// entry of each key counts (its current one): a ListObjectsV2 listing (one
// entry per key) and a ListObjectVersions listing both fit.
type Cursor interface {
	// Next returns the next entry, or ok false at the end.
	Next() (e Entry, ok bool, err error)
}

// Options configures a Planner.
type Options struct {
	// At is the time to restore to. A key's state at At is its newest entry
	// in listing order with LastModified ≤ At (inclusive).
	At time.Time
	// SourcePrefix is the listed prefix. Every listed key must start with it.
	SourcePrefix string
	// Target is the destination's current state when restoring into another
	// bucket or prefix; nil restores in place. With a target, keys that
	// have no state at T are deleted from it, so it mirrors T.
	Target Cursor
	// TargetPrefix replaces SourcePrefix in target keys. Only with Target.
	TargetPrefix string
	// Same reports whether the current target version already holds the
	// version current at T; nil means SameContent.
	Same func(atT, current Entry) bool
	// Range bounds the keys this planner decides (source keys), so that
	// disjoint ranges of one prefix can be planned concurrently; entries
	// outside it, in either stream, are skipped. The zero Range is everything.
	Range Range
}

// Stats counts what a planner has seen and decided.
type Stats struct {
	Entries     int64 // versions and delete markers read from the source
	Keys        int64 // keys decided
	Copies      int64
	Deletes     int64
	Keeps       int64
	CopyBytes   int64 // bytes the copies will move
	TargetReads int64 // entries read from the target cursor
}

// Add adds o's counts to s, to total the plans of several key ranges.
func (s *Stats) Add(o Stats) {
	s.Entries += o.Entries
	s.Keys += o.Keys
	s.Copies += o.Copies
	s.Deletes += o.Deletes
	s.Keeps += o.Keeps
	s.CopyBytes += o.CopyBytes
	s.TargetReads += o.TargetReads
}

// Writes is the number of writes the plan makes.
func (s Stats) Writes() int64 { return s.Copies + s.Deletes }

// Planner turns a version listing, fed page by page, into a stream of
// decisions. A key's decision is final when the next key starts or the
// listing ends, so a planner holds one key's state at a time however many
// versions the key has. A Planner is not safe for concurrent use; plan key
// ranges concurrently with one Planner each.
type Planner struct {
	o      Options
	closed bool

	// The key being read.
	key     string
	started bool
	current Entry // its first entry in listing order: the current one
	atT     Entry // its newest entry with LastModified ≤ At
	found   bool
	atFirst bool // atT is current

	// The target stream, one key ahead.
	peek     Entry
	peeked   bool
	tdone    bool
	lastTKey string

	stats Stats
}

// New returns a planner.
func New(o Options) (*Planner, error) {
	if o.At.IsZero() {
		return nil, errors.New("plan: no restore time")
	}
	if o.Target == nil && o.TargetPrefix != "" && o.TargetPrefix != o.SourcePrefix {
		return nil, errors.New("plan: a target prefix needs the target's listing")
	}
	if o.Target == nil {
		o.TargetPrefix = o.SourcePrefix
	}
	if o.Same == nil {
		o.Same = SameContent
	}
	if err := o.Range.check(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &Planner{o: o}, nil
}

// Stats returns the counts so far.
func (p *Planner) Stats() Stats { return p.stats }

// Feed reads one listing page and emits the decisions it makes final: for
// every key that ended before the page's last key. A page may start in the
// middle of a key and may hold only delete markers. An error from emit
// stops the planner and is returned.
func (p *Planner) Feed(page []Entry, emit func(Decision) error) error {
	if p.closed {
		return errors.New("plan: feed after close")
	}
	for i := range page {
		e := &page[i]
		if err := p.add(e, emit); err != nil {
			p.closed = true
			return err
		}
	}
	return nil
}

// Close ends the listing: it emits the last key's decision and, with a
// target, deletes for the target's remaining keys.
func (p *Planner) Close(emit func(Decision) error) error {
	if p.closed {
		return errors.New("plan: closed twice")
	}
	p.closed = true
	if p.started {
		if err := p.decide(emit); err != nil {
			return err
		}
	}
	return p.drainTarget("", true, emit)
}

func (p *Planner) add(e *Entry, emit func(Decision) error) error {
	if e.Key == "" {
		return errors.New("plan: entry without a key")
	}
	if !strings.HasPrefix(e.Key, p.o.SourcePrefix) {
		return fmt.Errorf("plan: key %q is outside prefix %q", e.Key, p.o.SourcePrefix)
	}
	if e.LastModified.IsZero() {
		return fmt.Errorf("plan: %s: no LastModified", e.Key)
	}
	if !p.o.Range.Contains(e.Key) {
		return nil
	}
	p.stats.Entries++
	if p.started && e.Key == p.key {
		if !p.found && !e.LastModified.After(p.o.At) {
			p.atT, p.found = *e, true
		}
		return nil
	}
	if p.started {
		if e.Key < p.key {
			return fmt.Errorf("plan: %w: key %q after %q", ErrOrder, e.Key, p.key)
		}
		if err := p.decide(emit); err != nil {
			return err
		}
	}
	p.started = true
	p.key = e.Key
	p.current = *e
	p.found = !e.LastModified.After(p.o.At)
	p.atFirst = p.found
	if p.found {
		p.atT = *e
	} else {
		p.atT = Entry{}
	}
	return nil
}

// decide emits the decision for the key just read.
func (p *Planner) decide(emit func(Decision) error) error {
	d := Decision{Key: p.key, TargetKey: p.targetKey(p.key)}
	inPlace := p.o.Target == nil
	if inPlace {
		d.Current = p.current
	} else {
		cur, err := p.targetCurrent(d.TargetKey, emit)
		if err != nil {
			return err
		}
		d.Current = cur
	}
	if p.found && !p.atT.IsDeleteMarker {
		d.Source = p.atT
		switch {
		case inPlace && p.atFirst:
			d.Action = Keep
		case d.Current.IsVersion() && p.o.Same(p.atT, d.Current):
			d.Action = Keep
		default:
			d.Action = Copy
		}
	} else if d.Current.IsVersion() {
		d.Action = Delete
	} else {
		d.Action = Keep
	}
	return p.emit(d, emit)
}

func (p *Planner) emit(d Decision, emit func(Decision) error) error {
	p.stats.Keys++
	switch d.Action {
	case Copy:
		p.stats.Copies++
		p.stats.CopyBytes += d.Source.Size
	case Delete:
		p.stats.Deletes++
	default:
		p.stats.Keeps++
	}
	return emit(d)
}

func (p *Planner) targetKey(key string) string {
	return p.o.TargetPrefix + key[len(p.o.SourcePrefix):]
}

func (p *Planner) sourceKey(targetKey string) string {
	return p.o.SourcePrefix + targetKey[len(p.o.TargetPrefix):]
}

// targetCurrent moves the target stream up to key tk, deleting the target
// keys before it (they have no history in the source, so no state at T),
// and returns tk's current entry in the target, if any.
func (p *Planner) targetCurrent(tk string, emit func(Decision) error) (Entry, error) {
	if err := p.drainTarget(tk, false, emit); err != nil {
		return Entry{}, err
	}
	if p.peeked && p.peek.Key == tk {
		p.peeked = false
		return p.peek, nil
	}
	return Entry{}, nil
}

// drainTarget emits target-only decisions for every target key before
// limit (or every remaining one when all is set), leaving the first key at
// or after limit in p.peek.
func (p *Planner) drainTarget(limit string, all bool, emit func(Decision) error) error {
	if p.o.Target == nil {
		return nil
	}
	for {
		if !p.peeked {
			ok, err := p.nextTargetKey()
			if err != nil || !ok {
				return err
			}
		}
		if !all && p.peek.Key >= limit {
			return nil
		}
		p.peeked = false
		t := p.peek
		d := Decision{Key: p.sourceKey(t.Key), TargetKey: t.Key, Current: t}
		if t.IsVersion() {
			d.Action = Delete
		}
		if err := p.emit(d, emit); err != nil {
			return err
		}
	}
}

// nextTargetKey reads the target cursor up to the first entry of the next
// key in range, skipping the older entries of keys already seen.
func (p *Planner) nextTargetKey() (bool, error) {
	if p.tdone {
		return false, nil
	}
	for {
		e, ok, err := p.o.Target.Next()
		if err != nil {
			return false, fmt.Errorf("plan: read target: %w", err)
		}
		if !ok {
			p.tdone = true
			return false, nil
		}
		p.stats.TargetReads++
		if e.Key == "" {
			return false, errors.New("plan: target entry without a key")
		}
		if !strings.HasPrefix(e.Key, p.o.TargetPrefix) {
			return false, fmt.Errorf("plan: target key %q is outside prefix %q", e.Key, p.o.TargetPrefix)
		}
		if p.lastTKey != "" {
			if e.Key == p.lastTKey {
				continue
			}
			if e.Key < p.lastTKey {
				return false, fmt.Errorf("plan: target %w: key %q after %q", ErrOrder, e.Key, p.lastTKey)
			}
		}
		p.lastTKey = e.Key
		sk := p.sourceKey(e.Key)
		if p.o.Range.Through != "" && sk > p.o.Range.Through {
			p.tdone = true
			return false, nil
		}
		if !p.o.Range.Contains(sk) {
			continue
		}
		p.peek, p.peeked = e, true
		return true, nil
	}
}

// ErrOverlap is what CheckTarget's refusal wraps, so callers tell it
// apart with errors.Is rather than by its words.
var ErrOverlap = errors.New("target overlaps source")

// CheckTarget refuses a restore whose target overlaps its source without
// being it: a target prefix inside the source prefix of the same bucket (or
// the reverse) would make the restore list, and act on, its own output.
func CheckTarget(srcBucket, srcPrefix, dstBucket, dstPrefix string) error {
	if srcBucket != dstBucket || srcPrefix == dstPrefix {
		return nil
	}
	if strings.HasPrefix(dstPrefix, srcPrefix) || strings.HasPrefix(srcPrefix, dstPrefix) {
		return fmt.Errorf("%w: target %s/%s overlaps source %s/%s: choose prefixes that do not contain each other",
			ErrOverlap, dstBucket, dstPrefix, srcBucket, srcPrefix)
	}
	return nil
}
