// Package s3conformance is a suite of S3 behaviours drconsole relies on for
// point-in-time restores: versioning, delete markers, version listing order
// and pagination, copy from a version, conditional writes and multipart
// copy. It runs against any S3 implementation through aws-sdk-go-v2, so the
// sandbox and a real server (MinIO) are held to the same assertions.
//
// Where implementations differ from AWS, AWS is the reference, and only
// what AWS guarantees is asserted (for example, timestamps are compared at
// one-second precision).
package s3conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// NewClient returns a client for the implementation under test and a
// prefix for bucket names that is unique to this run.
type NewClient func(t *testing.T) (*s3.Client, string)

// Run runs every case as a subtest.
func Run(t *testing.T, newClient NewClient) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Versioning", testVersioning},
		{"DeleteMarkers", testDeleteMarkers},
		{"VersionListingOrder", testVersionListingOrder},
		{"VersionListingPagination", testVersionListingPagination},
		{"VersionListingDelimiter", testVersionListingDelimiter},
		{"CopyFromVersion", testCopyFromVersion},
		{"ConditionalWrites", testConditionalWrites},
		{"MultipartCopy", testMultipartCopy},
		{"TagsMetadataAndRanges", testTagsMetadataAndRanges},
		{"ListObjectsV2", testListObjectsV2},
		{"DeleteObjectsBatch", testDeleteObjectsBatch},
		{"ErrorCodes", testErrorCodes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, prefix := newClient(t)
			s := &suite{t: t, c: client, ctx: context.Background(),
				bucket: strings.ToLower(prefix + "-" + c.name)}
			s.createVersionedBucket()
			c.fn(t, s)
		})
	}
}

type suite struct {
	t      *testing.T
	c      *s3.Client
	ctx    context.Context
	bucket string
}

func (s *suite) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf(format, args...)
}

func (s *suite) check(err error, what string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func (s *suite) createVersionedBucket() {
	s.t.Helper()
	_, err := s.c.CreateBucket(s.ctx, &s3.CreateBucketInput{Bucket: &s.bucket})
	s.check(err, "create bucket "+s.bucket)
	_, err = s.c.PutBucketVersioning(s.ctx, &s3.PutBucketVersioningInput{Bucket: &s.bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	s.check(err, "enable versioning")
}

func (s *suite) put(key, body string, meta map[string]string) *s3.PutObjectOutput {
	s.t.Helper()
	out, err := s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader(body), Metadata: meta})
	s.check(err, "put "+key)
	if aws.ToString(out.VersionId) == "" {
		s.fatalf("put %s in a versioned bucket returned no version id", key)
	}
	return out
}

func (s *suite) del(key string) *s3.DeleteObjectOutput {
	s.t.Helper()
	out, err := s.c.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	s.check(err, "delete "+key)
	if !aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) == "" {
		s.fatalf("delete %s: DeleteMarker %v, VersionId %q", key, aws.ToBool(out.DeleteMarker), aws.ToString(out.VersionId))
	}
	return out
}

func (s *suite) get(key, versionID string) (string, *s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.c.GetObject(s.ctx, in)
	if err != nil {
		return "", nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), out, err
}

