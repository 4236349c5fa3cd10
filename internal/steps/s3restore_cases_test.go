package steps_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// restoreStep applies an s3_restore step with the given attributes.
func restoreStep(t *testing.T, ctx context.Context, step *steps.S3Restore, set map[string]cty.Value) (map[string]int64, *recorder, error) {
	t.Helper()
	var rec recorder
	out, err := step.Apply(ctx, rec.context(false), stepConfig(step.Spec(), set))
	if err != nil {
		return nil, &rec, err
	}
	return outputsOf(t, out), &rec, nil
}

// testIntoOtherBucket restores the edge-case scenario into another bucket
// and prefix that already holds objects: some already in T's state (left
// alone), some different (overwritten), some that did not exist at T
// (deleted), so the target mirrors T.
func testIntoOtherBucket(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	// The target prefix is as long as the source's, so the 1,024-byte key
	// fits there too.
	const src, dst, dstPrefix = "pitr-src", "pitr-dst", "r/"
	createBuckets(t, ctx, be.client, src, dst)
	enableVersioning(t, ctx, be.client, dst)
	ops := append(pitrScenario(src),
		later(put(dst, dstPrefix+"unchanged", "unchanged since before T")), // already T's state
		later(put(dst, dstPrefix+"overwritten", "something else")),
		later(put(dst, dstPrefix+"junk", "not in the source at T")),
		later(put(dst, dstPrefix+"zzz-after-every-source-key", "junk")),
		later(put(dst, "elsewhere/kept", "outside the target prefix")),
	)
	at, hist := play(t, ctx, be, base, ops)
	h := hist[src]
	set := map[string]cty.Value{
		"bucket": cty.StringVal(src), "prefix": cty.StringVal(pitrPrefix), "to_time": cty.StringVal(at.Format(time.RFC3339Nano)),
		"target_bucket": cty.StringVal(dst), "target_prefix": cty.StringVal(dstPrefix), "page_size": cty.NumberIntVal(3),
	}
	want := expected(h.atT, pitrPrefix, dstPrefix)
	var wantCopies int64
	for k, b := range want {
		if cur := hist[dst].now[k]; cur == nil || !bytes.Equal(cur, b) {
			wantCopies++
		}
	}
	var wantDeletes int64
	for k, b := range hist[dst].now {
		if _, ok := want[k]; !ok && b != nil && strings.HasPrefix(k, dstPrefix) {
			wantDeletes++
		}
	}

	step := &steps.S3Restore{Clients: be.clients, KeysPerRange: 4}
	before := be.writes()
	got, _, err := restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatal(err)
	}
	if got["copied"] != wantCopies || got["deleted"] != wantDeletes {
		t.Errorf("outputs %v, want %d copied and %d deleted", got, wantCopies, wantDeletes)
	}
	if w := be.writes() - before; w != wantCopies+wantDeletes {
		t.Errorf("%d writes, want %d", w, wantCopies+wantDeletes)
	}
	sameObjects(t, "target after restore", currentObjects(t, ctx, be.client, dst, dstPrefix), want)
	sameObjects(t, "source after restore", currentObjects(t, ctx, be.client, src, ""), expected(h.now, "", ""))
	sameObjects(t, "target outside its prefix", currentObjects(t, ctx, be.client, dst, "elsewhere/"), expected(hist[dst].now, "elsewhere/", "elsewhere/"))

	before = be.writes()
	got, _, err = restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatal(err)
	}
	if w := be.writes() - before; w != 0 || got["copied"]+got["deleted"] != 0 {
		t.Errorf("second run: %d writes, outputs %v; want none", w, got)
	}

	// Under a longer prefix the 1,024-byte key no longer fits: the plan
	// says so before anything runs.
	set["target_prefix"] = cty.StringVal("restored/")
	changes, err := (&steps.S3Restore{Clients: be.clients.asReadOnly()}).Plan(ctx, (&recorder{}).context(true), stepConfig(step.Spec(), set))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(changes[0].Detail, "whose copies will fail: 1") {
		t.Errorf("plan %q does not warn about the key too long for the target", changes[0].Detail)
	}
}

