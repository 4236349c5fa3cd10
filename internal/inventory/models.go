package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/awsx"
)

// Bucket is an S3 bucket as the Models view lists it.
type Bucket struct {
	Name      string
	Region    string
	Created   time.Time
	Versioned bool // versioning Enabled: the bucket has a timeline to restore from
	// Tags are the bucket's tags; the console classifies buckets by them
	// (drconsole:role) when no estate file names the bucket.
	Tags map[string]string
}

// Buckets lists the buckets visible from region with their versioning
// state. Buckets in other regions are left out, so the list matches what
// a restore in region can act on.
func Buckets(ctx context.Context, c awsx.ClientSource, region string) ([]Bucket, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list buckets in %s: %w", region, err)
	}
	out, err := listBuckets(ctx, cl, region)
	if err != nil {
		return nil, err
	}
	for i := range out {
		v, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(out[i].Name)})
		if err != nil {
			return nil, fmt.Errorf("versioning of bucket %s: %w", out[i].Name, err)
		}
		out[i].Versioned = v.Status == s3types.BucketVersioningStatusEnabled
		if out[i].Tags, err = bucketTags(ctx, cl, out[i].Name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bucketTags reads a bucket's tags. S3 answers NoSuchTagSet for a bucket
// that has none: that is an empty set, not a failure.
func bucketTags(ctx context.Context, cl *s3.Client, bucket string) (map[string]string, error) {
	res, err := cl.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchTagSet" {
			return nil, nil
		}
		return nil, fmt.Errorf("tags of bucket %s: %w", bucket, err)
	}
	tags := make(map[string]string, len(res.TagSet))
	for _, t := range res.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// BucketNames lists the names of the buckets Buckets lists, without a
// versioning read per bucket, for callers that only walk them.
func BucketNames(ctx context.Context, c awsx.ClientSource, region string) ([]string, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list buckets in %s: %w", region, err)
	}
	bs, err := listBuckets(ctx, cl, region)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Name
	}
	return names, nil
}

// listBuckets lists the buckets in region by name, versioning unread.
func listBuckets(ctx context.Context, cl *s3.Client, region string) ([]Bucket, error) {
	var out []Bucket
	var token *string
	for {
		res, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: token, BucketRegion: aws.String(region)})
		if err != nil {
			return nil, fmt.Errorf("list buckets in %s: %w", region, err)
		}
		for _, b := range res.Buckets {
			if b.BucketRegion != nil && *b.BucketRegion != "" && *b.BucketRegion != region {
				continue
			}
			out = append(out, Bucket{Name: aws.ToString(b.Name), Region: region, Created: aws.ToTime(b.CreationDate)})
		}
		if aws.ToString(res.ContinuationToken) == "" {
			break
		}
		token = res.ContinuationToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Entry is one row of a bucket listing under a prefix: a sub-prefix
// ("models/llama/") or a current object.
type Entry struct {
	Key          string
	IsPrefix     bool
	Size         int64
	LastModified time.Time
}