func (s *suite) mustGet(key, versionID string) (string, *s3.GetObjectOutput) {
	s.t.Helper()
	body, out, err := s.get(key, versionID)
	s.check(err, fmt.Sprintf("get %s@%s", key, versionID))
	return body, out
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (s *suite) wantErr(err error, wantStatus int, wantCode, what string) {
	s.t.Helper()
	if err == nil {
		s.fatalf("%s: succeeded, want %d %s", what, wantStatus, wantCode)
	}
	if status(err) != wantStatus || (wantCode != "" && code(err) != wantCode) {
		s.fatalf("%s: got %d %q, want %d %s: %v", what, status(err), code(err), wantStatus, wantCode, err)
	}
}

// entry is one listed version or delete marker.
type entry struct {
	key, id  string
	marker   bool
	latest   bool
	modified time.Time
}

func (e entry) String() string {
	kind := "v"
	if e.marker {
		kind = "dm"
	}
	return e.key + "@" + kind + ":" + e.id
}

// page lists one page and returns its entries. The SDK splits a page into
// Versions and DeleteMarkers, losing their interleaving, so the order
// within a page of more than one entry is only known per kind.
func (s *suite) page(in *s3.ListObjectVersionsInput) ([]entry, *s3.ListObjectVersionsOutput) {
	s.t.Helper()
	out, err := s.c.ListObjectVersions(s.ctx, in)
	s.check(err, "list object versions")
	var es []entry
	for _, v := range out.Versions {
		es = append(es, entry{key: aws.ToString(v.Key), id: aws.ToString(v.VersionId), latest: aws.ToBool(v.IsLatest), modified: aws.ToTime(v.LastModified)})
	}
	for _, m := range out.DeleteMarkers {
		es = append(es, entry{key: aws.ToString(m.Key), id: aws.ToString(m.VersionId), marker: true, latest: aws.ToBool(m.IsLatest), modified: aws.ToTime(m.LastModified)})
	}
	return es, out
}

// sequence lists the bucket one entry per page, which recovers the exact
// order of versions and delete markers as the server lists them.
func (s *suite) sequence(prefix string) []entry {
	s.t.Helper()
	in := &s3.ListObjectVersionsInput{Bucket: &s.bucket, MaxKeys: aws.Int32(1)}
	if prefix != "" {
		in.Prefix = &prefix
	}
	var all []entry
	for range 10_000 {
		es, out := s.page(in)
		if len(es) > 1 {
			s.fatalf("MaxKeys=1 returned %d entries", len(es))
		}
		all = append(all, es...)
		if !aws.ToBool(out.IsTruncated) {
			return all
		}
		if aws.ToString(out.NextKeyMarker) == "" {
			s.fatalf("truncated page without NextKeyMarker")
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	s.fatalf("listing did not end")
	return nil
}

func testVersioning(t *testing.T, s *suite) {
	v, err := s.c.GetBucketVersioning(s.ctx, &s3.GetBucketVersioningInput{Bucket: &s.bucket})
	s.check(err, "get versioning")
	if v.Status != types.BucketVersioningStatusEnabled {
		s.fatalf("versioning status %q", v.Status)
	}
	var ids []string
	for i := range 3 {
		ids = append(ids, aws.ToString(s.put("model.bin", fmt.Sprintf("rev-%d", i), nil).VersionId))
	}
	if slices.Contains(ids, "null") || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 3 {
		s.fatalf("version ids not distinct: %v", ids)
	}
	for i, id := range ids {
		body, out := s.mustGet("model.bin", id)
		if body != fmt.Sprintf("rev-%d", i) || aws.ToString(out.VersionId) != id {
			s.fatalf("version %d: body %q id %q", i, body, aws.ToString(out.VersionId))
		}
	}
	body, out := s.mustGet("model.bin", "")
	if body != "rev-2" || aws.ToString(out.VersionId) != ids[2] {
		s.fatalf("latest: body %q id %q", body, aws.ToString(out.VersionId))
	}
	// Suspending versioning: new writes replace the null version only.
	_, err = s.c.PutBucketVersioning(s.ctx, &s3.PutBucketVersioningInput{Bucket: &s.bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	s.check(err, "suspend versioning")
	for _, b := range []string{"null-1", "null-2"} {
		_, err := s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String("model.bin"), Body: strings.NewReader(b)})
		s.check(err, "put while suspended")
	}
	seq := s.sequence("model.bin")
	var got []string
	for _, e := range seq {
		got = append(got, e.id)
	}
	if want := []string{"null", ids[2], ids[1], ids[0]}; !slices.Equal(got, want) {
		s.fatalf("versions after suspended writes = %v, want %v", got, want)
	}
	body, _ = s.mustGet("model.bin", "null")
	if body != "null-2" {
		s.fatalf("null version = %q", body)
	}
}

func testDeleteMarkers(t *testing.T, s *suite) {
	v1 := s.put("cfg.json", "one", nil)
	dm := s.del("cfg.json")
	_, _, err := s.get("cfg.json", "")
	s.wantErr(err, 404, "NoSuchKey", "get deleted key")
	_, err = s.c.HeadObject(s.ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String("cfg.json")})
	s.wantErr(err, 404, "", "head deleted key")
	_, _, err = s.get("cfg.json", *dm.VersionId)
	s.wantErr(err, 405, "MethodNotAllowed", "get a delete marker by version id")
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response.Header.Get("x-amz-delete-marker") != "true" {
		s.fatalf("GET of a delete marker lacks x-amz-delete-marker: true")
	}
	body, _ := s.mustGet("cfg.json", *v1.VersionId)
	if body != "one" {
		s.fatalf("old version behind marker = %q", body)
	}
	seq := s.sequence("cfg.json")
	if len(seq) != 2 || !seq[0].marker || !seq[0].latest || seq[1].marker || seq[1].latest || seq[0].id != *dm.VersionId {
		s.fatalf("listing after delete = %v", seq)
	}
	// Removing the marker by id makes the version current again.
	out, err := s.c.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String("cfg.json"), VersionId: dm.VersionId})
	s.check(err, "delete marker by id")
	if !aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) != *dm.VersionId {
		s.fatalf("deleting a marker reported DeleteMarker %v id %q", aws.ToBool(out.DeleteMarker), aws.ToString(out.VersionId))
	}
	body, _ = s.mustGet("cfg.json", "")
	if body != "one" {
		s.fatalf("after removing marker = %q", body)
	}
	// Deleting a version by id destroys it and adds no marker.
	_, err = s.c.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String("cfg.json"), VersionId: v1.VersionId})
	s.check(err, "delete version by id")
	if seq := s.sequence("cfg.json"); len(seq) != 0 {
		s.fatalf("after destroying the only version: %v", seq)
	}
}

