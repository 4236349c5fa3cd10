package steps_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
)

const pitrPrefix = "p/"

// longKey is as long as S3 allows a key to be: 1,024 bytes (in segments
// of at most 255, which MinIO, storing keys as paths, also needs).
var longKey = "p/" + strings.Repeat(strings.Repeat("k", 254)+"/", 4) + "zz"

// pitrScenario is a history that holds every point-in-time edge case, in
// bucket b under pitrPrefix, plus a key outside the prefix.
func pitrScenario(b string) []op {
	massDelete := func() []op {
		var ops []op
		for round := 0; round < 2; round++ {
			for i := range 4 {
				ops = append(ops, later(del(b, fmt.Sprintf("p/mass/%d", i))))
			}
		}
		return ops
	}
	ops := []op{
		// Written before versioning was enabled: its version id is "null".
		put(b, "p/null-then-versioned", "null version"),
		versioning(b, types.BucketVersioningStatusEnabled),
		put(b, "p/unchanged", "unchanged since before T"),
		put(b, "p/overwritten", "o1"),
		put(b, "p/overwritten", "o2 at T"),
		put(b, "p/deleted-after", "d1"),
		put(b, "p/deleted-before-recreated-after", "r1"),
		del(b, "p/deleted-before-recreated-after"),
		put(b, "p/dm-current", "m1"),
		del(b, "p/dm-current"),
		put(b, "p/v-dm-v2-dm", "V"),
		put(b, "p/zero", ""),
		put(b, "p/with space", "space 1"),
		put(b, "p/plus+sign", "plus 1"),
		put(b, "p/percent%25and%2F", "percent 1"),
		put(b, "p/ünïcödé/模型.bin", "unicode 1"),
		put(b, "p/trailing/", "folder marker"),
		put(b, longKey, "long 1"),
		// A version then a delete marker in the same second: deleted at T.
		put(b, "p/same-second-dm-last", "a1"),
		put(b, "p/same-second-dm-last", "a2"),
		sameSec(del(b, "p/same-second-dm-last")),
		// A delete marker then a version in the same second: b2 at T.
		put(b, "p/same-second-v-last", "b1"),
		del(b, "p/same-second-v-last"),
		sameSec(put(b, "p/same-second-v-last", "b2")),
		// Written while versioning was suspended: a "null" version again.
		versioning(b, types.BucketVersioningStatusSuspended),
		put(b, "p/suspended", "null while suspended"),
		versioning(b, types.BucketVersioningStatusEnabled),
		put(b, "p/many-versions", "k1"),
		put(b, "p/many-versions", "k2"),
		put(b, "p/many-versions", "k3"),
		put(b, "p/mass/0", "x0"),
		put(b, "p/mass/1", "x1"),
		put(b, "p/mass/2", "x2"),
		put(b, "p/mass/3", "x3"),
		put(b, "other/outside", "outside 1"),
		// The last write before T: T equals its LastModified.
		put(b, "p/exact-T", "e1"),

		later(put(b, "p/created-after", "c1")),
		later(put(b, "p/deleted-before-recreated-after", "r2")),
		later(put(b, "p/overwritten", "o3")),
		later(del(b, "p/deleted-after")),
		later(del(b, "p/v-dm-v2-dm")),
		later(put(b, "p/v-dm-v2-dm", "V2")),
		later(del(b, "p/v-dm-v2-dm")),
		later(put(b, "p/zero", "no longer empty")),
		later(put(b, "p/with space", "space 2")),
		later(put(b, "p/plus+sign", "plus 2")),
		later(put(b, "p/percent%25and%2F", "percent 2")),
		later(put(b, "p/ünïcödé/模型.bin", "unicode 2")),
		later(put(b, longKey, "long 2")),
		later(put(b, "p/same-second-dm-last", "a3")),
		later(put(b, "p/same-second-v-last", "b3")),
		later(put(b, "p/suspended", "versioned after T")),
		later(put(b, "p/null-then-versioned", "versioned after T")),
		later(put(b, "p/many-versions", "k4")),
		later(put(b, "p/many-versions", "k5")),
		later(put(b, "p/many-versions", "k3")), // same bytes as at T: unchanged
		later(put(b, "p/exact-T", "e2")),
		later(put(b, "other/outside", "outside 2")),
	}
	return append(ops, massDelete()...)
}

