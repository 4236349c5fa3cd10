package awsx

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/drconsole/drconsole/internal/pitr"
)

func TestParseVersions(t *testing.T) {
	// A version and a delete marker in the same second: only their
	// position in the document orders them.
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>models</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <NextKeyMarker>c%2Bd+e</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
  <MaxKeys>4</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Version><Key>a+b</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest><LastModified>2026-03-01T10:00:00.000Z</LastModified><ETag>&quot;e3&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Version>
  <DeleteMarker><Key>a+b</Key><VersionId>d2</VersionId><IsLatest>false</IsLatest><LastModified>2026-03-01T10:00:00.000Z</LastModified></DeleteMarker>
  <Version><Key>a+b</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><LastModified>2026-03-01T09:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>0</Size></Version>
  <DeleteMarker><Key>c%2Bd+e</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>2026-03-01T11:00:00.000Z</LastModified><Owner><ID>x</ID></Owner></DeleteMarker>
  <CommonPrefixes><Prefix>ignored/</Prefix></CommonPrefixes>
</ListVersionsResult>`
	page, err := parseVersions([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	want := []pitr.Entry{
		{Key: "a b", VersionID: "v3", IsLatest: true, LastModified: at(10), ETag: `"e3"`, Size: 3, StorageClass: "STANDARD"},
		{Key: "a b", VersionID: "d2", IsDeleteMarker: true, LastModified: at(10)},
		{Key: "a b", VersionID: "v1", LastModified: at(9), ETag: `"e1"`},
		{Key: "c+d e", VersionID: "null", IsDeleteMarker: true, IsLatest: true, LastModified: at(11)},
	}
	if fmt.Sprint(page.entries) != fmt.Sprint(want) {
		t.Fatalf("entries\n got %v\nwant %v", page.entries, want)
	}
	if !page.truncated || page.nextKeyMarker != "c+d e" || page.nextVersionIDMarker != "v9" {
		t.Fatalf("paging %+v", page)
	}

	if ref, err := parseVersionsReference([]byte(doc)); err != nil || fmt.Sprint(ref) != fmt.Sprint(page) {
		t.Fatalf("encoding/xml reads %+v, %v", ref, err)
	}

	for _, bad := range []string{
		`<ListVersionsResult><Version><Key>a</Key><LastModified>yesterday</LastModified></Version></ListVersionsResult>`,
		`<ListVersionsResult><Version><LastModified>2026-03-01T10:00:00Z</LastModified></Version></ListVersionsResult>`,
		`<ListVersionsResult><Version><Key>a</Key>`,
		`<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`,
		`<ListVersionsResult><EncodingType>url</EncodingType><Version><Key>%zz</Key><LastModified>2026-03-01T10:00:00Z</LastModified></Version></ListVersionsResult>`,
	} {
		if _, err := parseVersions([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// The scanner reads what encoding/xml reads, on documents that use the
// parts of XML S3 never sends but a proxy or another store might.
func TestParseVersionsLikeEncodingXML(t *testing.T) {
	docs := []string{
		string(listingDoc(1000)),
		`<ListVersionsResult><Version><Key><![CDATA[a<b]]>&amp;c&#x20;d&#65;</Key><LastModified>2026-03-01T10:00:00Z</LastModified><Size> 7 </Size><IsLatest>1</IsLatest></Version></ListVersionsResult>`,
		`<?xml version="1.0"?><!-- c --><s3:ListVersionsResult xmlns:s3="x"><s3:Version a='>' b=">"><s3:Key>k<!-- c -->ey</s3:Key><Owner><ID/></Owner><LastModified>2026-03-01T10:00:00.5+02:00</LastModified></s3:Version ><Prefix/></s3:ListVersionsResult>`,
		`<ListVersionsResult><DeleteMarker><Key>k</Key><ETag>x</ETag><Size>9</Size><LastModified>2026-03-01T10:00:00Z</LastModified><VersionId/></DeleteMarker><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker></ListVersionsResult>`,
		`<ListVersionsResult/>`,
		`<ListVersionsResult><Version><Key>a<b>ignored</b>c</Key><LastModified>2026-03-01T10:00:00Z</LastModified></Version></ListVersionsResult>`,
	}
	for i, doc := range docs {
		got, err := parseVersions([]byte(doc))
		want, referr := parseVersionsReference([]byte(doc))
		if err != nil || referr != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("doc %d:\n got %+v, %v\nwant %+v, %v", i, got, err, want, referr)
		}
	}
}