// history writes, per key, the pattern version, marker, version, marker,
// version (the "V -> DM -> V2 -> DM" case that breaks restore tools) and
// returns the entries newest first.
func (s *suite) history(keys []string) map[string][]entry {
	s.t.Helper()
	want := map[string][]entry{}
	for round := range 5 {
		for _, k := range keys {
			var e entry
			if round%2 == 1 {
				e = entry{key: k, id: *s.del(k).VersionId, marker: true}
			} else {
				e = entry{key: k, id: *s.put(k, fmt.Sprintf("%s-%d", k, round), nil).VersionId}
			}
			want[k] = append([]entry{e}, want[k]...)
		}
	}
	return want
}

func sameEntries(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key != b[i].key || a[i].id != b[i].id || a[i].marker != b[i].marker {
			return false
		}
	}
	return true
}

func testVersionListingOrder(t *testing.T, s *suite) {
	keys := []string{"models/b/w.bin", "models/a/w.bin", "models/a b/w.bin", "models/c/w.bin"}
	want := s.history(keys)
	var expect []entry
	for _, k := range slices.Sorted(slices.Values(keys)) {
		expect = append(expect, want[k]...)
	}
	got := s.sequence("")
	if !sameEntries(got, expect) {
		s.fatalf("listing order\n got %v\nwant %v", got, expect)
	}
	for i, e := range got {
		first := i == 0 || got[i-1].key != e.key
		if e.latest != first {
			s.fatalf("IsLatest wrong at %v", e)
		}
		// Newest first, at the one-second precision AWS lists.
		if !first && e.modified.Truncate(time.Second).After(got[i-1].modified.Truncate(time.Second)) {
			s.fatalf("%v listed after a newer entry", e)
		}
	}
}

