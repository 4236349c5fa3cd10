package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func errStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	if code != "" && errCode(err) != code {
		t.Fatalf("want code %s, got %q: %v", code, errCode(err), err)
	}
	if status != 0 && errStatus(err) != status {
		t.Fatalf("want status %d, got %d: %v", status, errStatus(err), err)
	}
}

// must fails the test on err, else yields v: must(call())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newVersionedBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}))(t)
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &name,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	return must(c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}))(t)
}

func getBody(t *testing.T, c *s3.Client, in *s3.GetObjectInput) (string, *s3.GetObjectOutput) {
	t.Helper()
	out := must(c.GetObject(context.Background(), in))(t)
	defer out.Body.Close()
	b := must(io.ReadAll(out.Body))(t)
	return string(b), out
}

func TestS3Buckets(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	west := h.client(t, "us-west-2")
	ctx := context.Background()

	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("primary")}))(t)
	must(west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("replica"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}))(t)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("primary")})
	wantErr(t, err, "BucketAlreadyOwnedByYou", 409)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantErr(t, err, "InvalidBucketName", 400)

	lb := must(c.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, *b.Name)
	}
	if !slices.Equal(names, []string{"primary", "replica"}) {
		t.Fatalf("ListBuckets = %v", names)
	}
	loc := must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("replica")}))(t)
	if loc.LocationConstraint != types.BucketLocationConstraintUsWest2 {
		t.Fatalf("location = %q", loc.LocationConstraint)
	}
	loc = must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("primary")}))(t)
	if loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 location = %q, want empty", loc.LocationConstraint)
	}
	hb := must(west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("replica")}))(t)
	if aws.ToString(hb.BucketRegion) != "us-west-2" {
		t.Fatalf("HeadBucket region = %v", aws.ToString(hb.BucketRegion))
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	wantErr(t, err, "NotFound", 404)
	// A request signed for the wrong region is refused, naming the right one.
	_, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("replica")})
	wantErr(t, err, "AuthorizationHeaderMalformed", 400)

	gv := must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("primary")}))(t)
	if gv.Status != "" {
		t.Fatalf("new bucket versioning = %q", gv.Status)
	}
	for _, st := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended} {
		must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("primary"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: st}}))(t)
		gv = must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("primary")}))(t)
		if gv.Status != st {
			t.Fatalf("versioning = %q, want %q", gv.Status, st)
		}
	}

	put(t, c, "primary", "k", "v")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("primary")})
	wantErr(t, err, "BucketNotEmpty", 409)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("primary"), Key: aws.String("k"), VersionId: aws.String("null")}))(t)
	must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("primary")}))(t)
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("primary")})
	wantErr(t, err, "NoSuchBucket", 404)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("primary"), Key: aws.String("k")})
	wantErr(t, err, "NoSuchBucket", 404)
	_, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("replica")})
	if err == nil {
		t.Fatal("GetBucketAcl succeeded on a signed wrong-region request")
	}
	_, err = west.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("replica")})
	wantErr(t, err, "NotImplemented", 501)
}

