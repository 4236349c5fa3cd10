package sandbox

import (
	"bytes"
	"context"
	"encoding/gob"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3Replication(t *testing.T) {
	h := startS3Harness(t, s3Config{ReplicationLag: 30 * time.Second}, false)
	east, west := h.client(t, "us-east-1"), h.client(t, "us-west-2")
	ctx := context.Background()
	newVersionedBucket(t, east, "src-bucket")
	must(west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dst-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}))(t)

	rule := types.ReplicationRule{ID: aws.String("to-dr"), Priority: aws.Int32(1), Status: types.ReplicationRuleStatusEnabled,
		Filter:                  &types.ReplicationRuleFilter{Prefix: aws.String("models/")},
		DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
		Destination: &types.Destination{Bucket: aws.String("arn:aws:s3:::dst-bucket"),
			ReplicationTime: &types.ReplicationTime{Status: types.ReplicationTimeStatusEnabled, Time: &types.ReplicationTimeValue{Minutes: aws.Int32(15)}},
			Metrics:         &types.Metrics{Status: types.MetricsStatusEnabled, EventThreshold: &types.ReplicationTimeValue{Minutes: aws.Int32(15)}}},
		ExistingObjectReplication: &types.ExistingObjectReplication{Status: types.ExistingObjectReplicationStatusDisabled}}
	repl := &types.ReplicationConfiguration{Role: aws.String("arn:aws:iam::000000000000:role/r"), Rules: []types.ReplicationRule{rule}}
	_, err := east.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("src-bucket"), ReplicationConfiguration: repl})
	wantErr(t, err, "InvalidRequest", 400) // destination not versioned yet
	must(west.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("dst-bucket"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	_, err = east.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("src-bucket")})
	wantErr(t, err, "ReplicationConfigurationNotFoundError", 404)
	must(east.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("src-bucket"), ReplicationConfiguration: repl}))(t)
	got := must(east.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("src-bucket")}))(t)
	if r := got.ReplicationConfiguration.Rules; len(r) != 1 || aws.ToString(r[0].ID) != "to-dr" ||
		aws.ToString(r[0].Destination.Bucket) != "arn:aws:s3:::dst-bucket" || aws.ToString(r[0].Filter.Prefix) != "models/" ||
		r[0].Destination.ReplicationTime == nil || aws.ToInt32(r[0].Destination.ReplicationTime.Time.Minutes) != 15 ||
		r[0].Destination.Metrics == nil || r[0].ExistingObjectReplication == nil {
		t.Fatalf("GetBucketReplication = %+v", got.ReplicationConfiguration)
	}

	v1 := put(t, east, "src-bucket", "models/a", "weights-1")
	put(t, east, "src-bucket", "scratch/x", "not replicated")
	hd := must(east.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("models/a")}))(t)
	if hd.ReplicationStatus != types.ReplicationStatusPending {
		t.Fatalf("status after put = %q", hd.ReplicationStatus)
	}
	if st := h.svc.replicationStats("src-bucket", h.clock.Now()); len(st) != 1 || st[0].PendingOps != 1 || st[0].PendingBytes != 9 || st[0].DestinationBucket != "dst-bucket" {
		t.Fatalf("stats while pending = %+v", st)
	}
	dr := must(west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("dst-bucket")}))(t)
	if len(dr.Versions) != 0 {
		t.Fatalf("replica appeared before the lag: %d versions", len(dr.Versions))
	}
	h.clock.Advance(29 * time.Second)
	at29 := h.clock.Now()
	if st := h.svc.replicationStats("src-bucket", at29); st[0].PendingOps != 1 || st[0].Latency != 29*time.Second {
		t.Fatalf("stats at 29s = %+v", st)
	}
	h.clock.Advance(time.Second)
	hd = must(east.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("models/a")}))(t)
	if hd.ReplicationStatus != types.ReplicationStatusCompleted {
		t.Fatalf("status after lag = %q", hd.ReplicationStatus)
	}
	rep := must(west.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("models/a")}))(t)
	if rep.ReplicationStatus != types.ReplicationStatusReplica || aws.ToString(rep.VersionId) != *v1.VersionId ||
		!rep.LastModified.Equal(*hd.LastModified) || aws.ToString(rep.ETag) != aws.ToString(v1.ETag) {
		t.Fatalf("replica = status %q id %v", rep.ReplicationStatus, aws.ToString(rep.VersionId))
	}
	if st := h.svc.replicationStats("src-bucket", h.clock.Now()); st[0].PendingOps != 0 || st[0].Latency != 30*time.Second {
		t.Fatalf("stats after completion = %+v", st)
	}
	// A past time reads as it was then, so metric series are consistent.
	if st := h.svc.replicationStats("src-bucket", at29); st[0].PendingOps != 1 || st[0].PendingBytes != 9 || st[0].Latency != 29*time.Second {
		t.Fatalf("stats at 29s, read later = %+v", st)
	}
	if st := h.svc.replicationStats("src-bucket", at29.Add(-time.Hour)); st[0].PendingOps != 0 || st[0].Latency != 0 {
		t.Fatalf("stats before any write = %+v", st)
	}
	_, err = west.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("scratch/x")})
	wantErr(t, err, "NotFound", 404)

	// Delete markers replicate (the rule asks for it); deleting a version
	// by id does not.
	v2 := put(t, east, "src-bucket", "models/a", "weights-2")
	dm := must(east.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("models/a")}))(t)
	h.clock.Advance(30 * time.Second)
	must(east.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("models/a"), VersionId: v1.VersionId}))(t)
	h.clock.Advance(30 * time.Second)
	dr = must(west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("dst-bucket")}))(t)
	if len(dr.Versions) != 2 || len(dr.DeleteMarkers) != 1 || aws.ToString(dr.DeleteMarkers[0].VersionId) != *dm.VersionId ||
		aws.ToString(dr.Versions[0].VersionId) != *v2.VersionId {
		t.Fatalf("DR listing: %d versions, %d markers", len(dr.Versions), len(dr.DeleteMarkers))
	}
	src := must(east.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("src-bucket"), Prefix: aws.String("models/")}))(t)
	if len(src.Versions) != 1 {
		t.Fatalf("source keeps %d versions, want 1", len(src.Versions))
	}

	// A destination that stops versioning makes replication fail.
	must(west.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("dst-bucket"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}))(t)
	put(t, east, "src-bucket", "models/b", "x")
	h.clock.Advance(31 * time.Second)
	hd = must(east.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("models/b")}))(t)
	if hd.ReplicationStatus != types.ReplicationStatusFailed {
		t.Fatalf("status with unversioned destination = %q", hd.ReplicationStatus)
	}
	if st := h.svc.replicationStats("src-bucket", h.clock.Now()); st[0].FailedOps != 1 {
		t.Fatalf("failed ops = %d", st[0].FailedOps)
	}
	_, err = east.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("src-bucket"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	wantErr(t, err, "InvalidBucketState", 409)
	must(east.DeleteBucketReplication(ctx, &s3.DeleteBucketReplicationInput{Bucket: aws.String("src-bucket")}))(t)
	_, err = east.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("src-bucket")})
	wantErr(t, err, "ReplicationConfigurationNotFoundError", 404)
}