func testVersionListingPagination(t *testing.T, s *suite) {
	keys := []string{"k1", "k2", "k3"}
	s.history(keys)
	full := s.sequence("")
	if len(full) != 15 {
		s.fatalf("%d entries, want 15", len(full))
	}
	// Pages of 4 split every key's history across pages; each page holds
	// the next 4 entries of the full sequence (as sets: the SDK loses the
	// interleaving within a page).
	in := &s3.ListObjectVersionsInput{Bucket: &s.bucket, MaxKeys: aws.Int32(4)}
	var pos, pages int
	for {
		es, out := s.page(in)
		pages++
		if len(es) > 4 {
			s.fatalf("page of %d entries with MaxKeys 4", len(es))
		}
		wantPage := full[pos : pos+len(es)]
		for _, e := range es {
			if !slices.ContainsFunc(wantPage, func(w entry) bool { return w.id == e.id && w.key == e.key }) {
				s.fatalf("page %d holds %v, not among %v", pages, e, wantPage)
			}
		}
		pos += len(es)
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		// The markers are opaque (MinIO adds hints to NextKeyMarker); the
		// version id marker names the last entry returned.
		if last := full[pos-1]; aws.ToString(out.NextKeyMarker) == "" || aws.ToString(out.NextVersionIdMarker) != last.id {
			s.fatalf("page %d next markers %q/%q, want the last entry %v", pages, aws.ToString(out.NextKeyMarker), aws.ToString(out.NextVersionIdMarker), last)
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if pos != 15 || pages != 4 {
		s.fatalf("paged %d entries in %d pages, want 15 in 4", pos, pages)
	}
	// A key marker alone starts after every version of that key.
	es, _ := s.page(&s3.ListObjectVersionsInput{Bucket: &s.bucket, KeyMarker: aws.String("k1")})
	if len(es) != 10 || slices.ContainsFunc(es, func(e entry) bool { return e.key == "k1" }) {
		s.fatalf("after key marker k1: %v", es)
	}
}

func testVersionListingDelimiter(t *testing.T, s *suite) {
	for _, k := range []string{"models/a/1", "models/a/2", "models/b/1", "models/top", "readme"} {
		s.put(k, "x", nil)
	}
	s.del("models/b/1")
	out, err := s.c.ListObjectVersions(s.ctx, &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: aws.String("models/"), Delimiter: aws.String("/")})
	s.check(err, "list with delimiter")
	var prefixes []string
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if !slices.Equal(prefixes, []string{"models/a/", "models/b/"}) || len(out.Versions) != 1 || aws.ToString(out.Versions[0].Key) != "models/top" {
		s.fatalf("delimited listing: prefixes %v, %d versions", prefixes, len(out.Versions))
	}
	if len(out.DeleteMarkers) != 0 {
		s.fatalf("delete markers under a common prefix were listed: %d", len(out.DeleteMarkers))
	}
}

func testCopyFromVersion(t *testing.T, s *suite) {
	key := "models/llama ft/model+v.bin"
	v1 := s.put(key, "weights-1", map[string]string{"git-commit": "a1b2c3"})
	s.put(key, "weights-2", map[string]string{"git-commit": "d4e5f6"})
	src := s.bucket + "/" + url.PathEscape(key) + "?versionId=" + url.QueryEscape(*v1.VersionId)
	out, err := s.c.CopyObject(s.ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: &key, CopySource: &src})
	s.check(err, "copy from version")
	if aws.ToString(out.CopySourceVersionId) != *v1.VersionId || aws.ToString(out.VersionId) == "" || aws.ToString(out.VersionId) == *v1.VersionId {
		s.fatalf("copy: source version %q new version %q", aws.ToString(out.CopySourceVersionId), aws.ToString(out.VersionId))
	}
	body, g := s.mustGet(key, "")
	if body != "weights-1" || g.Metadata["git-commit"] != "a1b2c3" || aws.ToString(g.VersionId) != aws.ToString(out.VersionId) {
		s.fatalf("after copy: %q meta %v", body, g.Metadata)
	}
	if seq := s.sequence(key); len(seq) != 3 {
		s.fatalf("history after copy has %d entries, want 3", len(seq))
	}
	// Replacing metadata on copy.
	_, err = s.c.CopyObject(s.ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: aws.String("other"), CopySource: &src,
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"restored-from": *v1.VersionId}})
	s.check(err, "copy with replaced metadata")
	_, g = s.mustGet("other", "")
	if g.Metadata["restored-from"] != *v1.VersionId || g.Metadata["git-commit"] != "" {
		s.fatalf("replaced metadata = %v", g.Metadata)
	}
	// A delete marker cannot be a copy source.
	dm := s.del("other")
	_, err = s.c.CopyObject(s.ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: aws.String("x"), CopySource: aws.String(s.bucket + "/other")})
	s.wantErr(err, 404, "NoSuchKey", "copy from a deleted key")
	_, err = s.c.CopyObject(s.ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: aws.String("x"),
		CopySource: aws.String(s.bucket + "/other?versionId=" + url.QueryEscape(*dm.VersionId))})
	if err == nil || status(err) < 400 || status(err) >= 500 {
		s.fatalf("copy from a delete marker by id: %v", err)
	}
}