// testEmptyPrefix restores a whole bucket.
func testEmptyPrefix(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b = "pitr-whole"
	createBuckets(t, ctx, be.client, b)
	at, hist := play(t, ctx, be, base, pitrScenario(b))
	h := hist[b]
	step := &steps.S3Restore{Clients: be.clients}
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "to_time": cty.StringVal(at.Format(time.RFC3339Nano))}
	got, _, err := restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatal(err)
	}
	want := wantCounts(h.atT, h.now, "")
	if got["copied"] != want["copied"] || got["deleted"] != want["deleted"] || got["unchanged"] != want["unchanged"] {
		t.Errorf("outputs %v, want %v", got, want)
	}
	sameObjects(t, "bucket after restore", currentObjects(t, ctx, be.client, b, ""), expected(h.atT, "", ""))
}

// testPartialFailure makes some copies fail: the step fails, the journal
// holds what was done, and a second run does only what is left.
func testPartialFailure(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b = "pitr-partial"
	createBuckets(t, ctx, be.client, b)
	at, hist := play(t, ctx, be, base, pitrScenario(b))
	h := hist[b]
	want := wantCounts(h.atT, h.now, pitrPrefix)
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano)), "concurrency": cty.NumberIntVal(3)}

	refused := func(key string) bool { return strings.HasPrefix(key, "p/mass/") }
	broken := &steps.S3Restore{Clients: be.clients.failing("AccessDenied", refused)}
	_, rec, err := restoreStep(t, ctx, broken, set)
	if err == nil {
		t.Fatal("a restore with failed copies succeeded")
	}
	if !strings.Contains(err.Error(), "4 of") || !strings.Contains(err.Error(), "p/mass/") {
		t.Errorf("error %q does not say how many changes failed and which", err)
	}
	var done, failed int
	for _, r := range rec.journal(t) {
		if r["error"] != "" {
			failed++
		} else {
			done++
		}
	}
	if failed != 4 || int64(done) != want["copied"]+want["deleted"]-4 {
		t.Errorf("journal: %d done, %d failed; want %d and 4", done, failed, want["copied"]+want["deleted"]-4)
	}

	before := be.writes()
	got, _, err := restoreStep(t, ctx, &steps.S3Restore{Clients: be.clients}, set)
	if err != nil {
		t.Fatal(err)
	}
	if w := be.writes() - before; w != 4 || got["copied"] != 4 || got["deleted"] != 0 {
		t.Errorf("resumed run: %d writes, outputs %v; want the 4 copies left", w, got)
	}
	sameObjects(t, "prefix after resume", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}

// testCancel cancels a restore part way: the step fails with the
// context's cause, every key it logged is restored, and a second run does
// exactly what is left.
func testCancel(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b = "pitr-cancel"
	createBuckets(t, ctx, be.client, b)
	at, hist := play(t, ctx, be, base, pitrScenario(b))
	h := hist[b]
	want := wantCounts(h.atT, h.now, pitrPrefix)
	step := &steps.S3Restore{Clients: be.clients}
	cfg := stepConfig(step.Spec(), map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano)), "concurrency": cty.NumberIntVal(1)})

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var rec recorder
	sc := rec.context(false)
	log := sc.Log
	sc.Log = func(l string) {
		log(l)
		if len(rec.journal(t)) >= 3 {
			cancel(errors.New("operator pressed ctrl-c"))
		}
	}
	before := be.writes()
	if _, err := step.Apply(runCtx, sc, cfg); err == nil || !strings.Contains(err.Error(), "ctrl-c") {
		t.Fatalf("cancelled restore: %v, want the cancellation's cause", err)
	}
	done := 0
	for _, r := range rec.journal(t) {
		if r["error"] == "" {
			done++
		}
	}
	if done < 3 || int64(done) >= want["copied"]+want["deleted"] {
		t.Fatalf("%d keys restored before the cancellation took effect, want at least 3 and not all", done)
	}
	// With one worker, at most one request was in flight when the run was
	// cancelled: the store may have done it without the step hearing back.
	if w := be.writes() - before; w < int64(done) || w > int64(done)+1 {
		t.Errorf("%d writes for %d restored keys", w, done)
	}

	got, _, err := restoreStep(t, ctx, step, map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano))})
	if err != nil {
		t.Fatal(err)
	}
	left := want["copied"] + want["deleted"] - int64(done)
	if n := got["copied"] + got["deleted"]; n > left || n < left-1 {
		t.Errorf("resumed run: outputs %v; want the %d changes left (or one fewer, done by the cancelled request)", got, left)
	}
	sameObjects(t, "prefix after resume", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}

