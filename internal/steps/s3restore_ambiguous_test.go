package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/testutil/s3versions"
)

// writeRecord is a restore's journal record, with the versions it names.
type writeRecord struct {
	Key           string   `json:"key"`
	Action        string   `json:"action"`
	NewVersion    string   `json:"new_version"`
	ExtraVersions []string `json:"extra_versions"`
	Error         string   `json:"error"`
}

// records reads the step's per-key journal records.
func (r *recorder) records(t testing.TB) map[string]writeRecord {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]writeRecord{}
	for _, l := range r.lines {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		for _, line := range strings.Split(l, "\n") {
			var rec writeRecord
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("journal record %q: %v", line, err)
			}
			if _, dup := out[rec.Key]; dup {
				t.Errorf("two records for %s", rec.Key)
			}
			out[rec.Key] = rec
		}
	}
	return out
}

// currentBody reads the current object at bucket/key.
func currentBody(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Body.Close()
	body, err := io.ReadAll(g.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// checkNamesEveryVersion compares the versions the restore added to each
// key with those its record names: exactly the same, and none for a key
// without a record. extra is how many duplicates the test expects named.
func checkNamesEveryVersion(t *testing.T, before, after map[string][]string, recs map[string]writeRecord, extra map[string]int) {
	t.Helper()
	keys := map[string]bool{}
	for k := range after {
		keys[k] = true
	}
	for k := range recs {
		keys[k] = true
	}
	for k := range keys {
		added := s3versions.Added(before, after, k)
		rec, ok := recs[k]
		var named []string
		if ok {
			if rec.Error != "" {
				t.Errorf("%s: record says it failed: %s", k, rec.Error)
			}
			named = append([]string{rec.NewVersion}, rec.ExtraVersions...)
		}
		sort.Strings(named)
		if !slices.Equal(added, named) {
			t.Errorf("%s: the restore added versions %q, its record names %q", k, added, named)
		}
		if ok && len(rec.ExtraVersions) != extra[k] {
			t.Errorf("%s: record names %d duplicates %q, want %d", k, len(rec.ExtraVersions), rec.ExtraVersions, extra[k])
		}
	}
}

// genScenario is groups of three keys, in key order two copies and a
// delete: its writes before T, then those after.
func genScenario(b string, groups int) (before, after []op) {
	for i := range groups {
		for _, s := range []string{"a", "b"} {
			k := fmt.Sprintf("p/gen/%02d-%s", i, s)
			before = append(before, put(b, k, k+" at T"))
			after = append(after, later(put(b, k, k+" after T")))
		}
		after = append(after, later(put(b, fmt.Sprintf("p/gen/%02d-c", i), "created after T")))
	}
	return before, after
}

// droppedScenario is the edge-case scenario plus genScenario's keys, so
// that every tenth write falls on copies and deletes alike.
func droppedScenario(b string, groups int) []op {
	ops := pitrScenario(b)
	before, after := genScenario(b, groups)
	first := slices.IndexFunc(ops, func(o op) bool { return o.after })
	out := append(slices.Clip(ops[:first]), before...)
	out = append(out, ops[first:]...)
	return append(out, after...)
}

func sandboxClients(t *testing.T, be *backend) *awsx.Clients {
	t.Helper()
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: be.srv.URL(), MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return clients
}

// requestsSince counts the sandbox's requests after the first n by
// operation, and the dropped ones (status 0) apart.
func requestsSince(be *backend, n int) (sent, dropped map[string]int) {
	sent, dropped = map[string]int{}, map[string]int{}
	for _, r := range be.srv.Requests()[n:] {
		sent[r.Operation]++
		if r.Status == 0 {
			dropped[r.Operation]++
		}
	}
	return sent, dropped
}

// TestS3RestoreDroppedWritesSandbox cuts the answer to every tenth write
// after the sandbox applied it, through drconsole's own clients (whose SDK
// retries connection errors): the restore ends byte-exact, each write was
// sent once (the request log), no key has an extra version or delete
// marker, and each key's record names exactly the version the restore
// added.
func TestS3RestoreDroppedWritesSandbox(t *testing.T) {
	for _, workers := range []int{1, 16} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			ctx := t.Context()
			be := sandboxBackend(t)
			const b = "pitr-dropped"
			createBuckets(t, ctx, be.client, b)
			at, hist := play(t, ctx, be, base, droppedScenario(b, 20))
			h := hist[b]
			want := wantCounts(h.atT, h.now, pitrPrefix)
			before := s3versions.List(t, ctx, be.client, b, pitrPrefix)
			be.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "s3", Writes: true, Every: 10}})
			n := len(be.srv.Requests())
			got, rec, err := restoreStep(t, ctx, &steps.S3Restore{Clients: sandboxClients(t, be)}, map[string]cty.Value{
				"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix), "to_time": cty.StringVal(at.Format(time.RFC3339Nano)),
				"concurrency": cty.NumberIntVal(int64(workers))})
			if err != nil {
				t.Fatalf("restore with every tenth write dropped: %v", err)
			}
			sent, dropped := requestsSince(be, n)
			be.srv.SetFaults(nil)
			if got["copied"] != want["copied"] || got["deleted"] != want["deleted"] || got["failed"] != 0 {
				t.Errorf("outputs %v, want %v", got, want)
			}
			writes := int(want["copied"] + want["deleted"])
			if sent["CopyObject"] != int(want["copied"]) || sent["DeleteObject"] != int(want["deleted"]) {
				t.Errorf("sent %d copies and %d deletes for %d and %d changes: a dropped write was sent again",
					sent["CopyObject"], sent["DeleteObject"], want["copied"], want["deleted"])
			}
			if d := dropped["CopyObject"] + dropped["DeleteObject"]; d != writes/10 {
				t.Errorf("%d writes dropped of %d, want every tenth", d, writes)
			}
			if workers == 1 && (dropped["CopyObject"] == 0 || dropped["DeleteObject"] == 0) {
				t.Errorf("dropped %v: want copies and deletes among them", dropped)
			}
			checkNamesEveryVersion(t, before, s3versions.List(t, ctx, be.client, b, pitrPrefix), rec.records(t), nil)
			sameObjects(t, "prefix after a restore with dropped writes", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
		})
	}
}

