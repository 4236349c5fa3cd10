package pitr

// SliceCursor reads entries from a slice.
func SliceCursor(entries []Entry) Cursor {
	return &sliceCursor{entries: entries}
}

type sliceCursor struct {
	entries []Entry
	i       int
}

func (c *sliceCursor) Next() (Entry, bool, error) {
	if c.i >= len(c.entries) {
		return Entry{}, false, nil
	}
	c.i++
	return c.entries[c.i-1], true, nil
}

// PageCursor reads entries from a source of pages: next returns the next
// page, or ok false at the end. Empty pages are skipped.
func PageCursor(next func() (page []Entry, ok bool, err error)) Cursor {
	return &pageCursor{next: next}
}

type pageCursor struct {
	next func() ([]Entry, bool, error)
	page []Entry
	i    int
	done bool
}

func (c *pageCursor) Next() (Entry, bool, error) {
	for c.i >= len(c.page) {
		if c.done {
			return Entry{}, false, nil
		}
		page, ok, err := c.next()
		if err != nil {
			return Entry{}, false, err
		}
		if !ok {
			c.done = true
			return Entry{}, false, nil
		}
		c.page, c.i = page, 0
	}
	c.i++
	return c.page[c.i-1], true, nil
}