func TestS3SeededModels(t *testing.T) {
	o := &Options{Seed: 7, ReplicationLag: 30 * time.Second, PrimaryRegion: "us-east-1", DRRegion: "us-west-2", Names: DefaultNames(),
		Sizes: EstateSizes{Models: 5, VersionsPerModel: 12, HistoryDays: 90, ObjectBytes: 256}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seed := func() *s3Service {
		s := newS3Service(o)
		if err := s.seedModels(newRand(o.Seed), o, now); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := seed(), seed()
	if region, ok := a.bucketRegion(DefaultNames().ReplicaBucket); !ok || region != "us-west-2" {
		t.Fatalf("replica region %q %v", region, ok)
	}
	// Deterministic: same seed, same history, same ids.
	ca := must(a.captureBucket(DefaultNames().ModelBucket, now))(t)
	cb := must(b.captureBucket(DefaultNames().ModelBucket, now))(t)
	if len(ca.Objects) != 10 || len(ca.Objects) != len(cb.Objects) {
		t.Fatalf("captured %d and %d objects", len(ca.Objects), len(cb.Objects))
	}
	for i := range ca.Objects {
		if ca.Objects[i].VersionID != cb.Objects[i].VersionID || ca.Objects[i].ETag != cb.Objects[i].ETag {
			t.Fatalf("object %d differs between runs", i)
		}
	}

	h := startS3Harness(t, s3Config{}, false)
	h.svc = a
	h.clock.now = now
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	var versions, markers int
	var sawRecreated bool
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(DefaultNames().ModelBucket), MaxKeys: aws.Int32(7)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		versions += len(out.Versions)
		markers += len(out.DeleteMarkers)
		for _, m := range out.DeleteMarkers {
			if strings.HasPrefix(*m.Key, "models/bert-ranker/") && !aws.ToBool(m.IsLatest) {
				sawRecreated = true
			}
		}
	}
	if versions < 5*12*2 || markers < 5 || !sawRecreated {
		t.Fatalf("seeded history: %d versions, %d markers, recreated %v", versions, markers, sawRecreated)
	}
	g := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(DefaultNames().ModelBucket), Key: aws.String("models/llama-ft/model.safetensors")}))(t)
	if !strings.Contains(g.Metadata["metrics"], "accuracy") || len(g.Metadata["git-commit"]) != 40 {
		t.Fatalf("metadata = %v", g.Metadata)
	}
	if g.ReplicationStatus != types.ReplicationStatusPending {
		t.Fatalf("newest llama-ft revision status = %q, want PENDING", g.ReplicationStatus)
	}
	body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String(DefaultNames().ModelBucket), Key: aws.String("models/llama-ft/model.safetensors")})
	if int64(len(body)) != aws.ToInt64(g.ContentLength) || md5ETag([]byte(body)) != aws.ToString(g.ETag) {
		t.Fatalf("generated body does not match its ETag")
	}
	h.clock.Advance(time.Minute)
	west := h.client(t, "us-west-2")
	rep := must(west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(DefaultNames().ReplicaBucket)}))(t)
	if len(rep.Versions) != versions || len(rep.DeleteMarkers) != markers {
		t.Fatalf("replica holds %d versions %d markers, source %d %d", len(rep.Versions), len(rep.DeleteMarkers), versions, markers)
	}
}

