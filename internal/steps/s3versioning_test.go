package steps_test

import (
	"context"
	"errors"
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

// bucketEntries counts a bucket's versions and delete markers.
func bucketEntries(t *testing.T, ctx context.Context, c *s3.Client, bucket string) int {
	t.Helper()
	n := 0
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list versions of %s: %v", bucket, err)
		}
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	return n
}

// refused checks that err is the refusal of bucket in the given state.
func refused(t *testing.T, what string, err error, bucket, status string) {
	t.Helper()
	var ue *steps.UnversionedBucketError
	if !errors.As(err, &ue) {
		t.Fatalf("%s: %v, want a refusal of the unversioned bucket", what, err)
	}
	if ue.Bucket != bucket || ue.Status != status {
		t.Errorf("%s: refused bucket %q in state %q, want %q in state %q", what, ue.Bucket, ue.Status, bucket, status)
	}
	if !strings.Contains(err.Error(), "bucket "+bucket+" ") || !strings.Contains(err.Error(), "allow_unversioned = true") {
		t.Errorf("%s: %q does not name the bucket and the way out", what, err)
	}
}

// unchanged runs f and checks that it sent no write and that bucket holds
// the same versions and objects afterwards.
func unchanged(t *testing.T, ctx context.Context, be *backend, bucket string, f func()) {
	t.Helper()
	entries, objects, writes := bucketEntries(t, ctx, be.client, bucket), currentObjects(t, ctx, be.client, bucket, ""), be.writes()
	f()
	if w := be.writes() - writes; w != 0 {
		t.Errorf("%d writes", w)
	}
	if n := bucketEntries(t, ctx, be.client, bucket); n != entries {
		t.Errorf("%s holds %d versions and delete markers, had %d", bucket, n, entries)
	}
	sameObjects(t, bucket, currentObjects(t, ctx, be.client, bucket, ""), objects)
}

// planDetails joins a plan's change lines.
func planDetails(changes []runbook.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// testRestoreUnversioned restores into a bucket whose versioning was never
// enabled and in place in a suspended one: refused, with nothing written,
// unless allow_unversioned is set, when the plan says what cannot be
// undone.
func testRestoreUnversioned(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const src, unv, susp = "vers-src", "vers-unversioned", "vers-suspended"
	createBuckets(t, ctx, be.client, src, unv, susp)
	enableVersioning(t, ctx, be.client, src)
	at, _ := play(t, ctx, be, base, []op{
		put(src, "r/model.bin", "weights at T"),
		versioning(susp, types.BucketVersioningStatusEnabled),
		put(susp, "r/model.bin", "weights at T"),
		later(put(unv, "r/model.bin", "other weights")),
		later(put(unv, "r/extra.bin", "not in the source at T")),
		later(versioning(susp, types.BucketVersioningStatusSuspended)),
		later(put(susp, "r/model.bin", "null version over T's")),
		later(put(susp, "r/extra.bin", "written while suspended")),
	})
	when := cty.StringVal(at.Format(time.RFC3339Nano))
	elsewhere := map[string]cty.Value{"bucket": cty.StringVal(src), "prefix": cty.StringVal("r/"), "to_time": when,
		"target_bucket": cty.StringVal(unv)}
	inPlace := map[string]cty.Value{"bucket": cty.StringVal(susp), "prefix": cty.StringVal("r/"), "to_time": when}

	step := &steps.S3Restore{Clients: be.clients}
	dry := &steps.S3Restore{Clients: be.clients.asReadOnly()}
	for _, c := range []struct {
		name, bucket, status string
		set                  map[string]cty.Value
	}{
		{"into a bucket never versioned", unv, "", elsewhere},
		{"in place in a suspended bucket", susp, "Suspended", inPlace},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := stepConfig(step.Spec(), c.set)
			unchanged(t, ctx, be, c.bucket, func() {
				_, err := dry.Plan(ctx, (&recorder{}).context(true), cfg)
				refused(t, "plan", err, c.bucket, c.status)
				_, err = step.Apply(ctx, (&recorder{}).context(false), cfg)
				refused(t, "apply", err, c.bucket, c.status)
			})

			allowed := map[string]cty.Value{"allow_unversioned": cty.True}
			for k, v := range c.set {
				allowed[k] = v
			}
			cfg = stepConfig(step.Spec(), allowed)
			var changes []runbook.Change
			unchanged(t, ctx, be, c.bucket, func() {
				var err error
				if changes, err = dry.Plan(ctx, (&recorder{}).context(true), cfg); err != nil {
					t.Fatal(err)
				}
			})
			plan := planDetails(changes)
			t.Logf("%s plan:\n%s", be.name, plan)
			for _, want := range []string{
				"allowed by allow_unversioned",
				"CopyObject " + c.bucket + "/r/model.bin <- ",
				"overwrites without history version",
				"DeleteObject " + c.bucket + "/r/extra.bin permanently deletes version",
			} {
				if !strings.Contains(plan, want) {
					t.Errorf("plan lacks %q:\n%s", want, plan)
				}
			}
			if strings.Contains(plan, "delete marker") {
				t.Errorf("plan promises a delete marker:\n%s", plan)
			}
			if _, err := step.Apply(ctx, (&recorder{}).context(false), cfg); err != nil {
				t.Fatal(err)
			}
			sameObjects(t, c.bucket+" after the restore", currentObjects(t, ctx, be.client, c.bucket, "r/"),
				map[string][]byte{"r/model.bin": []byte("weights at T")})
		})
	}
}