// Prefixes lists the sub-prefixes and current objects directly under
// prefix, as a file browser shows a directory.
func Prefixes(ctx context.Context, c awsx.ClientSource, region, bucket, prefix string) ([]Entry, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
	}
	var out []Entry
	p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, Entry{Key: aws.ToString(cp.Prefix), IsPrefix: true})
		}
		for _, o := range page.Contents {
			out = append(out, Entry{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].IsPrefix != out[j].IsPrefix {
			return out[i].IsPrefix
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Version is one entry of a key's history: a version or a delete marker.
type Version struct {
	Key          string
	VersionID    string
	LastModified time.Time
	Size         int64
	ETag         string
	StorageClass string
	IsLatest     bool
	DeleteMarker bool
}

// VersionMarker is where the next page of a version listing starts.
type VersionMarker struct {
	Key       string
	VersionID string
}

// VersionPage is one page of a version listing, newest first within each
// key. Next is nil on the last page.
type VersionPage struct {
	Versions []Version
	Next     *VersionMarker
}

// Versions reads one page of the version history under prefix, starting
// after from (nil: the beginning), at most max entries (0: the service
// default). The console calls it page after page so a timeline of any
// length starts showing after the first page.
func Versions(ctx context.Context, c awsx.ClientSource, region, bucket, prefix string, from *VersionMarker, max int32) (VersionPage, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return VersionPage{}, fmt.Errorf("list versions of s3://%s/%s: %w", bucket, prefix, err)
	}
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if max > 0 {
		in.MaxKeys = aws.Int32(max)
	}
	if from != nil {
		in.KeyMarker = aws.String(from.Key)
		in.VersionIdMarker = aws.String(from.VersionID)
	}
	res, err := cl.ListObjectVersions(ctx, in)
	if err != nil {
		return VersionPage{}, fmt.Errorf("list versions of s3://%s/%s: %w", bucket, prefix, err)
	}
	page := VersionPage{Versions: make([]Version, 0, len(res.Versions)+len(res.DeleteMarkers))}
	for _, v := range res.Versions {
		page.Versions = append(page.Versions, Version{
			Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), LastModified: aws.ToTime(v.LastModified),
			Size: aws.ToInt64(v.Size), ETag: strings.Trim(aws.ToString(v.ETag), `"`), StorageClass: string(v.StorageClass),
			IsLatest: aws.ToBool(v.IsLatest),
		})
	}
	for _, d := range res.DeleteMarkers {
		page.Versions = append(page.Versions, Version{
			Key: aws.ToString(d.Key), VersionID: aws.ToString(d.VersionId), LastModified: aws.ToTime(d.LastModified),
			IsLatest: aws.ToBool(d.IsLatest), DeleteMarker: true,
		})
	}
	SortVersions(page.Versions)
	if aws.ToBool(res.IsTruncated) {
		page.Next = &VersionMarker{Key: aws.ToString(res.NextKeyMarker), VersionID: aws.ToString(res.NextVersionIdMarker)}
	}
	return page, nil
}

// SortVersions restores listing order after the SDK split versions from
// delete markers: keys ascending, each key newest first, the current entry
// first among entries of the same second.
func SortVersions(vs []Version) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if !a.LastModified.Equal(b.LastModified) {
			return a.LastModified.After(b.LastModified)
		}
		return a.IsLatest && !b.IsLatest
	})
}

// VersionDetail is what HeadObject tells about one version.
type VersionDetail struct {
	Key               string
	VersionID         string
	Size              int64
	ContentType       string
	ETag              string
	LastModified      time.Time
	Metadata          map[string]string // user metadata: metrics, git-commit, ...
	ReplicationStatus string
	DeleteMarker      bool
}

// Detail reads one version's metadata. A delete marker has none: it is
// reported as such, not as an error.
func Detail(ctx context.Context, c awsx.ClientSource, region, bucket, key, versionID string) (VersionDetail, error) {
	cl, err := c.S3(ctx, region)
	if err != nil {
		return VersionDetail{}, fmt.Errorf("head s3://%s/%s@%s: %w", bucket, key, versionID, err)
	}
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	res, err := cl.HeadObject(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "MethodNotAllowed" || ae.ErrorCode() == "405") {
			return VersionDetail{Key: key, VersionID: versionID, DeleteMarker: true}, nil
		}
		return VersionDetail{}, fmt.Errorf("head s3://%s/%s@%s: %w", bucket, key, versionID, err)
	}
	return VersionDetail{
		Key: key, VersionID: aws.ToString(res.VersionId), Size: aws.ToInt64(res.ContentLength),
		ContentType: aws.ToString(res.ContentType), ETag: strings.Trim(aws.ToString(res.ETag), `"`),
		LastModified: aws.ToTime(res.LastModified), Metadata: res.Metadata,
		ReplicationStatus: string(res.ReplicationStatus), DeleteMarker: aws.ToBool(res.DeleteMarker),
	}, nil
}