// write is one write the MinIO test makes, in order.
type write struct {
	key    string
	delete bool
	body   string
}

func TestVersionPagesMinIO(t *testing.T) {
	url := startMinIO(t)
	ctx := t.Context()
	c := minioClients(t, url, false)
	s3c, err := c.S3(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "models"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// An object written before versioning is on has the null version id.
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("m/legacy"), Body: strings.NewReader("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	writes := []write{
		{key: "m/legacy", body: "new"},
		{key: "m/a b.bin", body: "1"}, {key: "m/a b.bin", body: "22"}, {key: "m/a b.bin", delete: true}, {key: "m/a b.bin", body: "333"},
		{key: "m/a+b.bin", body: "plus"},
		{key: "m/a%20b", body: "percent"},
		{key: "m/ключ/ü.bin", body: "unicode"},
		{key: "m/zero", body: ""},
		{key: "m/gone", body: "x"}, {key: "m/gone", delete: true}, {key: "m/gone", delete: true},
		{key: "m/quick", body: "q"}, {key: "m/quick", delete: true}, {key: "m/quick", body: "q2"}, {key: "m/quick", delete: true},
		{key: "n/outside", body: "not listed"},
	}
	// The version ids each key got, newest first: the order the listing must
	// show.
	truth := map[string][]string{"m/legacy": {"null"}}
	for _, w := range writes {
		var id *string
		if w.delete {
			out, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(w.key)})
			if err != nil {
				t.Fatal(err)
			}
			id = out.VersionId
		} else {
			out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(w.key), Body: strings.NewReader(w.body)})
			if err != nil {
				t.Fatal(err)
			}
			id = out.VersionId
		}
		// MinIO answers a delete of an already deleted key with the
		// existing marker instead of adding one.
		if old := truth[w.key]; len(old) > 0 && old[0] == aws.ToString(id) {
			continue
		}
		truth[w.key] = append([]string{aws.ToString(id)}, truth[w.key]...)
	}
	delete(truth, "n/outside")

	ro := minioClients(t, url, true)
	s3ro, err := ro.S3(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, pageSize := range []int32{1, 2, 3, 1000} {
		t.Run(fmt.Sprint("pages of ", pageSize), func(t *testing.T) {
			var all []pitr.Entry
			p := NewVersionPaginator(s3ro, VersionListing{Bucket: bucket, Prefix: "m/", MaxKeys: pageSize})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
			}
			got := map[string][]string{}
			var keys []string
			for i, e := range all {
				if len(got[e.Key]) == 0 {
					keys = append(keys, e.Key)
					if !e.IsLatest {
						t.Errorf("%s: first entry %s is not the latest", e.Key, e.VersionID)
					}
				} else if i > 0 && e.LastModified.After(all[i-1].LastModified) {
					t.Errorf("%s: entries not newest first", e.Key)
				}
				got[e.Key] = append(got[e.Key], e.VersionID)
				if e.IsDeleteMarker && (e.Size != 0 || e.ETag != "") {
					t.Errorf("delete marker with content: %+v", e)
				}
				if !e.IsDeleteMarker && e.StorageClass != "STANDARD" {
					t.Errorf("%s %s: storage class %q", e.Key, e.VersionID, e.StorageClass)
				}
				if e.LastModified.Location() != time.UTC {
					t.Errorf("time not in UTC: %v", e.LastModified)
				}
			}
			if !slices.IsSorted(keys) {
				t.Errorf("keys out of order: %q", keys)
			}
			if fmt.Sprint(got) != fmt.Sprint(truth) {
				t.Fatalf("listing order\n got %v\nwant %v", got, truth)
			}
			if pageSize == 1 && p.Pages() < len(all) {
				t.Fatalf("%d pages for %d entries", p.Pages(), len(all))
			}
			// The planner takes it as it is: T before the second write of
			// "a b.bin" brings back its first version.
			T := all[slices.IndexFunc(all, func(e pitr.Entry) bool { return e.VersionID == truth["m/a b.bin"][3] })].LastModified
			pl, err := pitr.New(pitr.Options{At: T, SourcePrefix: "m/"})
			if err != nil {
				t.Fatal(err)
			}
			var ds []pitr.Decision
			emit := func(d pitr.Decision) error { ds = append(ds, d); return nil }
			if err := pl.Feed(all, emit); err != nil {
				t.Fatal(err)
			}
			if err := pl.Close(emit); err != nil {
				t.Fatal(err)
			}
			if ds[0].Key != "m/a b.bin" || ds[0].Action != pitr.Copy || ds[0].Source.VersionID != truth["m/a b.bin"][3] {
				t.Fatalf("first decision %+v", ds[0])
			}
		})
	}

	t.Run("key range", func(t *testing.T) {
		var keys []string
		err := ListVersions(ctx, s3ro, VersionListing{Bucket: bucket, Prefix: "m/", MaxKeys: 2,
			Range: pitr.Range{After: "m/a b.bin", Through: "m/quick"}}, func(page []pitr.Entry) error {
			for _, e := range page {
				if len(keys) == 0 || keys[len(keys)-1] != e.Key {
					keys = append(keys, e.Key)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"m/a%20b", "m/a+b.bin", "m/gone", "m/legacy", "m/quick"}
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Fatalf("range listed %q, want %q", keys, want)
		}
	})

	t.Run("cursor", func(t *testing.T) {
		cur := VersionCursor(ctx, s3ro, VersionListing{Bucket: bucket, Prefix: "m/", MaxKeys: 2})
		n := 0
		for {
			_, ok, err := cur.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			n++
		}
		want := 0
		for _, ids := range truth {
			want += len(ids)
		}
		if n != want {
			t.Fatalf("cursor read %d entries, want %d", n, want)
		}
	})

	t.Run("key ranges plan as one", func(t *testing.T) {
		// T just after "m/a+b.bin" was written: keys written before it
		// are kept or restored, those written later deleted.
		var T time.Time
		if err := ListVersions(ctx, s3ro, VersionListing{Bucket: bucket, Prefix: "m/a+b"}, func(p []pitr.Entry) error {
			T = p[0].LastModified
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := sequential(t, s3ro, pitr.Options{At: T, SourcePrefix: "m/"}, nil)
		var mu sync.Mutex
		var got []pitr.Decision
		_, err := RangePlan{Client: s3ro, Bucket: bucket, Prefix: "m/", PageSize: 2, Options: pitr.Options{At: T},
			Workers: 3, KeysPerRange: 2}.Run(ctx, func(d pitr.Decision) error {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b pitr.Decision) int { return strings.Compare(a.Key, b.Key) })
		actions := map[pitr.Action]int{}
		for _, d := range want {
			actions[d.Action]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || len(want) != len(truth) || len(actions) < 2 {
			t.Fatalf("ranges planned\n %v\nwant %v", got, want)
		}
	})

	t.Run("errors name the listing", func(t *testing.T) {
		err := ListVersions(ctx, s3ro, VersionListing{Bucket: "no-such-bucket"}, func([]pitr.Entry) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/") {
			t.Fatalf("err = %v", err)
		}
		stop := errors.New("stop")
		if err := ListVersions(ctx, s3ro, VersionListing{Bucket: bucket}, func([]pitr.Entry) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("err = %v", err)
		}
	})
}

// FuzzParseVersions: any response body is either read or refused with an
// error, never a panic, and what is read has keys and times.
func FuzzParseVersions(f *testing.F) {
	f.Add([]byte(`<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextKeyMarker>a+b</NextKeyMarker>` +
		`<Version><Key>a%2Bb</Key><VersionId>null</VersionId><LastModified>2026-03-01T10:00:00.000Z</LastModified><Size>0</Size></Version>` +
		`<DeleteMarker><Key>a%2Bb</Key><VersionId>d</VersionId><LastModified>2026-03-01T10:00:00Z</LastModified></DeleteMarker></ListVersionsResult>`))
	f.Add([]byte(`<ListVersionsResult><Version><Key>k</Key><Version><Key>x</Key></Version></Version></ListVersionsResult>`))
	f.Add([]byte(`<a><b><Version>`))
	f.Add(listingDoc(3))
	f.Fuzz(func(t *testing.T, doc []byte) {
		page, err := parseVersions(doc)
		ref, referr := parseVersionsReference(doc)
		if err == nil && referr == nil && fmt.Sprint(page) != fmt.Sprint(ref) {
			t.Fatalf("scanner and encoding/xml disagree\n got %+v\nwant %+v", page, ref)
		}
		if err != nil {
			return
		}
		for _, e := range page.entries {
			if e.Key == "" || e.LastModified.IsZero() {
				t.Fatalf("entry without key or time: %+v", e)
			}
		}
	})
}
