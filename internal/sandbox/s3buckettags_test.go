package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket tags: set, read back in key order, replaced, removed, and kept
// across a save and load of the state.
func TestS3BucketTagging(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "tagged")

	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantErr(t, err, "NoSuchTagSet", 404)

	tags := []types.Tag{{Key: aws.String("drconsole:drill"), Value: aws.String("run-1")}, {Key: aws.String("a"), Value: aws.String("b")}}
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: tags}}))(t)
	got := must(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")}))(t)
	if len(got.TagSet) != 2 || aws.ToString(got.TagSet[0].Key) != "a" || aws.ToString(got.TagSet[1].Value) != "run-1" {
		t.Fatalf("tags = %+v", got.TagSet)
	}

	dup := []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: dup}})
	wantErr(t, err, "InvalidTag", 400)
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("missing"), Tagging: &types.Tagging{TagSet: tags}})
	wantErr(t, err, "NoSuchBucket", 404)

	var buf strings.Builder
	if err := h.svc.saveState(&buf); err != nil {
		t.Fatal(err)
	}
	loaded := newS3Service(&Options{})
	if err := loaded.loadState(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	if tg := loaded.buckets["tagged"].tags; tg["drconsole:drill"] != "run-1" || len(tg) != 2 {
		t.Fatalf("tags after load = %v", tg)
	}

	must(c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String("tagged")}))(t)
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantErr(t, err, "NoSuchTagSet", 404)
}