// wantCounts derives copied/deleted/unchanged from the test's record.
func wantCounts(atT, now map[string][]byte, prefix string) map[string]int64 {
	keys := map[string]bool{}
	for k := range atT {
		keys[k] = true
	}
	for k := range now {
		keys[k] = true
	}
	c := map[string]int64{"copied": 0, "deleted": 0, "unchanged": 0, "skipped": 0, "failed": 0}
	for k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		t, n := atT[k], now[k]
		switch {
		case t == nil && n == nil:
			c["unchanged"]++
		case t == nil:
			c["deleted"]++
		case n != nil && bytes.Equal(t, n):
			c["unchanged"]++
		default:
			c["copied"]++
		}
	}
	return c
}

func createBuckets(t *testing.T, ctx context.Context, c *s3.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(n)}); err != nil {
			t.Fatalf("create bucket %s: %v", n, err)
		}
	}
}

func enableVersioning(t *testing.T, ctx context.Context, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
}

func versionCount(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) int {
	t.Helper()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			n++
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			n++
		}
	}
	return n
}

// listing is how a test lists: versions per page, and keys per range
// listed concurrently (0: the default, one range for these tests).
type listing struct{ pageSize, keysPerRange int }

// testPointInTime runs the edge-case scenario through the real step on a
// store: dry-run first (no write, the plan lists exactly the expected
// changes), then the restore (the prefix equals the state at T byte for
// byte, one journal line per changed key), then a second run (no write).
func testPointInTime(t *testing.T, newBackend func(testing.TB) *backend, cases []listing) {
	for _, c := range cases {
		pageSize := c.pageSize
		t.Run(fmt.Sprintf("page_size=%d,keys_per_range=%d", pageSize, c.keysPerRange), func(t *testing.T) {
			ctx := t.Context()
			be := newBackend(t)
			bucket := fmt.Sprintf("pitr-%d-%d", pageSize, c.keysPerRange)
			createBuckets(t, ctx, be.client, bucket)
			at, hist := play(t, ctx, be, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), pitrScenario(bucket))
			h := hist[bucket]
			want := wantCounts(h.atT, h.now, pitrPrefix)

			step := &steps.S3Restore{Clients: be.clients, KeysPerRange: c.keysPerRange, ListWorkers: 3}
			cfg := stepConfig(step.Spec(), map[string]cty.Value{
				"bucket": cty.StringVal(bucket), "prefix": cty.StringVal(pitrPrefix),
				"to_time":   cty.StringVal(at.Format(time.RFC3339Nano)),
				"page_size": cty.NumberIntVal(int64(pageSize)), "plan_sample": cty.NumberIntVal(1000),
				"concurrency": cty.NumberIntVal(4),
			})

			// Dry-run: reads only, and the plan names every change.
			before := be.writes()
			var rec recorder
			dry := &steps.S3Restore{Clients: be.clients.asReadOnly(), KeysPerRange: c.keysPerRange, ListWorkers: 3}
			changes, err := dry.Plan(ctx, rec.context(true), cfg)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if n := be.writes() - before; n != 0 {
				t.Fatalf("plan made %d mutating requests", n)
			}
			checkPlan(t, changes, bucket, h, want)

			// Restore.
			before = be.writes()
			out, err := step.Apply(ctx, rec.context(false), cfg)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			got := outputsOf(t, out)
			t.Logf("%s: restore to %s: outputs %v", be.name, at.Format(time.RFC3339Nano), got)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("output %s = %d, want %d (outputs %v)", k, got[k], v, got)
				}
			}
			writes := be.writes() - before
			if changed := want["copied"] + want["deleted"]; writes != changed {
				t.Errorf("restore made %d writes for %d changed keys, want exactly one each", writes, changed)
			}
			sameObjects(t, "prefix after restore", currentObjects(t, ctx, be.client, bucket, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
			sameObjects(t, "outside the prefix", currentObjects(t, ctx, be.client, bucket, "other/"), expected(h.now, "other/", "other/"))
			if n := versionCount(t, ctx, be.client, bucket, "p/unchanged"); n != 1 {
				t.Errorf("p/unchanged has %d versions, want 1: the restore wrote to a key already in its state at T", n)
			}
			checkJournal(t, rec.journal(t), h, pitrPrefix)

			// A second run finds everything in its state at T.
			before = be.writes()
			out, err = step.Apply(ctx, (&recorder{}).context(false), cfg)
			if err != nil {
				t.Fatalf("second apply: %v", err)
			}
			if n := be.writes() - before; n != 0 {
				t.Errorf("second run made %d writes, want none", n)
			}
			if got := outputsOf(t, out); got["copied"]+got["deleted"] != 0 {
				t.Errorf("second run outputs %v, want nothing copied or deleted", got)
			}
		})
	}
}