// testMultipart restores an object above the multipart threshold (lowered
// for the test) and checks content headers, user metadata and tags.
func testMultipart(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b, key = "pitr-big", "models/big/model.safetensors"
	createBuckets(t, ctx, be.client, b)
	enableVersioning(t, ctx, be.client, b)
	big := make([]byte, 11<<20+12345)
	for i := range big {
		big[i] = byte(i*7 + i>>10)
	}
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(big),
		ContentType: aws.String("application/x-safetensors"), CacheControl: aws.String("max-age=60"),
		ContentDisposition: aws.String(`attachment; filename="model.safetensors"`),
		Metadata:           map[string]string{"git-commit": "abc123", "metrics": `{"accuracy":0.91}`},
		Tagging:            aws.String("stage=prod&owner=ml%20team")}); err != nil {
		t.Fatal(err)
	}
	at := lastModified(t, ctx, be.client, op{bucket: b, key: key})
	if be.setTime != nil {
		be.setTime(at.Add(time.Hour))
	} else {
		time.Sleep(time.Until(at.Add(5 * time.Millisecond)))
	}
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("broken"),
		Metadata: map[string]string{"git-commit": "bad"}}); err != nil {
		t.Fatal(err)
	}

	step := &steps.S3Restore{Clients: be.clients, MultipartThreshold: 5 << 20, PartSize: 5 << 20}
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal("models/"), "to_time": cty.StringVal(at.Format(time.RFC3339Nano))}
	changes, err := (&steps.S3Restore{Clients: be.clients.asReadOnly(), MultipartThreshold: 5 << 20, PartSize: 5 << 20}).
		Plan(ctx, (&recorder{}).context(true), stepConfig(step.Spec(), set))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(changes[0].Detail, "7 write requests") {
		t.Errorf("plan %q does not count the multipart copy's 7 requests", changes[0].Detail)
	}
	got, _, err := restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatal(err)
	}
	if got["copied"] != 1 {
		t.Fatalf("outputs %v", got)
	}
	g, err := be.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if !bytes.Equal(body, big) {
		t.Errorf("restored object differs: %d bytes, want %d", len(body), len(big))
	}
	if aws.ToString(g.ContentType) != "application/x-safetensors" || aws.ToString(g.CacheControl) != "max-age=60" ||
		aws.ToString(g.ContentDisposition) != `attachment; filename="model.safetensors"` {
		t.Errorf("content headers not kept: %q %q %q", aws.ToString(g.ContentType), aws.ToString(g.CacheControl), aws.ToString(g.ContentDisposition))
	}
	if g.Metadata["git-commit"] != "abc123" || g.Metadata["metrics"] != `{"accuracy":0.91}` {
		t.Errorf("user metadata not kept: %v", g.Metadata)
	}
	if !strings.HasSuffix(strings.Trim(aws.ToString(g.ETag), `"`), "-3") {
		t.Errorf("ETag %s: want a 3-part multipart ETag", aws.ToString(g.ETag))
	}
	// A multipart copy whose parts are refused is aborted: no new version,
	// no upload left behind; the next run copies it.
	refused := &steps.S3Restore{Clients: be.clients.failing("AccessDenied", func(string) bool { return true }),
		MultipartThreshold: 5 << 20, PartSize: 5 << 20}
	versions := versionCount(t, ctx, be.client, b, key)
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("broken again")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := restoreStep(t, ctx, refused, set); err == nil || !strings.Contains(err.Error(), "part ") {
		t.Errorf("restore with refused part copies: %v, want an error naming the part", err)
	}
	if n := versionCount(t, ctx, be.client, b, key); n != versions+1 {
		t.Errorf("%d versions after a failed multipart copy, want %d (no new one)", n, versions+1)
	}
	uploads, err := be.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind, want them aborted", len(uploads.Uploads))
	}
	if _, _, err := restoreStep(t, ctx, step, set); err != nil {
		t.Fatal(err)
	}

	tags, err := be.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	gotTags := map[string]string{}
	for _, tg := range tags.TagSet {
		gotTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if gotTags["stage"] != "prod" || gotTags["owner"] != "ml team" || len(gotTags) != 2 {
		t.Errorf("tags not kept: %v", gotTags)
	}
}