// cutClients hands out clients whose writes of some keys lose their
// answer before reaching the store (the SDK's retryer sees a broken
// connection), and, for keys marked late, whose lost first send is applied
// after all, just before the step sends it again: a write S3 finished
// after the look that found nothing.
type cutClients struct {
	steps.S3ClientSource
	cut, late func(key string) bool
	mu        sync.Mutex
	attempts  map[string]int
}

type keyCtx struct{}

// withStack returns a client like cl with add applied to its stack.
func withStack(cl *s3.Client, add func(*middleware.Stack) error) *s3.Client {
	return s3.New(cl.Options(), func(o *s3.Options) {
		// A provider of its own: New would rebind cl's to this client.
		o.ExpressCredentials = nil
		o.APIOptions = append(o.APIOptions, add)
	})
}

func (c *cutClients) S3(ctx context.Context, region string) (*s3.Client, error) {
	cl, err := c.S3ClientSource.S3(ctx, region)
	if err != nil {
		return nil, err
	}
	return withStack(cl, func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("keyOf",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				key := ""
				switch p := in.Parameters.(type) {
				case *s3.CopyObjectInput:
					key = aws.ToString(p.Key)
				case *s3.DeleteObjectInput:
					key = aws.ToString(p.Key)
				case *s3.CompleteMultipartUploadInput:
					key = aws.ToString(p.Key)
				}
				return next.HandleInitialize(context.WithValue(ctx, keyCtx{}, key), in)
			}), middleware.Before); err != nil {
			return err
		}
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("cut",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				key, _ := ctx.Value(keyCtx{}).(string)
				if key == "" || !c.cut(key) {
					return next.HandleFinalize(ctx, in)
				}
				c.mu.Lock()
				c.attempts[key]++
				n := c.attempts[key]
				c.mu.Unlock()
				switch {
				case n == 1:
					return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: io.ErrUnexpectedEOF}
				case n == 2 && c.late(key):
					first := in
					first.Request = in.Request.(*smithyhttp.Request).Clone()
					if _, _, err := next.HandleFinalize(ctx, first); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
				}
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	}), nil
}

