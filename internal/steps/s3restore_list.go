package steps

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/pitr"
)

// listVersions calls page with each page of bucket/prefix's versions and
// delete markers, in true listing order (the SDK's own output loses how
// versions and delete markers interleave).
func listVersions(ctx context.Context, client *s3.Client, bucket, prefix string, pageSize int, page func([]pitr.Entry) error) error {
	return awsx.ListVersions(ctx, client, awsx.VersionListing{Bucket: bucket, Prefix: prefix, MaxKeys: int32(pageSize)}, page)
}