// testModelRollback rolls one artifact back by version id and by time.
func testModelRollback(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b, key = "models-rb", "models/llama-ft/model.safetensors"
	createBuckets(t, ctx, be.client, b)
	enableVersioning(t, ctx, be.client, b)
	var ids []string
	for i, commit := range []string{"aaa111", "bbb222", "ccc333"} {
		if be.setTime != nil {
			be.setTime(base.Add(time.Duration(i) * time.Hour))
		}
		out, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key),
			Body:     strings.NewReader("weights " + commit),
			Metadata: map[string]string{"git-commit": commit, "metrics": fmt.Sprintf(`{"accuracy":0.9%d}`, i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}
	// A longer key sharing the prefix must not be mistaken for this one.
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key + ".bak"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if be.setTime != nil {
		be.setTime(base.Add(5 * time.Hour))
	}

	step := &steps.ModelRollback{Clients: be.clients}
	dry := &steps.ModelRollback{Clients: be.clients.asReadOnly()}
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "key": cty.StringVal(key), "version_id": cty.StringVal(ids[0])}
	cfg := stepConfig(step.Spec(), set)
	before := be.writes()
	changes, err := dry.Plan(ctx, (&recorder{}).context(true), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if be.writes() != before {
		t.Fatal("plan wrote")
	}
	if len(changes) != 1 || changes[0].Action != "CopyObject" || changes[0].Target != b+"/"+key {
		t.Fatalf("plan %v", changes)
	}
	for _, s := range []string{"version " + ids[0], "git-commit=aaa111", `metrics={"accuracy":0.90}`, "replaces version " + ids[2], "git-commit=ccc333"} {
		if !strings.Contains(changes[0].Detail, s) {
			t.Errorf("plan %q does not say %q", changes[0].Detail, s)
		}
	}
	out, err := step.Apply(ctx, (&recorder{}).context(false), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := out.AsValueMap()
	if m["restored_version_id"].AsString() != ids[0] || m["previous_version_id"].AsString() != ids[2] || m["new_version_id"].AsString() == "" {
		t.Errorf("outputs %v", m)
	}
	current := func() (string, string) {
		g, err := be.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Body.Close()
		body, _ := io.ReadAll(g.Body)
		return string(body), g.Metadata["git-commit"]
	}
	if body, commit := current(); body != "weights aaa111" || commit != "aaa111" {
		t.Errorf("current is %q (%s), want the first version", body, commit)
	}
	// Again: already current, no write.
	before = be.writes()
	changes, err = dry.Plan(ctx, (&recorder{}).context(true), cfg)
	if err != nil || changes[0].Action != "none" {
		t.Errorf("second plan: %v %v", changes, err)
	}
	if _, err := step.Apply(ctx, (&recorder{}).context(false), cfg); err != nil {
		t.Fatal(err)
	}
	if be.writes() != before {
		t.Error("rolling back to the current version wrote")
	}

	// By time: at base+1h30m the second version was current.
	at := lastModified(t, ctx, be.client, op{bucket: b, key: key})
	_ = at
	byTime := map[string]cty.Value{"bucket": cty.StringVal(b), "key": cty.StringVal(key)}
	versions, err := be.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var second time.Time
	for _, v := range versions.Versions {
		if aws.ToString(v.VersionId) == ids[1] {
			second = aws.ToTime(v.LastModified)
		}
	}
	byTime["to_time"] = cty.StringVal(second.Format(time.RFC3339Nano))
	out, err = step.Apply(ctx, (&recorder{}).context(false), stepConfig(step.Spec(), byTime))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.GetAttr("restored_version_id").AsString(); got != ids[1] {
		t.Errorf("rollback to %s restored %s, want %s", second, got, ids[1])
	}
	if body, _ := current(); body != "weights bbb222" {
		t.Errorf("current is %q, want the second version", body)
	}

	// Errors: an unknown version, a time before the key existed.
	for _, c := range []struct {
		set  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"bucket": cty.StringVal(b), "key": cty.StringVal(key), "version_id": cty.StringVal("no-such-version")}, "has no version"},
		{map[string]cty.Value{"bucket": cty.StringVal(b), "key": cty.StringVal(key), "to_time": cty.StringVal("2001-01-01T00:00:00Z")}, "did not exist yet"},
		{map[string]cty.Value{"bucket": cty.StringVal(b), "key": cty.StringVal("models/none"), "version_id": cty.StringVal("v")}, "has no versions"},
	} {
		_, err := dry.Plan(ctx, (&recorder{}).context(true), stepConfig(step.Spec(), c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("plan %v: %v, want an error saying %q", c.set, err, c.want)
		}
	}
}

// testArchived answers the copies of some keys as S3 does for an archived
// source (InvalidObjectState): the step fails saying why, or skips them
// with skip_archived.
func testArchived(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const b = "pitr-archived"
	createBuckets(t, ctx, be.client, b)
	at, _ := play(t, ctx, be, base, pitrScenario(b))
	archived := func(key string) bool { return strings.HasPrefix(key, "p/mass/") }
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano))}
	step := &steps.S3Restore{Clients: be.clients.failing("InvalidObjectState", archived)}
	_, _, err := restoreStep(t, ctx, step, set)
	if err == nil || !strings.Contains(err.Error(), "archived") || !strings.Contains(err.Error(), "RestoreObject") {
		t.Fatalf("restore of archived versions: %v, want an error saying they are archived", err)
	}
	set["skip_archived"] = cty.True
	got, rec, err := restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatalf("restore skipping archived versions: %v", err)
	}
	if got["skipped"] != 4 || got["failed"] != 0 || got["copied"] != 0 {
		t.Errorf("outputs %v, want the 4 archived keys skipped and the rest already restored", got)
	}
	skips := 0
	for _, r := range rec.journal(t) {
		if r["action"] == "skip" {
			skips++
		}
	}
	if skips != 4 {
		t.Errorf("journal has %d skips, want 4", skips)
	}
}

