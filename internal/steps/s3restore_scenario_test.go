package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// backend is an S3 store the point-in-time tests run against.
type backend struct {
	name string
	// client is the test's own client, for writing history and reading the
	// result.
	client *s3.Client
	// clients is what the step under test gets.
	clients *countingClients
	// setTime sets the store's clock before a write; nil for a store whose
	// clock is real (MinIO), where the test waits for time to pass instead.
	setTime func(time.Time)
	// writes counts the mutating S3 requests the store has seen.
	writes func() int64
	// srv is the sandbox, when the store is one.
	srv *sandbox.Server
	// cfg reaches the store.
	cfg aws.Config
}

// countingClients hands out S3 clients for one endpoint and counts the
// mutating operations they send (every attempt, retries included).
type countingClients struct {
	cfg      aws.Config
	readOnly bool
	// failCopy, when set, fails the copies (and part copies) it returns
	// true for before they are sent, with the error code failCode, as a
	// store refusing them would.
	failCopy func(key string) bool
	failCode string
	mutating *atomic.Int64
	mu       sync.Mutex
	cache    map[string]*s3.Client
}

func newCountingClients(cfg aws.Config) *countingClients {
	return &countingClients{cfg: cfg, mutating: new(atomic.Int64), cache: map[string]*s3.Client{}}
}

// readOnly returns clients for the same store that carry the read-only
// guard, as a dry-run's do.
func (c *countingClients) asReadOnly() *countingClients {
	return &countingClients{cfg: c.cfg, readOnly: true, mutating: c.mutating, cache: map[string]*s3.Client{}}
}

// failing returns clients whose copies of the keys fail says fail are
// answered with the error code.
func (c *countingClients) failing(code string, fail func(key string) bool) *countingClients {
	return &countingClients{cfg: c.cfg, failCopy: fail, failCode: code, mutating: c.mutating, cache: map[string]*s3.Client{}}
}

func (c *countingClients) S3(_ context.Context, region string) (*s3.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.cache[region]; ok {
		return cl, nil
	}
	cl := s3.NewFromConfig(c.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		if region != "" {
			o.Region = region
		}
		if c.readOnly {
			o.APIOptions = append(o.APIOptions, awsx.ReadOnlyAPIOption)
		}
		if c.failCopy != nil {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				return st.Initialize.Add(middleware.InitializeMiddlewareFunc("failCopy",
					func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
						key := ""
						switch ci := in.Parameters.(type) {
						case *s3.CopyObjectInput:
							key = aws.ToString(ci.Key)
						case *s3.UploadPartCopyInput:
							key = aws.ToString(ci.Key)
						}
						if key != "" && c.failCopy(key) {
							return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: c.failCode, Message: "copy refused by the test"}
						}
						return next.HandleInitialize(ctx, in)
					}), middleware.Before)
			})
		}
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("countWrites",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if !readOperation(middleware.GetOperationName(ctx)) {
						c.mutating.Add(1)
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	})
	c.cache[region] = cl
	return cl, nil
}

func readOperation(op string) bool {
	for _, p := range []string{"Get", "Head", "List"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// stepConfig builds a step body as the engine decodes it: every attribute
// of the spec present, null unless set.
func stepConfig(spec hcldec.ObjectSpec, set map[string]cty.Value) cty.Value {
	ty := hcldec.ImpliedType(spec)
	attrs := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		if v, ok := set[name]; ok {
			attrs[name] = v
		} else {
			attrs[name] = cty.NullVal(at)
		}
	}
	for name := range set {
		if !ty.HasAttribute(name) {
			panic("stepConfig: no attribute " + name)
		}
	}
	return cty.ObjectVal(attrs)
}

// recorder is a StepContext that keeps the step's log lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) context(dry bool) *runbook.StepContext {
	return &runbook.StepContext{
		RunID: "run-test", Address: "step.s3_restore.test", Attempt: 1, DryRun: dry, Target: "sandbox",
		Log: func(l string) {
			r.mu.Lock()
			r.lines = append(r.lines, l)
			r.mu.Unlock()
		},
		Progress: func(done, total int64, unit string) {},
		Now:      time.Now,
	}
}

// journal returns the step's per-key records: JSON objects, one per line
// of each log line.
func (r *recorder) journal(t testing.TB) []map[string]string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, l := range r.lines {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		for _, rec := range strings.Split(l, "\n") {
			var m map[string]string
			if err := json.Unmarshal([]byte(rec), &m); err != nil {
				t.Fatalf("journal record %q: %v", rec, err)
			}
			out = append(out, m)
		}
	}
	return out
}

// history is the test's own record of what it wrote, from which it
// computes each key's state at T without asking the store.
type history struct {
	// state at T and now: body, or nil for deleted/absent.
	atT, now map[string][]byte
}

// op is one write in a scenario.
type op struct {
	bucket, key string
	body        []byte // nil: delete (add a delete marker)
	versioning  types.BucketVersioningStatus
	// after: the write happens after T.
	after bool
	// sameSecond: the write happens in the same second as the one before.
	sameSecond bool
}

