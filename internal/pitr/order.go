package pitr

import "fmt"

// OrderCheck checks, entry by entry, that a version listing is in S3's
// order, which every plan here relies on: keys ascending, and within a
// key its entries newest first with the current one (IsLatest) first. A
// store that lists a key's versions in another order (versions first and
// delete markers after, oldest first) would make a restore leave a
// deleted key deleted or call a stale version current, with no error; two
// cheap checks per key refuse it instead. The zero value is ready; it
// keeps its state across pages.
type OrderCheck struct {
	key     string
	started bool
	last    Entry
}

// Check accepts e as the next entry of the listing, or says how the
// listing left S3's order (the error wraps ErrOrder).
func (c *OrderCheck) Check(e Entry) error {
	switch {
	case !c.started || e.Key != c.key:
		if c.started && e.Key < c.key {
			return fmt.Errorf("%w: key %q listed after %q", ErrOrder, e.Key, c.key)
		}
		if !e.IsLatest {
			return fmt.Errorf("%w: the first entry of key %q (%s) is not marked IsLatest: "+
				"the store lists a key's versions out of S3's order (newest first, the current one first)", ErrOrder, e.Key, e.VersionID)
		}
	case e.IsLatest:
		return fmt.Errorf("%w: key %q lists a second entry marked IsLatest (%s after %s): "+
			"the store lists a key's versions out of S3's order", ErrOrder, e.Key, e.VersionID, c.last.VersionID)
	case e.LastModified.After(c.last.LastModified):
		return fmt.Errorf("%w: key %q lists %s (%s) after the older %s (%s): "+
			"the store lists a key's versions out of S3's order (newest first)", ErrOrder, e.Key,
			e.VersionID, e.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
			c.last.VersionID, c.last.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	c.key, c.started, c.last = e.Key, true, e
	return nil
}
