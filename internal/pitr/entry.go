// Package pitr plans point-in-time restores of S3 prefixes from version
// listings. It is pure: it reads entries in the order ListObjectVersions
// returns them and decides, key by key, what one write (a copy or a delete
// marker) or no write brings each key back to its state at a time T. It
// never performs I/O; the listing and the writes belong to its callers.
package pitr

import (
	"fmt"
	"strings"
	"time"
)

// Entry is one version or delete marker, as a ListObjectVersions page lists
// it. Entries must be fed in true listing order: keys ascending by their
// UTF-8 bytes, and each key's entries newest first, versions and delete
// markers interleaved.
type Entry struct {
	Key            string
	VersionID      string // "null" for objects written while versioning was off or suspended
	IsDeleteMarker bool
	IsLatest       bool
	LastModified   time.Time
	Size           int64
	ETag           string
	// StorageClass is the listing's storage class ("" when it has none,
	// as for delete markers).
	StorageClass string
}

// Exists reports whether e holds an entry; the zero Entry stands for a key
// that has none.
func (e Entry) Exists() bool { return e.Key != "" }

// IsVersion reports whether e is an object version (not a delete marker, not absent).
func (e Entry) IsVersion() bool { return e.Exists() && !e.IsDeleteMarker }

// Archived reports whether the version sits in an archive storage class
// (GLACIER, DEEP_ARCHIVE) and must be restored before it can be copied.
// Intelligent-Tiering's archive tiers do not show in a listing; they show
// in HeadObject's archive status.
func (e Entry) Archived() bool {
	return e.IsVersion() && (e.StorageClass == "GLACIER" || e.StorageClass == "DEEP_ARCHIVE")
}

// String renders the entry for plans and error messages.
func (e Entry) String() string {
	switch {
	case !e.Exists():
		return "(absent)"
	case e.IsDeleteMarker:
		return fmt.Sprintf("%s delete marker %s at %s", e.Key, e.VersionID, e.LastModified.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("%s version %s at %s (%d bytes)", e.Key, e.VersionID, e.LastModified.UTC().Format(time.RFC3339), e.Size)
	}
}

// SameContent reports whether two versions hold the same bytes as far as
// their listing shows: equal size and equal, non-empty ETag. It never claims
// sameness wrongly short of an MD5 collision, but it can miss it: objects
// encrypted with SSE-KMS and objects copied in parts (ETag "…-N") get a new
// ETag when copied, so a restore of such an object looks changed to a second
// run, which then copies it again. Callers that know more (checksums, a
// metadata field naming the source version) pass their own comparison in
// Options.Same.
func SameContent(a, b Entry) bool {
	ea, eb := normalizeETag(a.ETag), normalizeETag(b.ETag)
	return a.Size == b.Size && ea != "" && ea == eb
}

func normalizeETag(s string) string {
	return strings.ToLower(strings.Trim(s, `"`))
}

// ParseTime reads a restore time. It accepts RFC 3339 only, which requires
// a zone ("Z" or an offset): a time without one is ambiguous across the
// operator's machine, the runbook's author and S3, which speaks UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("restore time %q: want RFC 3339 with a zone, such as 2026-01-02T15:04:05Z: %w", s, err)
	}
	return t.UTC(), nil
}
