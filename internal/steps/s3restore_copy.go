package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/sourcegraph/conc/pool"

	"github.com/drconsole/drconsole/internal/awsx"
)

// S3's limits for copies: CopyObject is atomic up to 5 GiB; above it the
// object must be copied in parts of 5 MiB to 5 GiB, at most 10,000 of them.
const (
	maxSingleCopy   = 5 << 30
	minPartSize     = 5 << 20
	maxPartSize     = 5 << 30
	maxParts        = 10000
	defaultPartSize = 512 << 20
	// maxPartWorkers bounds the parts of one object copied at once.
	maxPartWorkers = 8
)

// objectVersion names one version of an object.
type objectVersion struct {
	Bucket, Key, VersionID string
}

// copySource renders the x-amz-copy-source value for a version:
// bucket/key?versionId=V with the key percent-encoded. Everything but
// unreserved characters and "/" is escaped, so "+" and spaces survive
// stores that decode the header as a query string as well as those that
// decode it as a path.
func copySource(v objectVersion) string {
	s := v.Bucket + "/" + escapeKey(v.Key)
	if v.VersionID != "" {
		s += "?versionId=" + escapeKey(v.VersionID)
	}
	return s
}

func escapeKey(k string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// archivedClass reports whether objects of a storage class must be restored
// from an archive before they can be copied.
func archivedClass(class string) bool {
	// GLACIER_IR (instant retrieval) copies like any other class.
	switch class {
	case "GLACIER", "DEEP_ARCHIVE":
		return true
	}
	return false
}

// errArchived marks a version that cannot be copied until it is restored
// from an archive tier.
var errArchived = errors.New("version is archived: restore it from the archive (RestoreObject) first")

// copier copies object versions, in one CopyObject up to the single-copy
// limit and in parts above it.
type copier struct {
	Src, Dst *s3.Client
	// Threshold is the size above which copies go multipart; PartSize the
	// part size. Zero values take S3's limit and 512 MiB.
	Threshold, PartSize int64
}

// Copy makes w.Src the current version of w.Dst and returns the version
// S3 gave the copy. Content headers, user metadata and tags are kept.
func (c *copier) Copy(ctx context.Context, w *keyWrite) (written, error) {
	threshold := c.Threshold
	if threshold <= 0 {
		threshold = maxSingleCopy
	}
	if w.Size > threshold {
		return c.multipart(ctx, w)
	}
	out, err := c.once(ctx, w, func() (string, error) {
		out, err := c.Dst.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket:            aws.String(w.Dst.Bucket),
			Key:               aws.String(w.Dst.Key),
			CopySource:        aws.String(copySource(w.Src)),
			MetadataDirective: types.MetadataDirectiveCopy,
			TaggingDirective:  types.TaggingDirectiveCopy,
		}, awsx.NoAmbiguousRetry)
		if err != nil {
			return "", err
		}
		return aws.ToString(out.VersionId), nil
	})
	if err != nil {
		return written{}, copyError(w.Src, err)
	}
	return out, nil
}

// copyError names the source version and turns S3's answer for an
// archived source into a clear error.
func copyError(src objectVersion, err error) error {
	if isCode(err, "InvalidObjectState") {
		err = fmt.Errorf("%w (%v)", errArchived, err)
	}
	return fmt.Errorf("copy %s version %s: %w", src.Key, versionLabel(src.VersionID), err)
}

func versionLabel(v string) string {
	if v == "" {
		return "null"
	}
	return v
}

// partPlan splits size bytes into parts of at least partSize, growing the
// part size when 10,000 parts would not cover the object.
func partPlan(size, partSize int64) (n int, each int64) {
	if partSize < minPartSize {
		partSize = minPartSize
	}
	for (size+partSize-1)/partSize > maxParts && partSize < maxPartSize {
		partSize *= 2
	}
	if partSize > maxPartSize {
		partSize = maxPartSize
	}
	return int((size + partSize - 1) / partSize), partSize
}

// multipartRequests is how many requests a multipart copy of size bytes
// makes: HeadObject, GetObjectTagging, CreateMultipartUpload, the parts and
// CompleteMultipartUpload.
func multipartRequests(size, partSize int64) int {
	n, _ := partPlan(size, partSize)
	return 4 + n
}