func TestS3VersionsAndDeleteMarkers(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "vb-b")

	v1 := put(t, c, "vb-b", "model.bin", "one")
	h.clock.Advance(time.Second)
	v2 := put(t, c, "vb-b", "model.bin", "two")
	if aws.ToString(v1.VersionId) == "" || *v1.VersionId == *v2.VersionId || *v1.VersionId == "null" {
		t.Fatalf("version ids %v %v", aws.ToString(v1.VersionId), aws.ToString(v2.VersionId))
	}
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")})
	if body != "two" {
		t.Fatalf("latest = %q", body)
	}
	body, out := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: v1.VersionId})
	if body != "one" || aws.ToString(out.VersionId) != *v1.VersionId {
		t.Fatalf("v1 = %q (%v)", body, aws.ToString(out.VersionId))
	}
	del := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")}))(t)
	if !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("delete = marker %v id %v", aws.ToBool(del.DeleteMarker), aws.ToString(del.VersionId))
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")})
	wantErr(t, err, "NoSuchKey", 404)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: del.VersionId})
	wantErr(t, err, "MethodNotAllowed", 405)
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response.Header.Get("x-amz-delete-marker") != "true" {
		t.Fatal("GET of a delete marker lacks x-amz-delete-marker: true")
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")})
	wantErr(t, err, "NotFound", 404)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: aws.String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")})
	wantErr(t, err, "NoSuchVersion", 404)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: aws.String("bad")})
	wantErr(t, err, "InvalidArgument", 400)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("absent")})
	wantErr(t, err, "NoSuchKey", 404)

	// Deleting the marker by id brings v2 back.
	dm := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: del.VersionId}))(t)
	if !aws.ToBool(dm.DeleteMarker) {
		t.Fatal("deleting a marker by id should report DeleteMarker")
	}
	body, _ = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")})
	if body != "two" {
		t.Fatalf("after removing marker = %q", body)
	}
	// Deleting v2 by id makes v1 current.
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin"), VersionId: v2.VersionId}))(t)
	body, _ = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vb-b"), Key: aws.String("model.bin")})
	if body != "one" {
		t.Fatalf("after removing v2 = %q", body)
	}
}

func TestS3NullVersions(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("nb-b")}))(t)
	// Unversioned: overwrite replaces, no version ids.
	p := put(t, c, "nb-b", "k", "a")
	if p.VersionId != nil {
		t.Fatalf("unversioned put returned version id %q", *p.VersionId)
	}
	put(t, c, "nb-b", "k", "b")
	lv := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("nb-b")}))(t)
	if len(lv.Versions) != 1 || aws.ToString(lv.Versions[0].VersionId) != "null" {
		t.Fatalf("unversioned listing = %+v", lv.Versions)
	}
	// Enable: the null version stays below new versions.
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("nb-b"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	v := put(t, c, "nb-b", "k", "c")
	// Suspend: a new write replaces the null version wherever it is.
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("nb-b"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}))(t)
	put(t, c, "nb-b", "k", "d")
	lv = must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("nb-b")}))(t)
	var ids []string
	for _, x := range lv.Versions {
		ids = append(ids, aws.ToString(x.VersionId))
	}
	if !slices.Equal(ids, []string{"null", *v.VersionId}) {
		t.Fatalf("suspended listing ids = %v", ids)
	}
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("nb-b"), Key: aws.String("k"), VersionId: aws.String("null")})
	if body != "d" {
		t.Fatalf("null version = %q", body)
	}
	// Suspended delete: a null delete marker replaces the null version.
	d := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("nb-b"), Key: aws.String("k")}))(t)
	if aws.ToString(d.VersionId) != "null" || !aws.ToBool(d.DeleteMarker) {
		t.Fatalf("suspended delete = %v %v", aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker))
	}
	lv = must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("nb-b")}))(t)
	if len(lv.DeleteMarkers) != 1 || len(lv.Versions) != 1 || aws.ToString(lv.Versions[0].VersionId) != *v.VersionId {
		t.Fatalf("after suspended delete: %d markers, versions %+v", len(lv.DeleteMarkers), lv.Versions)
	}
}

// rawVersionOrder lists a bucket's versions through a plain HTTP GET and
// returns "key/id/V|M" in document order, which the SDK's split into
// Versions and DeleteMarkers loses.
func rawVersionOrder(t *testing.T, h *s3Harness, bucket, query string) []string {
	t.Helper()
	resp := must(http.Get(h.srv.URL + "/" + bucket + "?versions&" + query))(t)
	defer resp.Body.Close()
	data := must(io.ReadAll(resp.Body))(t)
	var out []string
	s := string(data)
	for {
		i := strings.Index(s, "<Version>")
		j := strings.Index(s, "<DeleteMarker>")
		if i < 0 && j < 0 {
			break
		}
		kind, at := "V", i
		if i < 0 || (j >= 0 && j < i) {
			kind, at = "M", j
		}
		s = s[at:]
		k := s[strings.Index(s, "<Key>")+5 : strings.Index(s, "</Key>")]
		id := s[strings.Index(s, "<VersionId>")+11 : strings.Index(s, "</VersionId>")]
		out = append(out, k+"/"+id+"/"+kind)
		s = s[1:]
	}
	return out
}

