package sandbox

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// mixedBody is stored bytes around two generated segments.
func mixedBody() *s3Body {
	return concatBodies([]*s3Body{bytesBody([]byte("head-")), synthBody(42, 1000), bytesBody([]byte("-mid-")), synthBody(7, 333).slice(11, 300)})
}

func TestS3BodyRangesAgree(t *testing.T) {
	b := mixedBody()
	whole := b.bytes()
	if int64(len(whole)) != b.len() || b.len() != 5+1000+5+289 {
		t.Fatalf("length %d vs %d", len(whole), b.len())
	}
	if !bytes.Equal(synthBody(42, 1000).bytes()[17:900], synthBody(42, 1000).rangeBytes(17, 900)) {
		t.Fatal("generated range differs from the whole stream")
	}
	for _, r := range [][2]int64{{0, 0}, {0, 5}, {3, 9}, {4, 1005}, {1004, 1011}, {1009, 1299}, {0, 1299}, {1298, 1299}} {
		got := b.rangeBytes(r[0], r[1])
		if !bytes.Equal(got, whole[r[0]:r[1]]) {
			t.Fatalf("range %v differs", r)
		}
		var w bytes.Buffer
		if err := b.writeRange(&w, r[0], r[1]); err != nil || !bytes.Equal(w.Bytes(), whole[r[0]:r[1]]) {
			t.Fatalf("streamed range %v differs: %v", r, err)
		}
		if s := b.slice(r[0], r[1]); !bytes.Equal(s.bytes(), whole[r[0]:r[1]]) || s.len() != r[1]-r[0] {
			t.Fatalf("slice %v differs", r)
		}
	}
	parts := []*s3Body{b.slice(0, 500), b.slice(500, 1100), b.slice(1100, 1299)}
	if !bytes.Equal(concatBodies(parts).bytes(), whole) {
		t.Fatal("concatenated slices differ from the whole")
	}
}

func FuzzS3BodySlices(f *testing.F) {
	f.Add(uint16(3), uint16(900), uint16(100), uint16(50))
	f.Fuzz(func(t *testing.T, a, b, c, d uint16) {
		body := mixedBody()
		n := body.len()
		lo, hi := int64(a)%(n+1), int64(b)%(n+1)
		if lo > hi {
			lo, hi = hi, lo
		}
		s := body.slice(lo, hi)
		want := body.bytes()[lo:hi]
		if !bytes.Equal(s.bytes(), want) {
			t.Fatalf("slice [%d,%d) differs", lo, hi)
		}
		m := s.len()
		x, y := int64(c)%(m+1), int64(d)%(m+1)
		if x > y {
			x, y = y, x
		}
		if !bytes.Equal(s.slice(x, y).bytes(), want[x:y]) {
			t.Fatalf("slice of slice [%d,%d) differs", x, y)
		}
	})
}

// A 6 GiB object (generated, never held) is too large for CopyObject and
// is restored with UploadPartCopy, as drconsole's restore does above 5 GiB.
func TestS3LargeObjectMultipartCopy(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "large-b")
	const size = 6 << 30
	v1 := must(h.svc.putSyntheticObjectAt("large-b", "models/big/model.safetensors", size, 99, map[string]string{"git-commit": "abc"}, h.clock.Now()))(t)
	put(t, c, "large-b", "models/big/model.safetensors", "small newer version")
	src := "large-b/models/big/model.safetensors?versionId=" + v1
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors"), CopySource: aws.String(src)})
	wantErr(t, err, "InvalidRequest", 400)

	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors")}))(t)
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(src)})
	wantErr(t, err, "EntityTooLarge", 400)
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-" + strconv.Itoa(5<<30-1), "bytes=" + strconv.Itoa(5<<30) + "-" + strconv.Itoa(size-1)} {
		out := must(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(src), CopySourceRange: aws.String(rng)}))(t)
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	done := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}))(t)
	hd := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors")}))(t)
	if aws.ToInt64(hd.ContentLength) != size || aws.ToString(hd.VersionId) != aws.ToString(done.VersionId) {
		t.Fatalf("restored size %d", aws.ToInt64(hd.ContentLength))
	}
	// The bytes across the part boundary match the source version's.
	rng := "bytes=" + strconv.Itoa(5<<30-100) + "-" + strconv.Itoa(5<<30+99)
	get := func(version *string) []byte {
		out := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("large-b"), Key: aws.String("models/big/model.safetensors"), VersionId: version, Range: aws.String(rng)}))(t)
		defer out.Body.Close()
		return must(io.ReadAll(out.Body))(t)
	}
	restored, original := get(nil), get(aws.String(v1))
	if len(restored) != 200 || !bytes.Equal(restored, original) {
		t.Fatalf("boundary bytes differ (%d bytes)", len(restored))
	}
}