// put, del and versioning build ops.
func put(bucket, key, body string) op { return op{bucket: bucket, key: key, body: []byte(body)} }
func del(bucket, key string) op       { return op{bucket: bucket, key: key} }
func versioning(bucket string, s types.BucketVersioningStatus) op {
	return op{bucket: bucket, versioning: s}
}
func later(o op) op   { o.after = true; return o }
func sameSec(o op) op { o.sameSecond = true; return o }

// play writes a scenario and returns T and the test's record. On a store
// with a settable clock, writes before T happen a minute apart and T is
// the time of the last of them; after-T writes start an hour later. On a
// real clock, T is the last before-T write's LastModified as the store
// reports it, and the test lets the store's clock move past it before the
// after-T writes.
func play(t *testing.T, ctx context.Context, be *backend, base time.Time, ops []op) (time.Time, map[string]*history) {
	t.Helper()
	hist := map[string]*history{}
	rec := func(bucket string) *history {
		h := hist[bucket]
		if h == nil {
			h = &history{atT: map[string][]byte{}, now: map[string][]byte{}}
			hist[bucket] = h
		}
		return h
	}
	clock := base
	var at time.Time
	lastBefore := -1
	for i, o := range ops {
		if !o.after {
			lastBefore = i
		}
	}
	for i, o := range ops {
		if be.setTime != nil {
			switch {
			case o.after && (i == 0 || !ops[i-1].after):
				clock = clock.Add(time.Hour)
			case !o.sameSecond:
				clock = clock.Add(time.Minute)
			}
			be.setTime(clock)
		} else if o.after && i > 0 && !ops[i-1].after {
			// The store's LastModified has millisecond precision: let its
			// clock move clearly past T before the first write after T.
			time.Sleep(time.Until(at.Add(5 * time.Millisecond)))
		}
		h := rec(o.bucket)
		switch {
		case o.versioning != "":
			if _, err := be.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(o.bucket),
				VersioningConfiguration: &types.VersioningConfiguration{Status: o.versioning}}); err != nil {
				t.Fatalf("op %d: versioning %s: %v", i, o.versioning, err)
			}
		case o.body != nil:
			if _, err := be.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key),
				Body: bytes.NewReader(o.body), ContentType: aws.String("application/octet-stream"),
				Metadata: map[string]string{"op": fmt.Sprint(i)}}); err != nil {
				t.Fatalf("op %d: put %s: %v", i, o.key, err)
			}
			h.now[o.key] = o.body
			if !o.after {
				h.atT[o.key] = o.body
			}
		default:
			if _, err := be.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)}); err != nil {
				t.Fatalf("op %d: delete %s: %v", i, o.key, err)
			}
			h.now[o.key] = nil
			if !o.after {
				h.atT[o.key] = nil
			}
		}
		if i == lastBefore {
			if be.setTime != nil {
				at = clock
			} else {
				at = lastModified(t, ctx, be.client, o)
			}
		}
	}
	return at, hist
}

// lastModified is the LastModified the store gives the newest entry of
// o's key.
func lastModified(t *testing.T, ctx context.Context, c *s3.Client, o op) time.Time {
	t.Helper()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(o.bucket), Prefix: aws.String(o.key)})
	if err != nil {
		t.Fatal(err)
	}
	var newest time.Time
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == o.key && aws.ToBool(v.IsLatest) {
			newest = aws.ToTime(v.LastModified)
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == o.key && aws.ToBool(m.IsLatest) {
			newest = aws.ToTime(m.LastModified)
		}
	}
	if newest.IsZero() {
		t.Fatalf("no latest entry for %s", o.key)
	}
	return newest
}

// currentObjects reads every current object under prefix, key by key.
func currentObjects(t *testing.T, ctx context.Context, c *s3.Client, bucket, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil {
				t.Fatalf("get %s: %v", k, err)
			}
			b, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil {
				t.Fatalf("read %s: %v", k, err)
			}
			out[k] = b
		}
	}
	return out
}

// expected turns the record's state at T under prefix into the objects
// that must be current, moved to targetPrefix.
func expected(states map[string][]byte, prefix, targetPrefix string) map[string][]byte {
	out := map[string][]byte{}
	for k, b := range states {
		if b != nil && strings.HasPrefix(k, prefix) {
			out[targetPrefix+k[len(prefix):]] = b
		}
	}
	return out
}

// sameObjects compares two key -> content maps byte for byte.
func sameObjects(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("%s: %q missing, want %d bytes %q", what, k, len(w), short(w))
		case !wok:
			t.Errorf("%s: %q present (%q), should not exist", what, k, short(g))
		case !bytes.Equal(g, w):
			t.Errorf("%s: %q holds %q, want %q", what, k, short(g), short(w))
		}
	}
}

func short(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// outputsOf reads an s3_restore step's outputs.
func outputsOf(t testing.TB, v cty.Value) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for k, n := range v.AsValueMap() {
		i, _ := n.AsBigFloat().Int64()
		out[k] = i
	}
	return out
}