func TestS3ListObjectVersionsOrderAndPagination(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "lb-b")
	// Same-second writes: versions and markers interleave; order is by
	// position only.
	var want []string
	for _, k := range []string{"b", "a/x", "a/y", "c"} {
		var entries []string
		for i := range 3 {
			if i == 1 {
				d := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lb-b"), Key: aws.String(k)}))(t)
				entries = append(entries, k+"/"+*d.VersionId+"/M")
				continue
			}
			p := put(t, c, "lb-b", k, k+string(rune('0'+i)))
			entries = append(entries, k+"/"+*p.VersionId+"/V")
		}
		slices.Reverse(entries)
		want = append(want, entries...)
	}
	// keys ascending: a/x, a/y, b, c
	want = append(append(append([]string{}, want[3:9]...), want[0:3]...), want[9:]...)
	got := rawVersionOrder(t, h, "lb-b", "")
	if !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}

	// Pages of 2 split keys' histories; concatenated they equal the whole.
	var paged []string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b"), MaxKeys: aws.Int32(2)}
	pages := 0
	for {
		out := must(c.ListObjectVersions(ctx, in))(t)
		pages++
		page := rawVersionOrder(t, h, "lb-b", "max-keys=2"+markerQuery(in))
		if len(page) != len(out.Versions)+len(out.DeleteMarkers) || len(page) > 2 {
			t.Fatalf("page %d: raw %v vs sdk %d+%d", pages, page, len(out.Versions), len(out.DeleteMarkers))
		}
		paged = append(paged, page...)
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if !slices.Equal(paged, want) || pages != 6 {
		t.Fatalf("paged (%d pages)\n got %v\nwant %v", pages, paged, want)
	}
	// IsLatest marks only the first entry of each key.
	out := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b")}))(t)
	latest := 0
	for _, v := range out.Versions {
		if aws.ToBool(v.IsLatest) {
			latest++
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToBool(m.IsLatest) {
			latest++
		}
	}
	if latest != 4 {
		t.Fatalf("%d entries marked latest, want 4", latest)
	}
	for _, v := range out.Versions {
		if v.LastModified.Nanosecond() != 0 {
			t.Fatalf("LastModified %v has sub-second precision", v.LastModified)
		}
	}

	// Delimiter rolls up a/ into one common prefix counted once.
	d := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}))(t)
	if len(d.CommonPrefixes) != 1 || *d.CommonPrefixes[0].Prefix != "a/" || !aws.ToBool(d.IsTruncated) || aws.ToString(d.NextKeyMarker) != "a/" {
		t.Fatalf("delimiter page: %+v next %v", d.CommonPrefixes, aws.ToString(d.NextKeyMarker))
	}
	d = must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b"), Delimiter: aws.String("/"), KeyMarker: d.NextKeyMarker}))(t)
	if len(d.CommonPrefixes) != 0 || len(d.Versions)+len(d.DeleteMarkers) != 6 {
		t.Fatalf("after common prefix: %d prefixes, %d entries", len(d.CommonPrefixes), len(d.Versions)+len(d.DeleteMarkers))
	}
	pre := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b"), Prefix: aws.String("a/")}))(t)
	if len(pre.Versions)+len(pre.DeleteMarkers) != 6 {
		t.Fatalf("prefix a/: %d entries", len(pre.Versions)+len(pre.DeleteMarkers))
	}
	_, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("lb-b"), VersionIdMarker: aws.String("null")})
	wantErr(t, err, "InvalidArgument", 400)
}