func (c *copier) multipart(ctx context.Context, w *keyWrite) (written, error) {
	src, size, dst := w.Src, w.Size, w.Dst
	partSize := c.PartSize
	if partSize <= 0 {
		partSize = defaultPartSize
	}
	n, each := partPlan(size, partSize)

	// The SDK has no managed copy: carry the source's content headers, user
	// metadata and tags over by hand, since UploadPartCopy copies bytes only.
	head, err := c.Src.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(src.Bucket), Key: aws.String(src.Key), VersionId: optional(src.VersionID),
	})
	if err != nil {
		return written{}, fmt.Errorf("copy %s version %s: read headers: %w", src.Key, versionLabel(src.VersionID), err)
	}
	if (archivedClass(string(head.StorageClass)) && head.Restore == nil) || head.ArchiveStatus != "" {
		return written{}, copyError(src, errArchived)
	}
	var tags *s3.GetObjectTaggingOutput
	tags, err = c.Src.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{
		Bucket: aws.String(src.Bucket), Key: aws.String(src.Key), VersionId: optional(src.VersionID),
	})
	if err != nil {
		return written{}, fmt.Errorf("copy %s version %s: read tags: %w", src.Key, versionLabel(src.VersionID), err)
	}

	create := &s3.CreateMultipartUploadInput{
		Bucket:             aws.String(dst.Bucket),
		Key:                aws.String(dst.Key),
		ContentType:        head.ContentType,
		CacheControl:       head.CacheControl,
		ContentDisposition: head.ContentDisposition,
		ContentEncoding:    head.ContentEncoding,
		ContentLanguage:    head.ContentLanguage,
		Metadata:           head.Metadata,
	}
	if len(tags.TagSet) > 0 {
		q := url.Values{}
		for _, t := range tags.TagSet {
			q.Set(aws.ToString(t.Key), aws.ToString(t.Value))
		}
		// Form encoding writes a space as "+"; the tagging header is a URL
		// query, where "%20" is unambiguous.
		create.Tagging = aws.String(strings.ReplaceAll(q.Encode(), "+", "%20"))
	}
	var up *s3.CreateMultipartUploadOutput
	up, err = c.Dst.CreateMultipartUpload(ctx, create)
	if err != nil {
		return written{}, fmt.Errorf("copy %s version %s: start multipart copy: %w", src.Key, versionLabel(src.VersionID), err)
	}
	abort := func(cause error) (written, error) {
		// The upload holds storage until aborted; abort with a context that
		// outlives a cancelled run.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultAbortTimeout)
		defer cancel()
		_, aerr := c.Dst.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(dst.Bucket), Key: aws.String(dst.Key), UploadId: up.UploadId,
		})
		return written{}, errors.Join(cause, aerr)
	}

	// Parts are copied concurrently (within the shared request limit): a
	// model of hundreds of GiB is hundreds of parts, each a long server-side
	// copy.
	parts := make([]types.CompletedPart, n)
	source := copySource(src)
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(min(n, maxPartWorkers))
	for i := range n {
		p.Go(func(ctx context.Context) error {
			first := int64(i) * each
			last := min(first+each, size) - 1
			out, err := c.Dst.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
				Bucket:          aws.String(dst.Bucket),
				Key:             aws.String(dst.Key),
				UploadId:        up.UploadId,
				PartNumber:      aws.Int32(int32(i + 1)),
				CopySource:      aws.String(source),
				CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
			})
			if err != nil {
				return fmt.Errorf("%w (part %d of %d)", copyError(src, err), i+1, n)
			}
			parts[i] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i + 1))}
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return abort(err)
	}
	w.parts = parts
	out, err := c.once(ctx, w, func() (string, error) {
		done, err := c.Dst.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(dst.Bucket),
			Key:             aws.String(dst.Key),
			UploadId:        up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		}, awsx.NoAmbiguousRetry)
		if err != nil {
			return "", err
		}
		return aws.ToString(done.VersionId), nil
	})
	if err != nil {
		return abort(fmt.Errorf("copy %s version %s: complete multipart copy: %w", src.Key, versionLabel(src.VersionID), err))
	}
	return out, nil
}

// Delete adds a delete marker to w.Dst and returns the marker's version
// id. Only in a bucket without versioning, which the step types refuse
// unless allow_unversioned is set, does it remove a version.
func (c *copier) Delete(ctx context.Context, w *keyWrite) (written, error) {
	out, err := c.once(ctx, w, func() (string, error) {
		out, err := c.Dst.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(w.Dst.Bucket), Key: aws.String(w.Dst.Key)},
			awsx.NoAmbiguousRetry)
		if err != nil {
			return "", err
		}
		return aws.ToString(out.VersionId), nil
	})
	if err != nil {
		return written{}, fmt.Errorf("add delete marker to %s: %w", w.Dst.Key, err)
	}
	return out, nil
}

// optional turns "" into nil, for version ids: the null version is asked
// for without one.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