func TestS3RestoreArchivedSandbox(t *testing.T) { testArchived(t, sandboxBackend) }
func TestS3RestoreCancelSandbox(t *testing.T)   { testCancel(t, sandboxBackend) }

func TestS3RestoreIntoOtherBucketMinIO(t *testing.T) { testIntoOtherBucket(t, minioBackend) }
func TestS3RestoreEmptyPrefixMinIO(t *testing.T)     { testEmptyPrefix(t, minioBackend) }
func TestS3RestorePartialFailureMinIO(t *testing.T)  { testPartialFailure(t, minioBackend) }
func TestS3RestoreMultipartMinIO(t *testing.T)       { testMultipart(t, minioBackend) }
func TestModelRollbackMinIO(t *testing.T)            { testModelRollback(t, minioBackend) }

func TestS3RestoreIntoOtherBucketSandbox(t *testing.T) { testIntoOtherBucket(t, sandboxBackend) }
func TestS3RestoreEmptyPrefixSandbox(t *testing.T)     { testEmptyPrefix(t, sandboxBackend) }
func TestS3RestorePartialFailureSandbox(t *testing.T)  { testPartialFailure(t, sandboxBackend) }
func TestS3RestoreMultipartSandbox(t *testing.T)       { testMultipart(t, sandboxBackend) }
func TestModelRollbackSandbox(t *testing.T)            { testModelRollback(t, sandboxBackend) }