func markerQuery(in *s3.ListObjectVersionsInput) string {
	q := ""
	if in.KeyMarker != nil {
		q += "&key-marker=" + urlQueryEscape(*in.KeyMarker)
	}
	if in.VersionIdMarker != nil {
		q += "&version-id-marker=" + urlQueryEscape(*in.VersionIdMarker)
	}
	return q
}

func TestS3URLEncodingInListings(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "enc")
	key := "dir/with space+plus&amp/ü.txt"
	put(t, c, "enc", key, "x")
	out := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("enc"), EncodingType: types.EncodingTypeUrl}))(t)
	if len(out.Versions) != 1 || urlQueryUnescape(t, *out.Versions[0].Key) != key || *out.Versions[0].Key == key {
		t.Fatalf("encoded key = %q", aws.ToString(out.Versions[0].Key))
	}
	plain := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("enc")}))(t)
	if *plain.Versions[0].Key != key {
		t.Fatalf("plain key = %q", *plain.Versions[0].Key)
	}
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String(key)})
	if body != "x" {
		t.Fatalf("get %q = %q", key, body)
	}
}

func TestS3ListObjectsV2(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "l2-b")
	keys := []string{"a/1", "a/2", "b", "c/1", "c/2", "d", "e"}
	for _, k := range keys {
		put(t, c, "l2-b", k, k)
	}
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("l2-b"), Key: aws.String("d")}))(t)

	var got []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("l2-b"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		if aws.ToInt32(out.KeyCount) != int32(len(out.Contents)) {
			t.Fatalf("KeyCount %d for %d contents", aws.ToInt32(out.KeyCount), len(out.Contents))
		}
		for _, o := range out.Contents {
			got = append(got, *o.Key)
		}
	}
	if want := []string{"a/1", "a/2", "b", "c/1", "c/2", "e"}; !slices.Equal(got, want) {
		t.Fatalf("paged keys = %v", got)
	}
	got = nil
	p = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("l2-b"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		for _, o := range out.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
	}
	if want := []string{"a/", "b", "c/", "e"}; !slices.Equal(got, want) {
		t.Fatalf("delimited keys = %v", got)
	}
	sa := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("l2-b"), StartAfter: aws.String("c/1")}))(t)
	if len(sa.Contents) != 2 || *sa.Contents[0].Key != "c/2" {
		t.Fatalf("start-after = %+v", sa.Contents)
	}
	v1 := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("l2-b"), Prefix: aws.String("c/")}))(t)
	if len(v1.Contents) != 2 {
		t.Fatalf("ListObjects v1 = %d", len(v1.Contents))
	}
}

func TestS3CopyObject(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "cp-b")
	key := "models/llama ft/model+1.bin"
	first := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cp-b"), Key: aws.String(key), Body: strings.NewReader("first"),
		Metadata: map[string]string{"git-commit": "abc"}, ContentType: aws.String("application/x-test"), Tagging: aws.String("stage=prod")}))(t)
	put(t, c, "cp-b", key, "second")

	src := "cp-b/" + urlPathEscape(key) + "?versionId=" + *first.VersionId
	out := must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String(key), CopySource: aws.String(src)}))(t)
	if aws.ToString(out.CopySourceVersionId) != *first.VersionId || aws.ToString(out.VersionId) == "" {
		t.Fatalf("copy ids: source %v new %v", aws.ToString(out.CopySourceVersionId), aws.ToString(out.VersionId))
	}
	body, g := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("cp-b"), Key: aws.String(key)})
	if body != "first" || g.Metadata["git-commit"] != "abc" || aws.ToString(g.ContentType) != "application/x-test" || aws.ToInt32(g.TagCount) != 1 {
		t.Fatalf("restored copy = %q meta %v type %v tags %d", body, g.Metadata, aws.ToString(g.ContentType), aws.ToInt32(g.TagCount))
	}
	if aws.ToString(g.ETag) != aws.ToString(first.ETag) {
		t.Fatalf("copy ETag %v, source %v", aws.ToString(g.ETag), aws.ToString(first.ETag))
	}
	// REPLACE directives.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("other"), CopySource: aws.String(src),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"new": "1"},
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("a=1&b=2")}))(t)
	_, g = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("other")})
	if g.Metadata["new"] != "1" || g.Metadata["git-commit"] != "" || aws.ToInt32(g.TagCount) != 2 {
		t.Fatalf("replaced meta %v tags %d", g.Metadata, aws.ToInt32(g.TagCount))
	}
	// Copying onto itself unchanged is refused; a delete marker is no source.
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("other"), CopySource: aws.String("cp-b/other")})
	wantErr(t, err, "InvalidRequest", 400)
	d := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("other")}))(t)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("x"), CopySource: aws.String("cp-b/other")})
	wantErr(t, err, "NoSuchKey", 404)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("x"), CopySource: aws.String("cp-b/other?versionId=" + *d.VersionId)})
	wantErr(t, err, "InvalidRequest", 400)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("x"), CopySource: aws.String("cp-b/" + urlPathEscape(key)),
		CopySourceIfMatch: aws.String(`"nope"`)})
	wantErr(t, err, "PreconditionFailed", 412)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cp-b"), Key: aws.String("x"), CopySource: aws.String("nobucket/k")})
	wantErr(t, err, "NoSuchBucket", 404)
}

