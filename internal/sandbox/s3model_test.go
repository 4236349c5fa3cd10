package sandbox

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listedPage is a ListObjectVersions answer with its entries in document
// order.
type listedPage struct {
	IsTruncated         bool   `xml:"IsTruncated"`
	NextKeyMarker       string `xml:"NextKeyMarker"`
	NextVersionIDMarker string `xml:"NextVersionIdMarker"`
	Entries             []struct {
		XMLName   xml.Name
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
		Prefix    string `xml:"Prefix"`
	} `xml:",any"`
}

func listDirect(t *testing.T, s *s3Service, bucket string, q url.Values) listedPage {
	t.Helper()
	r := httptest.NewRequest("GET", "/"+bucket+"?versions&"+q.Encode(), nil)
	w := httptest.NewRecorder()
	s.serve(w, r, &call{Service: "s3", Operation: "ListObjectVersions", Now: time.Unix(0, 0)})
	if w.Code != 200 {
		t.Fatalf("list %v: %d %s", q, w.Code, w.Body)
	}
	var p listedPage
	if err := xml.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzS3VersionListing drives random puts, deletes and version removals
// against a reference model and checks that ListObjectVersions, whole and
// in pages of any size, lists exactly the model's entries in AWS's order.
func FuzzS3VersionListing(f *testing.F) {
	f.Add([]byte{0, 1, 2, 8, 9, 17, 3, 4, 5}, uint8(2), false)
	f.Add([]byte{1, 1, 1, 9, 9, 1, 25, 2}, uint8(1), true)
	f.Add([]byte{4, 12, 4, 20, 3, 11, 0}, uint8(3), true)
	keys := []string{"a", "a/b", "a/c", "b", "b/c d", "c"}
	f.Fuzz(func(t *testing.T, ops []byte, pageSize uint8, delimited bool) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		s := newS3ServiceConfig(s3Config{})
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := s.createBucket("fuzz-bucket", "us-east-1", true, now); err != nil {
			t.Fatal(err)
		}
		model := map[string][]string{} // key -> entry ids, newest first
		for i, op := range ops {
			k := keys[int(op)%len(keys)]
			at := now.Add(time.Duration(i/3) * time.Second) // several writes per second
			switch (op >> 4) % 3 {
			case 0:
				id, err := s.putObjectAt("fuzz-bucket", k, []byte{op}, nil, at)
				if err != nil {
					t.Fatal(err)
				}
				model[k] = append([]string{id}, model[k]...)
			case 1:
				id, err := s.deleteObjectAt("fuzz-bucket", k, at)
				if err != nil {
					t.Fatal(err)
				}
				model[k] = append([]string{id}, model[k]...)
			case 2:
				if n := len(model[k]); n > 0 {
					victim := model[k][int(op>>6)%n]
					s.mu.Lock()
					s.buckets["fuzz-bucket"].removeVersion(k, victim)
					s.mu.Unlock()
					model[k] = slices.DeleteFunc(model[k], func(id string) bool { return id == victim })
				}
			}
		}
		var want []string
		prefixes := map[string]bool{}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range model {
				if !yield(k) {
					return
				}
			}
		}) {
			if len(model[k]) == 0 {
				continue
			}
			if i := strings.Index(k, "/"); delimited && i >= 0 {
				if !prefixes[k[:i+1]] {
					prefixes[k[:i+1]] = true
					want = append(want, "P:"+k[:i+1])
				}
				continue
			}
			for _, id := range model[k] {
				want = append(want, k+"@"+id)
			}
		}
		size := int(pageSize%7) + 1
		q := url.Values{"max-keys": {strconv.Itoa(size)}}
		if delimited {
			q.Set("delimiter", "/")
		}
		var got []string
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				t.Fatalf("listing does not end: %v", got)
			}
			p := listDirect(t, s, "fuzz-bucket", q)
			n := 0
			for _, e := range p.Entries {
				switch e.XMLName.Local {
				case "Version", "DeleteMarker":
					got = append(got, e.Key+"@"+e.VersionID)
					n++
				case "CommonPrefixes":
					got = append(got, "P:"+e.Prefix)
					n++
				}
			}
			if n > size {
				t.Fatalf("page of %d entries with max-keys %d", n, size)
			}
			if !p.IsTruncated {
				break
			}
			q.Set("key-marker", p.NextKeyMarker)
			if p.NextVersionIDMarker != "" {
				q.Set("version-id-marker", p.NextVersionIDMarker)
			} else {
				q.Del("version-id-marker")
			}
		}
		// A page lists its common prefixes after its entries, so compare
		// the two sequences apart.
		split := func(xs []string) (e, p []string) {
			for _, x := range xs {
				if strings.HasPrefix(x, "P:") {
					p = append(p, x)
				} else {
					e = append(e, x)
				}
			}
			return e, p
		}
		ge, gp := split(got)
		we, wp := split(want)
		if !slices.Equal(ge, we) || !slices.Equal(gp, wp) {
			t.Fatalf("pages of %d (delimited %v)\n got %v\nwant %v", size, delimited, got, want)
		}
	})
}

// Concurrent clients writing, reading, listing and deleting while the
// clock moves and replication runs: the race detector checks the locking.
func TestS3ConcurrentClients(t *testing.T) {
	h := startS3Harness(t, s3Config{ReplicationLag: 2 * time.Second}, false)
	east, west := h.client(t, "us-east-1"), h.client(t, "us-west-2")
	ctx := context.Background()
	newVersionedBucket(t, east, "conc-src")
	must(west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("conc-dst"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}))(t)
	must(west.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("conc-dst"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	must(east.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("conc-src"),
		ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String("r"), Rules: []types.ReplicationRule{{
			ID: aws.String("all"), Status: types.ReplicationRuleStatusEnabled, Filter: &types.ReplicationRuleFilter{Prefix: aws.String("")},
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
			Destination:             &types.Destination{Bucket: aws.String("arn:aws:s3:::conc-dst")}}}}}))(t)
	const workers, ops = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*ops)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ops {
				key := fmt.Sprintf("k%d", i%5)
				var err error
				switch i % 4 {
				case 0, 1:
					_, err = east.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conc-src"), Key: &key, Body: strings.NewReader(key)})
				case 2:
					_, err = east.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("conc-src"), MaxKeys: aws.Int32(3)})
					if err == nil {
						_, err = west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("conc-dst")})
					}
				case 3:
					_, err = east.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("conc-src"), Key: &key})
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d op %d: %w", w, i, err)
				}
				if w == 0 {
					h.clock.Advance(500 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	src := must(east.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("conc-src")}))(t)
	dst := must(west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("conc-dst")}))(t)
	if len(src.Versions) != workers*ops/2 || len(dst.Versions) != len(src.Versions) || len(dst.DeleteMarkers) != len(src.DeleteMarkers) {
		t.Fatalf("source %d/%d, replica %d/%d", len(src.Versions), len(src.DeleteMarkers), len(dst.Versions), len(dst.DeleteMarkers))
	}
}