func TestS3PersistRoundTrip(t *testing.T) {
	o := &Options{Seed: 3, ReplicationLag: 30 * time.Second, PrimaryRegion: "us-east-1", DRRegion: "us-west-2", Names: DefaultNames(),
		Sizes: EstateSizes{Models: 2, VersionsPerModel: 4, HistoryDays: 10, ObjectBytes: 64}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := newS3Service(o)
	if err := a.seedModels(newRand(o.Seed), o, now); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := a.saveState(&buf); err != nil {
		t.Fatal(err)
	}
	b := newS3Service(o)
	if err := b.loadState(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	for _, bucket := range []string{DefaultNames().ModelBucket, DefaultNames().ReplicaBucket} {
		ca := must(a.captureBucket(bucket, later))(t)
		cb := must(b.captureBucket(bucket, later))(t)
		if len(ca.Objects) == 0 || len(ca.Objects) != len(cb.Objects) {
			t.Fatalf("%s: %d vs %d objects", bucket, len(ca.Objects), len(cb.Objects))
		}
		for i := range ca.Objects {
			x, y := ca.Objects[i], cb.Objects[i]
			if x.Key != y.Key || x.VersionID != y.VersionID || x.ETag != y.ETag || !x.Modified.Equal(y.Modified) ||
				x.Meta.get("git-commit") != y.Meta.get("git-commit") || x.Meta.get("git-commit") == "" || y.Headers == nil || *x.Headers != *y.Headers ||
				!bytes.Equal(x.Body.bytes(), y.Body.bytes()) {
				t.Fatalf("%s object %d: %+v vs %+v", bucket, i, x.Key, y.Key)
			}
		}
	}
	if sa, sb := a.replicationStats(DefaultNames().ModelBucket, later), b.replicationStats(DefaultNames().ModelBucket, later); len(sa) != 1 || sa[0] != sb[0] {
		t.Fatalf("replication stats %+v vs %+v", sa, sb)
	}
	if err := b.loadState(strings.NewReader("garbage")); err == nil {
		t.Fatal("loading garbage succeeded")
	}
	// A version without its content is refused, and the state is kept.
	var broken bytes.Buffer
	if err := gob.NewEncoder(&broken).Encode(&s3Snapshot{Buckets: []bucketSnapshot{{Name: "broken-b", Region: "us-east-1",
		Keys: []keySnapshot{{Key: "k", Versions: []versionSnapshot{{Object: capturedObject{VersionID: "null", Size: 5}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.loadState(&broken); err == nil || !strings.Contains(err.Error(), "content missing") {
		t.Fatalf("loading a version without content: %v", err)
	}
	if _, ok := b.bucketRegion(DefaultNames().ModelBucket); !ok {
		t.Fatal("a failed load replaced the state")
	}
}

func TestS3CaptureAndRestore(t *testing.T) {
	s := newS3ServiceConfig(s3Config{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.createBucket("cap-src", "us-east-1", true, t0); err != nil {
		t.Fatal(err)
	}
	must(s.putObjectAt("cap-src", "a", []byte("a1"), map[string]string{"m": "1"}, t0.Add(time.Hour)))(t)
	must(s.putObjectAt("cap-src", "b", []byte("b1"), nil, t0.Add(time.Hour)))(t)
	must(s.putObjectAt("cap-src", "a", []byte("a2"), nil, t0.Add(3*time.Hour)))(t)
	if id := must(s.deleteObjectAt("cap-src", "b", t0.Add(3*time.Hour)))(t); id == "" {
		t.Fatal("delete in a versioned bucket returned no marker id")
	}
	c := must(s.captureBucket("cap-src", t0.Add(2*time.Hour)))(t)
	if len(c.Objects) != 2 || string(c.Objects[0].Body.bytes()) != "a1" || c.Objects[0].Meta.get("m") != "1" || c.Bytes() != 4 {
		t.Fatalf("capture at 2h = %+v", c.Objects)
	}
	late := must(s.captureBucket("cap-src", t0.Add(4*time.Hour)))(t)
	if len(late.Objects) != 1 || string(late.Objects[0].Body.bytes()) != "a2" {
		t.Fatalf("capture at 4h = %+v", late.Objects)
	}
	if err := s.restoreCapture(c, "cap-restored", "us-west-2", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.restoreCapture(c, "cap-restored", "us-west-2", t0.Add(5*time.Hour)); err == nil {
		t.Fatal("restoring over an existing bucket succeeded")
	}
	back := must(s.captureBucket("cap-restored", t0.Add(6*time.Hour)))(t)
	if len(back.Objects) != 2 || string(back.Objects[1].Body.bytes()) != "b1" || back.Region != "us-west-2" {
		t.Fatalf("restored = %+v", back)
	}
	if _, err := s.captureBucket("missing", t0); err == nil {
		t.Fatal("capturing a missing bucket succeeded")
	}
}

func TestReplicationRuleMatching(t *testing.T) {
	prefix := func(s string) *string { return &s }
	one, two := 1, 2
	cfg := &replicationConfig{Rules: []replicationRuleXML{
		{ID: "v1", Prefix: prefix("logs/"), Status: "Enabled"},
		{ID: "low", Priority: &one, Filter: &replicationFilt{Prefix: prefix("models/")}, Status: "Enabled"},
		{ID: "high", Priority: &two, Filter: &replicationFilt{Tag: &tagXML{Key: "tier", Value: "gold"}}, Status: "Enabled",
			DeleteMarkerReplication: &statusXML{Status: "Disabled"}},
		{ID: "off", Filter: &replicationFilt{Prefix: prefix("")}, Status: "Disabled"},
	}}
	for _, c := range []struct {
		key    string
		v      *s3Version
		wantID string
	}{
		{"logs/a", &s3Version{}, "v1"},
		{"logs/a", &s3Version{deleteMarker: true}, "v1"},
		{"models/a", &s3Version{}, "low"},
		{"models/a", &s3Version{deleteMarker: true}, ""},
		{"models/a", &s3Version{tags: map[string]string{"tier": "gold"}}, "high"},
		{"other", &s3Version{tags: map[string]string{"tier": "gold"}}, "high"},
		{"other", &s3Version{}, ""},
	} {
		got := ""
		for _, r := range cfg.rules() {
			if r.matches(c.key, c.v) {
				got = r.id
				break
			}
		}
		if got != c.wantID {
			t.Fatalf("%s (marker %v, tags %v): rule %q, want %q", c.key, c.v.deleteMarker, c.v.tags, got, c.wantID)
		}
	}
}