// checkPlan asserts the plan lists exactly the keys whose state differs.
func checkPlan(t *testing.T, changes []runbook.Change, bucket string, h *history, want map[string]int64) {
	t.Helper()
	if len(changes) == 0 || changes[0].Action != "s3_restore" {
		t.Fatalf("plan has no summary: %v", changes)
	}
	sum := changes[0].Detail
	for _, s := range []string{
		fmt.Sprintf("%d to copy", want["copied"]), fmt.Sprintf("%d to delete", want["deleted"]),
		fmt.Sprintf("%d unchanged", want["unchanged"]), fmt.Sprintf("%d write requests", want["copied"]+want["deleted"]),
	} {
		if !strings.Contains(sum, s) {
			t.Errorf("plan summary %q does not say %q", sum, s)
		}
	}
	var got, exp []string
	for _, c := range changes[1:] {
		got = append(got, c.Action+" "+c.Target)
	}
	for k, b := range h.atT {
		if !strings.HasPrefix(k, pitrPrefix) {
			continue
		}
		if n := h.now[k]; b != nil && (n == nil || !bytes.Equal(b, n)) {
			exp = append(exp, "CopyObject "+bucket+"/"+k)
		}
	}
	for k, n := range h.now {
		if strings.HasPrefix(k, pitrPrefix) && n != nil && h.atT[k] == nil {
			exp = append(exp, "DeleteObject "+bucket+"/"+k)
		}
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("planned changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
}

// checkJournal asserts one record per changed key, each naming the
// version it replaced.
func checkJournal(t *testing.T, recs []map[string]string, h *history, prefix string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		k := r["key"]
		if seen[k] {
			t.Errorf("journal has %s twice", k)
		}
		seen[k] = true
		if r["error"] != "" {
			t.Errorf("journal: %s failed: %s", k, r["error"])
		}
		if r["new_version"] == "" {
			t.Errorf("journal: %s has no new version: %v", k, r)
		}
		if r["previous_state"] != "absent" && r["previous_version"] == "" {
			t.Errorf("journal: %s has no previous version: %v", k, r)
		}
		switch r["action"] {
		case "copy":
			if r["source_version"] == "" {
				t.Errorf("journal: copy of %s names no source version", k)
			}
		case "delete":
		default:
			t.Errorf("journal: %s: action %q", k, r["action"])
		}
	}
	want := wantCounts(h.atT, h.now, prefix)
	if int64(len(seen)) != want["copied"]+want["deleted"] {
		t.Errorf("journal has %d keys, want %d", len(seen), want["copied"]+want["deleted"])
	}
}

func TestS3RestorePointInTimeMinIO(t *testing.T) {
	testPointInTime(t, minioBackend, []listing{{1000, 0}, {2, 3}})
}

func TestS3RestorePointInTimeSandbox(t *testing.T) {
	testPointInTime(t, sandboxBackend, []listing{{1000, 0}, {2, 0}, {1, 0}, {2, 3}})
}
