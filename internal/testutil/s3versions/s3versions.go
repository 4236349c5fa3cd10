// Package s3versions lists what a bucket holds version by version, for
// tests that check which versions and delete markers a step added.
package s3versions

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// List returns every version and delete marker of bucket under prefix:
// key -> version ids.
func List(t testing.TB, ctx context.Context, c *s3.Client, bucket, prefix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list versions of %s/%s: %v", bucket, prefix, err)
		}
		for _, v := range page.Versions {
			out[aws.ToString(v.Key)] = append(out[aws.ToString(v.Key)], aws.ToString(v.VersionId))
		}
		for _, m := range page.DeleteMarkers {
			out[aws.ToString(m.Key)] = append(out[aws.ToString(m.Key)], aws.ToString(m.VersionId))
		}
	}
	return out
}

// Added returns the version ids key holds in after but not in before,
// sorted.
func Added(before, after map[string][]string, key string) []string {
	var added []string
	for _, v := range after[key] {
		if !slices.Contains(before[key], v) {
			added = append(added, v)
		}
	}
	sort.Strings(added)
	return added
}
