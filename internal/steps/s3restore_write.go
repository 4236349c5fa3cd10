package steps

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/pitr"
)

// Writes whose answer is lost.
//
// A copy over a key or a delete marker on it is not idempotent in a
// versioned bucket: sent twice, it leaves two versions or two markers, and
// the second is one the journal's undo record does not name. The SDK would
// send it again after any connection error, including those where the
// request was sent and applied and only the answer was lost (a cut or
// reset connection, a timeout waiting for the answer). So the writes are
// made with awsx.NoAmbiguousRetry, and when one fails that way the step
// looks at the key's versions before sending it again: if a version (or
// marker) newer than what the key held when the write was decided matches
// the write, the write landed and that is its version; otherwise it is
// sent again.
//
// S3's conditional writes (If-Match, If-None-Match) cannot do this for
// every write a restore makes: DeleteObject takes no condition that refuses
// a second marker in a general purpose bucket, CopyObject's conditions are
// refused with 501 in buckets whose policy enforces conditional writes, and
// S3-compatible stores (MinIO, the sandbox) differ in what they honour. A
// listing of the key is a read every store answers alike.
//
// The look relies on nobody else writing the key during the restore (one
// operator at a time), and on a copy's version carrying its source's ETag
// and size. Where it does not (SSE-KMS objects get a new ETag), a landed
// copy looks unlanded and is sent again; the look after the resend names
// every matching version it finds, so at worst the journal names a
// duplicate rather than missing one. A write S3 applies only after both
// looks, long after its connection was cut, cannot be seen.

// maxSends bounds how often one write is sent when each answer is lost
// and the key shows it was not applied.
const maxSends = 4

// cancelledLookTimeout bounds the look at a key whose write was in flight
// when the run was cancelled.
const cancelledLookTimeout = 5 * time.Second

// keyWrite is one write to a key and what the step knew of the key when it
// decided on it: enough to tell, after an answer was lost, whether the
// write was applied.
type keyWrite struct {
	// Dst is the key written (its VersionID is not used).
	Dst objectVersion
	// Prev is the key's current entry when the write was decided; the zero
	// Entry when the key had none.
	Prev pitr.Entry
	// Src is the version a copy makes current, Size and ETag its size and
	// ETag from the listing; Src.Key is "" for a delete marker.
	Src  objectVersion
	Size int64
	ETag string

	// parts are a multipart copy's completed parts, set before it is
	// completed: its version's ETag is computed from theirs.
	parts []types.CompletedPart
	// lost is set once an answer was lost and the key showed nothing: an
	// earlier send may still land, so the final look names what it finds.
	lost bool
}

// written names the versions one write created: Version is the one it
// made current; Extra lists any others it left (a send whose answer was
// lost and that S3 applied besides the one that answered), newest first.
type written struct {
	Version string
	Extra   []string
}

// isDelete reports whether the write adds a delete marker.
func (w *keyWrite) isDelete() bool { return w.Src.Key == "" }

// matches reports whether entry e of Dst is what the write leaves.
func (w *keyWrite) matches(e pitr.Entry) bool {
	if w.isDelete() {
		return e.IsDeleteMarker
	}
	if e.IsDeleteMarker || e.Size != w.Size {
		return false
	}
	etag := w.ETag
	if len(w.parts) > 0 {
		etag = multipartETag(w.parts)
		if etag == "" {
			// Parts whose ETags are not MD5s (SSE-KMS): the part count is all
			// the ETag says.
			return strings.HasSuffix(strings.Trim(e.ETag, `"`), "-"+strconv.Itoa(len(w.parts)))
		}
	}
	return pitr.SameContent(e, pitr.Entry{Size: w.Size, ETag: etag})
}

// multipartETag is the ETag S3 gives an object completed from parts: the
// MD5 of the parts' binary MD5s, then "-" and the part count. It is "" when
// a part's ETag is not an MD5.
func multipartETag(parts []types.CompletedPart) string {
	h := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(strings.Trim(aws.ToString(p.ETag), `"`))
		if err != nil || len(b) != md5.Size {
			return ""
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}

// landed lists Dst's entries newer than Prev (newest first, in S3's
// listing order) and returns the version ids of those the write would
// have left. The listing counts against the request limit, as the write
// does.
func (c *copier) landed(ctx context.Context, w *keyWrite) ([]string, error) {
	errPrev := errors.New("reached the entry the write replaced")
	var mine []string
	l := awsx.VersionListing{Bucket: w.Dst.Bucket, Prefix: w.Dst.Key, Range: pitr.Range{Through: w.Dst.Key}}
	err := awsx.ListVersions(ctx, c.Dst, l, func(page []pitr.Entry) error {
		for _, e := range page {
			if e.Key != w.Dst.Key {
				continue
			}
			// In a bucket that keeps no history the write replaced the
			// null version in place: it looks unlanded, and sending it
			// again replaces it again, which adds nothing.
			if w.Prev.Exists() && e.VersionID == w.Prev.VersionID {
				return errPrev
			}
			if w.matches(e) {
				mine = append(mine, e.VersionID)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPrev) {
		return nil, fmt.Errorf("list the versions of %s/%s: %w", w.Dst.Bucket, w.Dst.Key, err)
	}
	return mine, nil
}

// once sends a write (send returns the version id S3 answered with) and
// makes sure it is applied once: an ambiguous failure is answered by a
// look at the key, and the write is sent again only if the look shows it
// was not applied.
func (c *copier) once(ctx context.Context, w *keyWrite, send func() (string, error)) (written, error) {
	for sent := 1; ; sent++ {
		v, err := send()
		switch {
		case err != nil && ctx.Err() != nil:
			return c.cancelled(ctx, w, err)
		case err == nil:
			out := written{Version: v}
			if w.lost {
				// An earlier send may have been applied after the look that
				// found nothing: name it too. If this look fails the write
				// is still done and recorded, and undoing it by the previous
				// version is unaffected.
				if found, lerr := c.landed(ctx, w); lerr == nil {
					out.Extra = slices.DeleteFunc(found, func(id string) bool { return id == v })
				}
			}
			return out, nil
		case !awsx.IsAmbiguous(err) && !w.lost:
			return written{}, err
		}
		// The answer was lost (or, after a lost one, this send failed: a
		// Complete of an upload the lost one completed answers NoSuchUpload).
		found, lerr := c.landed(ctx, w)
		if lerr != nil {
			return written{}, fmt.Errorf("%w; whether it was applied is unknown: %w", err, lerr)
		}
		if len(found) > 0 {
			return written{Version: found[0], Extra: found[1:]}, nil
		}
		if !awsx.IsAmbiguous(err) {
			return written{}, err
		}
		w.lost = true
		if sent >= maxSends || ctx.Err() != nil {
			return written{}, fmt.Errorf("%w (sent %d times; each answer was lost and the key shows none applied)", err, sent)
		}
	}
}

// cancelled settles a write the run's cancellation (Ctrl-C, the step's
// timeout) cut short: if it was sent, S3 may have applied it, and a short
// look at the key, on a context that outlives the cancellation, lets the
// record name what it left and a resumed run count it. Not when the region
// stopped answering: the look would only wait.
func (c *copier) cancelled(ctx context.Context, w *keyWrite, err error) (written, error) {
	var down *awsx.UnavailableError
	if errors.Is(err, awsx.ErrNotSent) || errors.As(context.Cause(ctx), &down) {
		return written{}, err
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelledLookTimeout)
	defer cancel()
	found, lerr := c.landed(lctx, w)
	if lerr != nil || len(found) == 0 {
		return written{}, err
	}
	return written{Version: found[0], Extra: found[1:]}, nil
}