func TestS3MultipartAndPartCopy(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "mp-b")
	big := bytes.Repeat([]byte("0123456789abcdef"), (minPartSize+4096)/16)
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("big"),
		Metadata: map[string]string{"m": "1"}}))(t)
	p1 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(big)}))(t)
	p2 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId,
		PartNumber: aws.Int32(2), Body: strings.NewReader("tail")}))(t)
	lp := must(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId}))(t)
	if len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 4 {
		t.Fatalf("ListParts = %+v", lp.Parts)
	}
	_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"0000"`)}}}})
	wantErr(t, err, "InvalidPart", 400)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(2), ETag: p2.ETag}, {PartNumber: aws.Int32(1), ETag: p1.ETag}}}})
	wantErr(t, err, "InvalidPartOrder", 400)
	done := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.ETag}, {PartNumber: aws.Int32(2), ETag: p2.ETag}}}}))(t)
	if !strings.HasSuffix(aws.ToString(done.ETag), `-2"`) || aws.ToString(done.VersionId) == "" {
		t.Fatalf("multipart ETag %v version %v", aws.ToString(done.ETag), aws.ToString(done.VersionId))
	}
	body, g := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mp-b"), Key: aws.String("big")})
	if body != string(big)+"tail" || g.Metadata["m"] != "1" {
		t.Fatalf("multipart body %d bytes, meta %v", len(body), g.Metadata)
	}
	body, g = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), PartNumber: aws.Int32(2)})
	if body != "tail" || aws.ToInt32(g.PartsCount) != 2 {
		t.Fatalf("part 2 = %q of %d parts", body, aws.ToInt32(g.PartsCount))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mp-b"), Key: aws.String("big"), PartNumber: aws.Int32(3)})
	wantErr(t, err, "InvalidPartNumber", 416)

	// UploadPartCopy from a version, in ranges, reassembles it.
	up2 := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("copy")}))(t)
	total := int64(len(big) + 4)
	src := "mp-b/big?versionId=" + *done.VersionId
	cp1 := must(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-b"), Key: aws.String("copy"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(src), CopySourceRange: aws.String("bytes=0-" + itoa(minPartSize-1))}))(t)
	cp2 := must(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-b"), Key: aws.String("copy"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(2), CopySource: aws.String(src), CopySourceRange: aws.String("bytes=" + itoa(minPartSize) + "-" + itoa(int(total)-1))}))(t)
	if aws.ToString(cp1.CopySourceVersionId) != *done.VersionId {
		t.Fatalf("part copy source version %v", aws.ToString(cp1.CopySourceVersionId))
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-b"), Key: aws.String("copy"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(3), CopySource: aws.String(src), CopySourceRange: aws.String("bytes=0-" + itoa(int(total)))})
	wantErr(t, err, "InvalidArgument", 400)
	must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("copy"), UploadId: up2.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: cp1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: cp2.CopyPartResult.ETag}}}}))(t)
	body, _ = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mp-b"), Key: aws.String("copy")})
	if body != string(big)+"tail" {
		t.Fatalf("part-copied body differs (%d bytes)", len(body))
	}

	// Small parts other than the last are refused; abort forgets the upload.
	up3 := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("small")}))(t)
	s1 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-b"), Key: aws.String("small"), UploadId: up3.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("a")}))(t)
	s2 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-b"), Key: aws.String("small"), UploadId: up3.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("b")}))(t)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("small"), UploadId: up3.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: s1.ETag}, {PartNumber: aws.Int32(2), ETag: s2.ETag}}}})
	wantErr(t, err, "EntityTooSmall", 400)
	lu := must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mp-b")}))(t)
	if len(lu.Uploads) != 1 {
		t.Fatalf("%d uploads in progress, want 1", len(lu.Uploads))
	}
	must(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mp-b"), Key: aws.String("small"), UploadId: up3.UploadId}))(t)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-b"), Key: aws.String("small"), UploadId: up3.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("a")})
	wantErr(t, err, "NoSuchUpload", 404)
}