// TestS3RestoreUnderFaultsSandbox restores through drconsole's own client
// factory (adaptive retries) while the sandbox throttles, fails and slows
// requests: the final state is still exactly T's.
func TestS3RestoreUnderFaultsSandbox(t *testing.T) {
	ctx := t.Context()
	be := sandboxBackend(t)
	const b = "pitr-faults"
	createBuckets(t, ctx, be.client, b)
	at, hist := play(t, ctx, be, base, pitrScenario(b))
	h := hist[b]
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: be.srv.URL(), MaxBackoff: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	be.srv.SetFaults([]sandbox.Fault{
		{Service: "s3", Kind: sandbox.FaultThrottle, Rate: 0.10},
		{Service: "s3", Kind: sandbox.FaultError5xx, Rate: 0.02},
		{Service: "s3", Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond},
	})
	step := &steps.S3Restore{Clients: clients}
	set := map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano)), "page_size": cty.NumberIntVal(5)}
	got, _, err := restoreStep(t, ctx, step, set)
	if err != nil {
		t.Fatalf("restore under faults: %v", err)
	}
	want := wantCounts(h.atT, h.now, pitrPrefix)
	if got["copied"] != want["copied"] || got["deleted"] != want["deleted"] {
		t.Errorf("outputs %v, want %v", got, want)
	}
	be.srv.SetFaults(nil)
	sameObjects(t, "prefix after a restore under faults", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}

// TestS3RestoreRetriesThrottledKeys answers the first two copies of some
// keys with SlowDown, as if the SDK's own retries had run out: the step
// backs off (on an injected clock: nothing waits) with growing delays,
// sends them again, and finishes with every key restored.
func TestS3RestoreRetriesThrottledKeys(t *testing.T) {
	ctx := t.Context()
	be := sandboxBackend(t)
	const b = "pitr-throttled"
	createBuckets(t, ctx, be.client, b)
	at, hist := play(t, ctx, be, base, pitrScenario(b))
	h := hist[b]
	var mu sync.Mutex
	tries := map[string]int{}
	throttled := func(key string) bool {
		mu.Lock()
		defer mu.Unlock()
		if !strings.HasPrefix(key, "p/mass/") {
			return false
		}
		tries[key]++
		return tries[key] <= 2
	}
	var delays []time.Duration
	step := &steps.S3Restore{Clients: be.clients.failing("SlowDown", throttled),
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			delays = append(delays, d)
			mu.Unlock()
			return nil
		}}
	got, _, err := restoreStep(t, ctx, step, map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano)), "concurrency": cty.NumberIntVal(2)})
	if err != nil {
		t.Fatal(err)
	}
	want := wantCounts(h.atT, h.now, pitrPrefix)
	if got["copied"] != want["copied"] || got["failed"] != 0 {
		t.Errorf("outputs %v, want %d copied and none failed", got, want["copied"])
	}
	if len(delays) != 8 {
		t.Fatalf("%d back-offs, want 2 for each of the 4 throttled keys", len(delays))
	}
	var first, second int
	for _, d := range delays {
		switch {
		case d >= 100*time.Millisecond && d <= 200*time.Millisecond:
			first++
		case d >= 200*time.Millisecond && d <= 400*time.Millisecond:
			second++
		default:
			t.Errorf("back-off %s outside the first two rounds' ranges", d)
		}
	}
	if first < 4 || second < 4 {
		t.Errorf("back-offs %v: want each key's second wait longer than its first", delays)
	}
	sameObjects(t, "prefix after throttled copies", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}
