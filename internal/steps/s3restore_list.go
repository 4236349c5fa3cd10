package steps

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	awsx "github.com/drconsole/drconsole/internal/aws"
	"github.com/drconsole/drconsole/internal/pitr"
)

// listVersions calls page with each page of bucket/prefix's versions and
// delete markers, in true listing order (the SDK's own output loses how
// versions and delete markers interleave).
func listVersions(ctx context.Context, client *s3.Client, bucket, prefix string, pageSize int, page func([]pitr.Entry) error) error {
	return awsx.ListVersions(ctx, client, awsx.VersionListing{Bucket: bucket, Prefix: prefix, MaxKeys: int32(pageSize)}, page)
}

// targetCursor reads a target prefix's entries a page at a time, as the
// planner asks for them, counting the listing requests.
func targetCursor(ctx context.Context, client *s3.Client, bucket, prefix string, pageSize int, requests *atomic.Int64) pitr.Cursor {
	p := awsx.NewVersionPaginator(client, awsx.VersionListing{Bucket: bucket, Prefix: prefix, MaxKeys: int32(pageSize)})
	return pitr.PageCursor(func() ([]pitr.Entry, bool, error) {
		if !p.HasMorePages() {
			return nil, false, nil
		}
		requests.Add(1)
		page, err := p.NextPage(ctx)
		return page, err == nil, err
	})
}