// testRollbackUnversioned rolls back a key in a bucket never versioned and
// in a suspended one.
func testRollbackUnversioned(t *testing.T, newBackend func(testing.TB) *backend) {
	ctx := t.Context()
	be := newBackend(t)
	const unv, susp, key = "rb-unversioned", "rb-suspended", "models/m.bin"
	createBuckets(t, ctx, be.client, unv, susp)
	at, _ := play(t, ctx, be, base, []op{
		put(unv, key, "only version"),
		versioning(susp, types.BucketVersioningStatusEnabled),
		put(susp, key, "good weights"),
		later(versioning(susp, types.BucketVersioningStatusSuspended)),
		later(put(susp, key, "bad weights, null version")),
	})
	step := &steps.ModelRollback{Clients: be.clients}
	dry := &steps.ModelRollback{Clients: be.clients.asReadOnly()}
	set := func(bucket string, allow bool) cty.Value {
		return stepConfig(step.Spec(), map[string]cty.Value{"bucket": cty.StringVal(bucket), "key": cty.StringVal(key),
			"to_time": cty.StringVal(at.Format(time.RFC3339Nano)), "allow_unversioned": cty.BoolVal(allow)})
	}
	for _, c := range []struct{ bucket, status string }{{unv, ""}, {susp, "Suspended"}} {
		unchanged(t, ctx, be, c.bucket, func() {
			_, err := dry.Plan(ctx, (&recorder{}).context(true), set(c.bucket, false))
			refused(t, c.bucket+" plan", err, c.bucket, c.status)
			_, err = step.Apply(ctx, (&recorder{}).context(false), set(c.bucket, false))
			refused(t, c.bucket+" apply", err, c.bucket, c.status)
		})
	}

	// Allowed: the never-versioned key is already what it was at T; the
	// suspended one is overwritten without history.
	changes, err := dry.Plan(ctx, (&recorder{}).context(true), set(unv, true))
	if err != nil || len(changes) != 1 || changes[0].Action != "none" {
		t.Errorf("plan in %s: %v %v, want nothing to do", unv, changes, err)
	}
	changes, err = dry.Plan(ctx, (&recorder{}).context(true), set(susp, true))
	if err != nil {
		t.Fatal(err)
	}
	plan := planDetails(changes)
	for _, want := range []string{"CopyObject " + susp + "/" + key, "overwrites without history version", "versioning suspended, allowed by allow_unversioned"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if _, err := step.Apply(ctx, (&recorder{}).context(false), set(susp, true)); err != nil {
		t.Fatal(err)
	}
	sameObjects(t, susp+" after the rollback", currentObjects(t, ctx, be.client, susp, ""), map[string][]byte{key: []byte("good weights")})
}

func TestS3RestoreUnversionedSandbox(t *testing.T)     { testRestoreUnversioned(t, sandboxBackend) }
func TestS3RestoreUnversionedMinIO(t *testing.T)       { testRestoreUnversioned(t, minioBackend) }
func TestModelRollbackUnversionedSandbox(t *testing.T) { testRollbackUnversioned(t, sandboxBackend) }
func TestModelRollbackUnversionedMinIO(t *testing.T)   { testRollbackUnversioned(t, minioBackend) }

// allow_unversioned does not take a step out from behind its gate: a
// restore that sets it and turns confirm off with no gate upstream is
// refused when the runbook is decoded.
func TestAllowUnversionedStaysGated(t *testing.T) {
	reg := steps.Registry(steps.Deps{})
	for _, typ := range []string{"s3_restore", "model_rollback"} {
		body := `bucket = "b"
  key = "k"
  version_id = "v"`
		if typ == "s3_restore" {
			body = `bucket = "b"
  to_time = "2026-01-01T00:00:00Z"`
		}
		src := `step "` + typ + `" "x" {
  ` + body + `
  allow_unversioned = true
  confirm = false
}
`
		_, diags := runbook.Parse(map[string][]byte{"rb.hcl": []byte(src)}, reg)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "without a gate") {
			t.Errorf("%s with allow_unversioned and confirm = false: %v, want a refusal", typ, diags)
		}
		if st := reg[typ]; !st.Destructive() {
			t.Errorf("%s is not destructive", typ)
		}
	}
}
