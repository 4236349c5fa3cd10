package inventory

import (
	"context"
	"fmt"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/pitr"
)

// VersionStream reads a prefix's (or one key's) history page by page in
// true listing order: versions and delete markers interleaved as S3 lists
// them, which the SDK's split output loses for entries of the same
// second. One page is read at a time; it is not safe for concurrent Next
// calls.
type VersionStream struct {
	p *awsx.VersionPaginator
}

// NewVersionStream lists under prefix, pageSize entries a page (0: S3's
// default). With exact set, prefix is one key and longer keys that start
// with it are left out.
func NewVersionStream(ctx context.Context, c awsx.ClientSource, region, bucket, prefix string, exact bool, pageSize int32) (*VersionStream, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list versions of s3://%s/%s: %w", bucket, prefix, err)
	}
	l := awsx.VersionListing{Bucket: bucket, Prefix: prefix, MaxKeys: pageSize}
	if exact {
		l.Range = pitr.Range{Through: prefix}
	}
	return &VersionStream{p: awsx.NewVersionPaginator(cl, l)}, nil
}

// Next reads the next page; more is false after the last one.
func (s *VersionStream) Next(ctx context.Context) (page []Version, more bool, err error) {
	if !s.p.HasMorePages() {
		return nil, false, nil
	}
	entries, err := s.p.NextPage(ctx)
	if err != nil {
		return nil, false, err
	}
	page = make([]Version, 0, len(entries))
	for _, e := range entries {
		page = append(page, Version{
			Key: e.Key, VersionID: e.VersionID, LastModified: e.LastModified, Size: e.Size, ETag: e.ETag,
			StorageClass: e.StorageClass, IsLatest: e.IsLatest, DeleteMarker: e.IsDeleteMarker,
		})
	}
	return page, s.p.HasMorePages(), nil
}