func itoa(n int) string { return strconv.Itoa(n) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func urlPathEscape(s string) string { return url.PathEscape(s) }

func urlQueryUnescape(t *testing.T, s string) string {
	t.Helper()
	return must(url.QueryUnescape(s))(t)
}

func TestS3ConditionalRequests(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "cond")
	first := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("1"), IfNoneMatch: aws.String("*")}))(t)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("2"), IfNoneMatch: aws.String("*")})
	wantErr(t, err, "PreconditionFailed", 412)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("2"), IfMatch: aws.String(`"0123"`)})
	wantErr(t, err, "PreconditionFailed", 412)
	second := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("2"), IfMatch: first.ETag}))(t)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("absent"), Body: strings.NewReader("2"), IfMatch: first.ETag})
	wantErr(t, err, "NoSuchKey", 404)
	// After a delete marker the key counts as absent for If-None-Match.
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cond"), Key: aws.String("k")}))(t)
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("3"), IfNoneMatch: aws.String("*")}))(t)

	// Conditional reads.
	third := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cond"), Key: aws.String("k")}))(t)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfMatch: second.ETag})
	wantErr(t, err, "PreconditionFailed", 412)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfNoneMatch: third.ETag})
	if errStatus(err) != 304 {
		t.Fatalf("If-None-Match on current ETag: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfModifiedSince: aws.Time(h.clock.Now().Add(time.Hour))})
	if errStatus(err) != 304 {
		t.Fatalf("If-Modified-Since in the future: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfUnmodifiedSince: aws.Time(h.clock.Now().Add(-time.Hour))})
	wantErr(t, err, "PreconditionFailed", 412)
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfMatch: third.ETag,
		IfModifiedSince: aws.Time(h.clock.Now().Add(-time.Hour))})
	if body != "3" {
		t.Fatalf("conditional get = %q", body)
	}
}

func TestS3RangeTagsMetadataHeaders(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "rt-b")
	p := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), Body: strings.NewReader("0123456789"),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"), ContentDisposition: aws.String("attachment"),
		ContentEncoding: aws.String("identity"), Metadata: map[string]string{"metrics": `{"accuracy":0.91}`}, Tagging: aws.String("team=ml")}))(t)
	for _, tc := range []struct{ rng, want, cr string }{
		{"bytes=2-4", "234", "bytes 2-4/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-2", "89", "bytes 8-9/10"},
		{"bytes=5-100", "56789", "bytes 5-9/10"},
	} {
		body, out := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), Range: aws.String(tc.rng)})
		if body != tc.want || aws.ToString(out.ContentRange) != tc.cr {
			t.Fatalf("%s = %q (%v)", tc.rng, body, aws.ToString(out.ContentRange))
		}
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), Range: aws.String("bytes=20-")})
	wantErr(t, err, "InvalidRange", 416)

	hd := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("rt-b"), Key: aws.String("k")}))(t)
	if aws.ToString(hd.ContentType) != "text/plain" || aws.ToString(hd.CacheControl) != "max-age=60" ||
		aws.ToString(hd.ContentDisposition) != "attachment" || aws.ToString(hd.ContentEncoding) != "identity" ||
		hd.Metadata["metrics"] != `{"accuracy":0.91}` || aws.ToInt64(hd.ContentLength) != 10 || aws.ToString(hd.VersionId) != *p.VersionId {
		t.Fatalf("head = %+v", hd)
	}
	tg := must(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k")}))(t)
	if len(tg.TagSet) != 1 || *tg.TagSet[0].Key != "team" || *tg.TagSet[0].Value != "ml" {
		t.Fatalf("tags = %+v", tg.TagSet)
	}
	put(t, c, "rt-b", "k", "new")
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), VersionId: p.VersionId,
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}}))(t)
	tg = must(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), VersionId: p.VersionId}))(t)
	if len(tg.TagSet) != 2 || aws.ToString(tg.VersionId) != *p.VersionId {
		t.Fatalf("version tags = %+v", tg.TagSet)
	}
	tg = must(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k")}))(t)
	if len(tg.TagSet) != 0 {
		t.Fatalf("latest tags = %+v", tg.TagSet)
	}
	must(c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), VersionId: p.VersionId}))(t)
	tg = must(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), VersionId: p.VersionId}))(t)
	if len(tg.TagSet) != 0 {
		t.Fatalf("after delete tags = %+v", tg.TagSet)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rt-b"), Key: aws.String("k"), Body: strings.NewReader("x"),
		Tagging: aws.String("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11")})
	wantErr(t, err, "BadRequest", 400)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rt-b"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	wantErr(t, err, "KeyTooLongError", 400)
}