func testConditionalWrites(t *testing.T, s *suite) {
	key := "lock.json"
	first, err := s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("1"), IfNoneMatch: aws.String("*")})
	s.check(err, "If-None-Match on an absent key")
	_, err = s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("2"), IfNoneMatch: aws.String("*")})
	s.wantErr(err, 412, "PreconditionFailed", "If-None-Match on an existing key")
	_, err = s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("2"), IfMatch: aws.String(`"00000000000000000000000000000000"`)})
	s.wantErr(err, 412, "PreconditionFailed", "If-Match with a stale ETag")
	_, err = s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("2"), IfMatch: first.ETag})
	s.check(err, "If-Match with the current ETag")
	body, _ := s.mustGet(key, "")
	if body != "2" {
		s.fatalf("after conditional writes = %q", body)
	}
	// Conditional reads.
	_, _, err = s.get2(key, func(in *s3.GetObjectInput) { in.IfMatch = first.ETag })
	s.wantErr(err, 412, "PreconditionFailed", "GET If-Match with a stale ETag")
	cur, err := s.c.HeadObject(s.ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	s.check(err, "head")
	_, _, err = s.get2(key, func(in *s3.GetObjectInput) { in.IfNoneMatch = cur.ETag })
	if status(err) != 304 {
		s.fatalf("GET If-None-Match with the current ETag: %v", err)
	}
}

func (s *suite) get2(key string, mod func(*s3.GetObjectInput)) (string, *s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	mod(in)
	out, err := s.c.GetObject(s.ctx, in)
	if err != nil {
		return "", nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), out, err
}