// TestS3RestoreWritesCutBeforeTheStore loses the first send of some writes
// before it reaches the store: the step looks, finds nothing, and sends
// again, once. For the keys whose lost send lands late, the look after the
// resend finds both versions, and the record names the duplicate.
func TestS3RestoreWritesCutBeforeTheStore(t *testing.T) {
	ctx := t.Context()
	be := sandboxBackend(t)
	const b = "pitr-cut"
	createBuckets(t, ctx, be.client, b)
	enableVersioning(t, ctx, be.client, b)
	before, after := genScenario(b, 3)
	at, hist := play(t, ctx, be, base, append(before, after...))
	h := hist[b]
	want := wantCounts(h.atT, h.now, pitrPrefix)
	versions := s3versions.List(t, ctx, be.client, b, pitrPrefix)
	cc := &cutClients{S3ClientSource: sandboxClients(t, be), attempts: map[string]int{},
		cut:  func(k string) bool { return !strings.HasPrefix(k, "p/gen/01-") },
		late: func(k string) bool { return strings.HasSuffix(k, "-b") || strings.HasSuffix(k, "02-c") }}
	n := len(be.srv.Requests())
	got, rec, err := restoreStep(t, ctx, &steps.S3Restore{Clients: cc}, map[string]cty.Value{
		"bucket": cty.StringVal(b), "prefix": cty.StringVal(pitrPrefix), "to_time": cty.StringVal(at.Format(time.RFC3339Nano))})
	if err != nil {
		t.Fatal(err)
	}
	if got["copied"] != want["copied"] || got["deleted"] != want["deleted"] {
		t.Errorf("outputs %v, want %v", got, want)
	}
	sent, _ := requestsSince(be, n)
	// Keys 00-* and 02-* lost their first send; 00-b, 02-b and 02-c landed
	// twice.
	if sent["CopyObject"] != 6+2 || sent["DeleteObject"] != 3+1 {
		t.Errorf("sent %v, want 8 copies and 4 deletes (3 late landings)", sent)
	}
	extra := map[string]int{"p/gen/00-b": 1, "p/gen/02-b": 1, "p/gen/02-c": 1}
	checkNamesEveryVersion(t, versions, s3versions.List(t, ctx, be.client, b, pitrPrefix), rec.records(t), extra)
	sameObjects(t, "prefix after cut writes", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}

// TestS3RestoreDroppedCompleteSandbox drops the answer to a multipart
// copy's CompleteMultipartUpload after the sandbox completed it: the step
// finds the version the upload made instead of completing it again (which
// answers NoSuchUpload) or aborting it, and names it.
func TestS3RestoreDroppedCompleteSandbox(t *testing.T) {
	ctx := t.Context()
	be := sandboxBackend(t)
	const b, key = "pitr-big-dropped", "models/big/model.safetensors"
	createBuckets(t, ctx, be.client, b)
	enableVersioning(t, ctx, be.client, b)
	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+7)
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(big)}); err != nil {
		t.Fatal(err)
	}
	at := lastModified(t, ctx, be.client, op{bucket: b, key: key})
	be.setTime(at.Add(time.Hour))
	if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("broken")}); err != nil {
		t.Fatal(err)
	}
	before := s3versions.List(t, ctx, be.client, b, "models/")
	be.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "s3", Operation: "CompleteMultipartUpload"}})
	n := len(be.srv.Requests())
	step := &steps.S3Restore{Clients: sandboxClients(t, be), MultipartThreshold: 5 << 20, PartSize: 5 << 20}
	got, rec, err := restoreStep(t, ctx, step, map[string]cty.Value{"bucket": cty.StringVal(b), "prefix": cty.StringVal("models/"),
		"to_time": cty.StringVal(at.Format(time.RFC3339Nano))})
	if err != nil {
		t.Fatalf("restore with the Complete's answer dropped: %v", err)
	}
	sent, dropped := requestsSince(be, n)
	be.srv.SetFaults(nil)
	if got["copied"] != 1 {
		t.Errorf("outputs %v", got)
	}
	if sent["CompleteMultipartUpload"] != 1 || dropped["CompleteMultipartUpload"] != 1 || sent["AbortMultipartUpload"] != 0 {
		t.Errorf("requests %v: want one Complete, dropped, and no abort", sent)
	}
	checkNamesEveryVersion(t, before, s3versions.List(t, ctx, be.client, b, "models/"), rec.records(t), nil)
	if body := currentBody(t, ctx, be.client, b, key); !bytes.Equal(body, big) {
		t.Errorf("restored object differs: %d bytes, want %d", len(body), len(big))
	}
	uploads, err := be.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind", len(uploads.Uploads))
	}
}

// TestModelRollbackDroppedCopySandbox drops the answer to the rollback's
// CopyObject after the sandbox applied it: one new version, the one the
// outputs and the journal record name.
func TestModelRollbackDroppedCopySandbox(t *testing.T) {
	ctx := t.Context()
	be := sandboxBackend(t)
	const b, key = "rollback-dropped", "models/llama/model.bin"
	createBuckets(t, ctx, be.client, b)
	enableVersioning(t, ctx, be.client, b)
	var good string
	for i, body := range []string{"good", "bad"} {
		out, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			good = aws.ToString(out.VersionId)
		}
	}
	before := s3versions.List(t, ctx, be.client, b, key)
	be.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultDrop, Service: "s3", Operation: "CopyObject"}})
	n := len(be.srv.Requests())
	step := steps.NewModelRollback(sandboxClients(t, be))
	var rec recorder
	out, err := step.Apply(ctx, rec.context(false), stepConfig(step.Spec(), map[string]cty.Value{
		"bucket": cty.StringVal(b), "key": cty.StringVal(key), "version_id": cty.StringVal(good)}))
	if err != nil {
		t.Fatalf("rollback with the copy's answer dropped: %v", err)
	}
	sent, _ := requestsSince(be, n)
	be.srv.SetFaults(nil)
	if sent["CopyObject"] != 1 {
		t.Errorf("%d copies sent, want 1", sent["CopyObject"])
	}
	after := s3versions.List(t, ctx, be.client, b, key)
	recs := rec.records(t)
	checkNamesEveryVersion(t, before, after, recs, nil)
	if nv := out.GetAttr("new_version_id").AsString(); nv != recs[key].NewVersion {
		t.Errorf("new_version_id %q, the record names %q", nv, recs[key].NewVersion)
	}
	if body := currentBody(t, ctx, be.client, b, key); string(body) != "good" {
		t.Errorf("current body %q after the rollback, want %q", body, "good")
	}
}