func TestS3DeleteObjects(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "do-b")
	a := put(t, c, "do-b", "a", "1")
	put(t, c, "do-b", "b", "1")
	out := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("do-b"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a"), VersionId: a.VersionId}, {Key: aws.String("b")}, {Key: aws.String("c"), VersionId: aws.String("bad")}}}}))(t)
	if len(out.Deleted) != 2 || len(out.Errors) != 1 {
		t.Fatalf("deleted %d, errors %d", len(out.Deleted), len(out.Errors))
	}
	if !aws.ToBool(out.Deleted[1].DeleteMarker) || aws.ToString(out.Deleted[1].DeleteMarkerVersionId) == "" {
		t.Fatalf("b: %+v", out.Deleted[1])
	}
	q := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("do-b"), Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("b")}}}}))(t)
	if len(q.Deleted) != 0 {
		t.Fatalf("quiet mode listed %d deletions", len(q.Deleted))
	}
	many := make([]types.ObjectIdentifier, 1001)
	for i := range many {
		many[i] = types.ObjectIdentifier{Key: aws.String("k")}
	}
	_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("do-b"), Delete: &types.Delete{Objects: many}})
	wantErr(t, err, "MalformedXML", 400)
	lv := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("do-b")}))(t)
	if len(lv.Versions) != 1 || len(lv.DeleteMarkers) != 2 {
		t.Fatalf("after deletes: %d versions %d markers", len(lv.Versions), len(lv.DeleteMarkers))
	}
}