func testMultipartCopy(t *testing.T, s *suite) {
	const part = 5 << 20
	old := bytes.Repeat([]byte("0123456789abcdef"), (part+part/2)/16)
	v1, err := s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String("big.bin"), Body: bytes.NewReader(old)})
	s.check(err, "put large object")
	s.put("big.bin", "newer, small", nil)
	up, err := s.c.CreateMultipartUpload(s.ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("big.bin")})
	s.check(err, "create multipart upload")
	src := s.bucket + "/big.bin?versionId=" + url.QueryEscape(*v1.VersionId)
	ranges := []string{fmt.Sprintf("bytes=0-%d", part-1), fmt.Sprintf("bytes=%d-%d", part, len(old)-1)}
	var parts []types.CompletedPart
	for i, r := range ranges {
		out, err := s.c.UploadPartCopy(s.ctx, &s3.UploadPartCopyInput{Bucket: &s.bucket, Key: aws.String("big.bin"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: &src, CopySourceRange: aws.String(r)})
		s.check(err, "upload part copy "+r)
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	done, err := s.c.CompleteMultipartUpload(s.ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("big.bin"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	s.check(err, "complete multipart upload")
	if !strings.HasSuffix(strings.Trim(aws.ToString(done.ETag), `"`), "-2") {
		s.fatalf("multipart ETag %q lacks the -2 part count", aws.ToString(done.ETag))
	}
	body, g := s.mustGet("big.bin", "")
	if body != string(old) || aws.ToString(g.VersionId) != aws.ToString(done.VersionId) {
		s.fatalf("multipart copy restored %d bytes, want %d", len(body), len(old))
	}
	if seq := s.sequence("big.bin"); len(seq) != 3 {
		s.fatalf("history after multipart copy has %d entries, want 3", len(seq))
	}
}

func testTagsMetadataAndRanges(t *testing.T, s *suite) {
	key := "models/bert/config.json"
	v1, err := s.c.PutObject(s.ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("0123456789"),
		ContentType: aws.String("application/json"), CacheControl: aws.String("no-cache"),
		Metadata: map[string]string{"metrics": `{"accuracy":0.91}`}, Tagging: aws.String("stage=prod&team=ml")})
	s.check(err, "put with tags and metadata")
	h, err := s.c.HeadObject(s.ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	s.check(err, "head")
	if aws.ToString(h.ContentType) != "application/json" || aws.ToString(h.CacheControl) != "no-cache" ||
		h.Metadata["metrics"] != `{"accuracy":0.91}` || aws.ToInt64(h.ContentLength) != 10 {
		s.fatalf("head: type %q cache %q meta %v length %d", aws.ToString(h.ContentType), aws.ToString(h.CacheControl), h.Metadata, aws.ToInt64(h.ContentLength))
	}
	tags, err := s.c.GetObjectTagging(s.ctx, &s3.GetObjectTaggingInput{Bucket: &s.bucket, Key: &key})
	s.check(err, "get tags")
	got := map[string]string{}
	for _, tg := range tags.TagSet {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if len(got) != 2 || got["stage"] != "prod" || got["team"] != "ml" {
		s.fatalf("tags = %v", got)
	}
	// Tags belong to a version: a new version starts without them.
	s.put(key, "new", nil)
	tags, err = s.c.GetObjectTagging(s.ctx, &s3.GetObjectTaggingInput{Bucket: &s.bucket, Key: &key})
	s.check(err, "get tags of the new version")
	if len(tags.TagSet) != 0 {
		s.fatalf("new version has tags %v", tags.TagSet)
	}
	_, err = s.c.PutObjectTagging(s.ctx, &s3.PutObjectTaggingInput{Bucket: &s.bucket, Key: &key, VersionId: v1.VersionId,
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("restore-point"), Value: aws.String("yes")}}}})
	s.check(err, "tag an old version")
	tags, err = s.c.GetObjectTagging(s.ctx, &s3.GetObjectTaggingInput{Bucket: &s.bucket, Key: &key, VersionId: v1.VersionId})
	s.check(err, "get tags of an old version")
	if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "restore-point" {
		s.fatalf("old version tags = %v", tags.TagSet)
	}
	for _, c := range []struct{ rng, want string }{{"bytes=2-4", "234"}, {"bytes=7-", "789"}, {"bytes=-2", "89"}} {
		body, _, err := s.get2(key, func(in *s3.GetObjectInput) { in.VersionId = v1.VersionId; in.Range = aws.String(c.rng) })
		s.check(err, "range "+c.rng)
		if body != c.want {
			s.fatalf("range %s = %q, want %q", c.rng, body, c.want)
		}
	}
	_, _, err = s.get2(key, func(in *s3.GetObjectInput) { in.VersionId = v1.VersionId; in.Range = aws.String("bytes=50-") })
	s.wantErr(err, 416, "InvalidRange", "range past the end")
}

func testListObjectsV2(t *testing.T, s *suite) {
	for _, k := range []string{"a/1", "a/2", "b", "c/1", "d", "e"} {
		s.put(k, k, nil)
	}
	s.del("d")
	var flat []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(s.ctx)
		s.check(err, "list objects v2")
		for _, o := range out.Contents {
			flat = append(flat, aws.ToString(o.Key))
		}
	}
	if want := []string{"a/1", "a/2", "b", "c/1", "e"}; !slices.Equal(flat, want) {
		s.fatalf("keys = %v, want %v", flat, want)
	}
	var rolled []string
	p = s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(s.ctx)
		s.check(err, "list objects v2 with delimiter")
		for _, o := range out.Contents {
			rolled = append(rolled, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			rolled = append(rolled, aws.ToString(cp.Prefix))
		}
	}
	slices.Sort(rolled)
	if want := []string{"a/", "b", "c/", "e"}; !slices.Equal(rolled, want) {
		s.fatalf("delimited = %v, want %v", rolled, want)
	}
	out, err := s.c.ListObjectsV2(s.ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, StartAfter: aws.String("b")})
	s.check(err, "list after b")
	if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "c/1" {
		s.fatalf("start-after b: %d keys", len(out.Contents))
	}
}