func TestS3VirtualHostedStyle(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.virtualClient(t, "us-east-1")
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}))(t)
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k"), Body: strings.NewReader("v")}))(t)
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k")})
	if body != "v" {
		t.Fatalf("virtual-hosted get = %q", body)
	}
	for _, host := range []string{"vhost.s3.localhost", "vhost.localhost:1234"} {
		r := must(http.NewRequest(http.MethodGet, h.srv.URL+"/dir/k", nil))(t)
		r.Host = host
		resp := must(http.DefaultClient.Do(r))(t)
		b := must(io.ReadAll(resp.Body))(t)
		resp.Body.Close()
		if string(b) != "v" {
			t.Fatalf("Host %s: %d %q", host, resp.StatusCode, b)
		}
	}
}

func TestS3PresignedURLs(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-west-2")
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presign-b"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}))(t)
	pc := s3.NewPresignClient(c)
	pput := must(pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign-b"), Key: aws.String("shared/model.bin")}))(t)
	req := must(http.NewRequest(pput.Method, pput.URL, strings.NewReader("presigned body")))(t)
	for k, vs := range pput.SignedHeader {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp := must(http.DefaultClient.Do(req))(t)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}
	pget := must(pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presign-b"), Key: aws.String("shared/model.bin")}))(t)
	resp = must(http.Get(pget.URL))(t)
	b := must(io.ReadAll(resp.Body))(t)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
	}
	// A URL presigned for another region is refused, naming the bucket's.
	east := s3.NewPresignClient(h.client(t, "us-east-1"))
	wrong := must(east.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presign-b"), Key: aws.String("shared/model.bin")}))(t)
	resp = must(http.Get(wrong.URL))(t)
	b = must(io.ReadAll(resp.Body))(t)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Region>us-west-2</Region>") {
		t.Fatalf("wrong-region presigned GET: %d %s", resp.StatusCode, b)
	}
}

func TestS3ListPartsAndListObjectsV1Paging(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pages-b")}))(t)
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pages-b"), Key: aws.String("k")}))(t)
	for n := int32(1); n <= 5; n++ {
		must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("pages-b"), Key: aws.String("k"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: strings.NewReader(strings.Repeat("p", int(n)))}))(t)
	}
	var nums []int32
	p := s3.NewListPartsPaginator(c, &s3.ListPartsInput{Bucket: aws.String("pages-b"), Key: aws.String("k"), UploadId: up.UploadId, MaxParts: aws.Int32(2)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		for _, part := range out.Parts {
			nums = append(nums, aws.ToInt32(part.PartNumber))
		}
	}
	if !slices.Equal(nums, []int32{1, 2, 3, 4, 5}) {
		t.Fatalf("parts = %v", nums)
	}
	for _, k := range []string{"a/1", "a/2", "b", "c"} {
		put(t, c, "pages-b", k, k)
	}
	var got []string
	in := &s3.ListObjectsInput{Bucket: aws.String("pages-b"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}
	for range 10 {
		out := must(c.ListObjects(ctx, in))(t)
		for _, o := range out.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.Marker = out.NextMarker
	}
	if !slices.Equal(got, []string{"a/", "b", "c"}) {
		t.Fatalf("ListObjects pages = %v", got)
	}
	enc := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pages-b"), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("a/")}))(t)
	if len(enc.Contents) != 2 || aws.ToString(enc.Prefix) != "a/" {
		t.Fatalf("url-encoded v2 listing: %+v", enc.Contents)
	}
}

func TestS3UnusualKeys(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	newVersionedBucket(t, c, "keys-b")
	keys := []string{"a//b", "dir/", "ü/x y+z", "a%2Fb", "./x", "../y", "q?x=1&y", "tab\there", "emoji-🚀", " lead"}
	for _, k := range keys {
		put(t, c, "keys-b", k, "v:"+k)
	}
	for _, k := range keys {
		body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("keys-b"), Key: aws.String(k)})
		if body != "v:"+k {
			t.Fatalf("key %q read %q", k, body)
		}
	}
	out := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("keys-b")}))(t)
	var listed []string
	for _, v := range out.Versions {
		listed = append(listed, *v.Key)
	}
	if want := slices.Sorted(slices.Values(keys)); !slices.Equal(listed, want) {
		t.Fatalf("listed %q\nwant %q", listed, want)
	}
}