func testDeleteObjectsBatch(t *testing.T, s *suite) {
	v := s.put("x", "1", nil)
	s.put("y", "1", nil)
	out, err := s.c.DeleteObjects(s.ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("x"), VersionId: v.VersionId}, {Key: aws.String("y")}}}})
	s.check(err, "delete objects")
	if len(out.Deleted) != 2 || len(out.Errors) != 0 {
		s.fatalf("deleted %d, errors %d", len(out.Deleted), len(out.Errors))
	}
	for _, d := range out.Deleted {
		switch aws.ToString(d.Key) {
		case "x":
			if aws.ToString(d.VersionId) != *v.VersionId || aws.ToBool(d.DeleteMarker) {
				s.fatalf("x: %+v", d)
			}
		case "y":
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" {
				s.fatalf("y: marker %v id %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId))
			}
		}
	}
	if seq := s.sequence("x"); len(seq) != 0 {
		s.fatalf("x still listed: %v", seq)
	}
	if seq := s.sequence("y"); len(seq) != 2 || !seq[0].marker {
		s.fatalf("y history: %v", seq)
	}
	q, err := s.c.DeleteObjects(s.ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("y")}}}})
	s.check(err, "quiet delete")
	if len(q.Deleted) != 0 {
		s.fatalf("quiet mode reported %d deletions", len(q.Deleted))
	}
}

func testErrorCodes(t *testing.T, s *suite) {
	_, _, err := s.get2("k", func(in *s3.GetObjectInput) { in.Bucket = aws.String(s.bucket + "-missing") })
	s.wantErr(err, 404, "NoSuchBucket", "get from a missing bucket")
	_, _, err = s.get("absent", "")
	s.wantErr(err, 404, "NoSuchKey", "get a missing key")
	v := s.put("k", "x", nil)
	s.put("k", "y", nil)
	_, err = s.c.DeleteObject(s.ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String("k"), VersionId: v.VersionId})
	s.check(err, "delete a version")
	_, _, err = s.get("k", *v.VersionId)
	s.wantErr(err, 404, "NoSuchVersion", "get a destroyed version")
	_, err = s.c.CreateBucket(s.ctx, &s3.CreateBucketInput{Bucket: &s.bucket})
	s.wantErr(err, 409, "BucketAlreadyOwnedByYou", "create an existing bucket")
	_, err = s.c.DeleteBucket(s.ctx, &s3.DeleteBucketInput{Bucket: &s.bucket})
	s.wantErr(err, 409, "BucketNotEmpty", "delete a bucket with versions")

	up, err := s.c.CreateMultipartUpload(s.ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("mp")})
	s.check(err, "create multipart upload")
	var parts []types.CompletedPart
	for i, body := range []string{"small", "last"} {
		out, err := s.c.UploadPart(s.ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: aws.String("mp"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(body)})
		s.check(err, "upload part")
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	_, err = s.c.CompleteMultipartUpload(s.ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	s.wantErr(err, 400, "EntityTooSmall", "complete with a small first part")
	_, err = s.c.CompleteMultipartUpload(s.ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}}})
	s.wantErr(err, 400, "InvalidPart", "complete with a wrong part ETag")
	_, err = s.c.AbortMultipartUpload(s.ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: aws.String("mp"), UploadId: up.UploadId})
	s.check(err, "abort")
	_, err = s.c.UploadPart(s.ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	s.wantErr(err, 404, "NoSuchUpload", "upload to an aborted upload")
}
