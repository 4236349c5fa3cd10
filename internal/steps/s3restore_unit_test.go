package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

func TestCopySource(t *testing.T) {
	cases := []struct {
		v    objectVersion
		want string
	}{
		{objectVersion{"b", "models/a.bin", "3HL4kq"}, "b/models/a.bin?versionId=3HL4kq"},
		{objectVersion{"b", "with space", ""}, "b/with%20space"},
		{objectVersion{"b", "a+b", "null"}, "b/a%2Bb?versionId=null"},
		{objectVersion{"b", "100%/x", "v+1="}, "b/100%25/x?versionId=v%2B1%3D"},
		{objectVersion{"b", "ünï/模型", "v"}, "b/%C3%BCn%C3%AF/%E6%A8%A1%E5%9E%8B?versionId=v"},
		{objectVersion{"b", "dir/", "v"}, "b/dir/?versionId=v"},
		{objectVersion{"b", "q?x=1&y#z", "v"}, "b/q%3Fx%3D1%26y%23z?versionId=v"},
	}
	for _, c := range cases {
		if got := copySource(c.v); got != c.want {
			t.Errorf("copySource(%+v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// FuzzEscapeKey checks that any key survives the copy-source encoding
// whether the store decodes it as a path or as a query string, and that
// the encoding holds no character either decoding treats specially.
func FuzzEscapeKey(f *testing.F) {
	for _, s := range []string{"models/a.bin", "a b", "a+b", "100%", "ünï/模型", "?&=#", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		e := escapeKey(key)
		if strings.ContainsAny(e, " +?&=#") {
			t.Fatalf("escapeKey(%q) = %q keeps a special character", key, e)
		}
		if p, err := url.PathUnescape(e); err != nil || p != key {
			t.Fatalf("path-decoding %q = %q, %v; want %q", e, p, err, key)
		}
		if q, err := url.QueryUnescape(e); err != nil || q != key {
			t.Fatalf("query-decoding %q = %q, %v; want %q", e, q, err, key)
		}
	})
}

func TestPartPlan(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	cases := []struct {
		size, part int64
		n          int
		each       int64
	}{
		{11 * mib, 5 * mib, 3, 5 * mib},
		{10 * mib, 5 * mib, 2, 5 * mib},
		{6 * gib, 512 * mib, 12, 512 * mib},
		{6 * gib, 1 * mib, 1229, 5 * mib},                       // below S3's minimum part size
		{5 << 40, 5 * mib, 8192, 640 * mib},                     // 5 TiB: parts grow to fit 10,000
		{60 * (1 << 40), 512 * mib, 12288, 5 * gib},             // beyond S3's limits: capped part size
		{5*gib + 1, 5 * gib, 2, 5 * gib},                        // just above the single-copy limit
		{5 * mib, 5 * mib, 1, 5 * mib},                          // one part
		{maxParts * 5 * mib, 5 * mib, maxParts, 5 * mib},        // exactly 10,000 parts
		{maxParts*5*mib + 1, 5 * mib, maxParts/2 + 1, 10 * mib}, // one byte more doubles the part
	}
	for _, c := range cases {
		n, each := partPlan(c.size, c.part)
		if n != c.n || each != c.each {
			t.Errorf("partPlan(%d, %d) = %d parts of %d, want %d of %d", c.size, c.part, n, each, c.n, c.each)
		}
		if int64(n)*each < c.size {
			t.Errorf("partPlan(%d, %d): %d parts of %d do not cover the object", c.size, c.part, n, each)
		}
	}
	if got := multipartRequests(11<<20, 5<<20); got != 7 {
		t.Errorf("multipartRequests = %d, want 7 (head, tags, create, 3 parts, complete)", got)
	}
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "test"} }

func TestThrottledAndTransient(t *testing.T) {
	cases := []struct {
		err                 error
		throttle, transient bool
	}{
		{nil, false, false},
		{apiErr("SlowDown"), true, true},
		{fmt.Errorf("copy: %w", apiErr("SlowDown")), true, true},
		{apiErr("ThrottlingException"), true, true},
		{apiErr("InternalError"), false, true},
		{apiErr("NoSuchKey"), false, false},
		{apiErr("AccessDenied"), false, false},
		{errors.New("plain"), false, false},
	}
	for _, c := range cases {
		if got := throttled(c.err); got != c.throttle {
			t.Errorf("throttled(%v) = %v", c.err, got)
		}
		if got := transient(c.err); got != c.transient {
			t.Errorf("transient(%v) = %v", c.err, got)
		}
	}
}

func TestAdaptiveLimit(t *testing.T) {
	ctx := context.Background()
	l := newAdaptiveLimit(8)
	// Eight in flight, all throttled: one halving, not eight.
	for range 8 {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 {
		l.Release(apiErr("SlowDown"))
	}
	if got := l.Limit(); got != 4 {
		t.Fatalf("after a burst of throttles the limit is %d, want 4", got)
	}
	// A new throttle after the burst halves again.
	_ = l.Acquire(ctx)
	l.Release(apiErr("SlowDown"))
	if got := l.Limit(); got != 2 {
		t.Fatalf("limit %d, want 2", got)
	}
	_ = l.Acquire(ctx)
	l.Release(apiErr("SlowDown"))
	_ = l.Acquire(ctx)
	l.Release(apiErr("SlowDown"))
	if got := l.Limit(); got != 1 {
		t.Fatalf("limit %d, want the floor of 1", got)
	}
	// Successes grow it back by one per window, up to the maximum.
	for range 200 {
		_ = l.Acquire(ctx)
		l.Release(nil)
	}
	if got := l.Limit(); got != 8 {
		t.Fatalf("after many successes the limit is %d, want 8", got)
	}
	// Other errors leave it alone.
	_ = l.Acquire(ctx)
	l.Release(apiErr("NoSuchKey"))
	if got := l.Limit(); got != 8 {
		t.Fatalf("limit %d after a non-throttle error, want 8", got)
	}
}

// Throttled attempts halve the limit once per window, the requests in
// flight then counting for nothing, and every change is told.
func TestAdaptiveLimitTellsChanges(t *testing.T) {
	ctx := context.Background()
	l := newAdaptiveLimit(16)
	var told []int
	l.changed = func(k int) { told = append(told, k) }
	for range 16 {
		_ = l.Acquire(ctx)
	}
	for range 16 { // all sent at once, all throttled
		l.Release(apiErr("SlowDown"))
	}
	_ = l.Acquire(ctx)
	l.Release(apiErr("SlowDown"))
	for range 100 {
		_ = l.Acquire(ctx)
		l.Release(nil)
	}
	want := []int{8, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if fmt.Sprint(told) != fmt.Sprint(want) {
		t.Fatalf("changes told %v, want %v", told, want)
	}
}

func TestAdaptiveLimitBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimit(1)
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() { got <- l.Acquire(t.Context()) }()
		synctest.Wait()
		select {
		case err := <-got:
			t.Fatalf("second acquire returned %v while the only slot was taken", err)
		default:
		}
		l.Release(nil)
		if err := <-got; err != nil {
			t.Fatalf("acquire after release: %v", err)
		}
		// A cancelled wait returns the context's cause.
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() { got <- l.Acquire(ctx) }()
		synctest.Wait()
		cancel(errors.New("run cancelled"))
		if err := <-got; err == nil || err.Error() != "run cancelled" {
			t.Fatalf("cancelled acquire: %v", err)
		}
	})
}

func TestRetryDelay(t *testing.T) {
	for n := range 12 {
		d := retryDelay(n)
		hi := min(defaultRetryBackoff<<n, maxRetryBackoff)
		if d < hi/2 || d > hi {
			t.Errorf("retryDelay(%d) = %s, want within [%s, %s]", n, d, hi/2, hi)
		}
	}
}

func TestS3RestoreSleepHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &S3Restore{}
		start := time.Now()
		if err := r.sleep(t.Context(), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Fatalf("slept %s", got)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := r.sleep(ctx, time.Hour); err == nil {
			t.Fatal("sleep on a cancelled context returned nil")
		}
	})
}

func restoreCfg(set map[string]cty.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for name, spec := range (&S3Restore{}).Spec() {
		_ = spec
		if v, ok := set[name]; ok {
			attrs[name] = v
			continue
		}
		ty := cty.String
		switch name {
		case "concurrency", "page_size", "plan_sample":
			ty = cty.Number
		case "skip_archived":
			ty = cty.Bool
		}
		attrs[name] = cty.NullVal(ty)
	}
	return cty.ObjectVal(attrs)
}

func TestParseRestoreSpec(t *testing.T) {
	s := cty.StringVal
	ok := map[string]cty.Value{"bucket": s("b"), "prefix": s("models/"), "to_time": s("2026-01-02T15:04:05Z")}
	with := func(k string, v cty.Value) map[string]cty.Value {
		m := map[string]cty.Value{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	bad := []struct {
		set  map[string]cty.Value
		want string
	}{
		{with("bucket", cty.NullVal(cty.String)), "bucket must be set"},
		{with("to_time", s("2026-01-02T15:04:05")), "with a zone"},
		{with("to_time", s("yesterday")), "RFC 3339"},
		{with("to_time", cty.NullVal(cty.String)), "to_time must be set"},
		{with("concurrency", cty.NumberIntVal(0)), "concurrency must be between 1 and 1024"},
		{with("concurrency", cty.NumberFloatVal(1.5)), "whole number"},
		{with("page_size", cty.NumberIntVal(1001)), "page_size must be between 1 and 1000"},
		{with("target_prefix", s("models/restored/")), "overlaps"},
		{with("target_prefix", s("")), "overlaps"},
		{with("bucket", cty.UnknownVal(cty.String)), "not known"},
	}
	for _, c := range bad {
		_, err := parseRestoreSpec(restoreCfg(c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseRestoreSpec(%v) = %v, want an error saying %q", c.set, err, c.want)
		}
	}

	sp, err := parseRestoreSpec(restoreCfg(ok))
	if err != nil {
		t.Fatal(err)
	}
	if !sp.inPlace() || sp.Region != "us-east-1" || sp.Concurrency != defaultConcurrency || sp.PageSize != 1000 || sp.blast() != "b/models/" {
		t.Errorf("defaults: %+v", sp)
	}
	sp, err = parseRestoreSpec(restoreCfg(with("to_time", s("2026-01-02T17:04:05+02:00"))))
	if err != nil || !sp.At.Equal(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)) || sp.At.Location() != time.UTC {
		t.Errorf("offset time: %v %v", sp.At, err)
	}
	sp, err = parseRestoreSpec(restoreCfg(with("target_bucket", s("other"))))
	if err != nil || sp.inPlace() || sp.Target != "models/" || sp.TargetRegion != "us-east-1" {
		t.Errorf("other bucket: %+v %v", sp, err)
	}
	if got := (&S3Restore{}).BlastRadius(restoreCfg(ok)); got != "b/models/" {
		t.Errorf("BlastRadius = %q", got)
	}
}

func TestParseRollbackSpec(t *testing.T) {
	s := cty.StringVal
	cfg := func(set map[string]cty.Value) cty.Value {
		attrs := map[string]cty.Value{}
		for name := range (&ModelRollback{}).Spec() {
			attrs[name] = cty.NullVal(cty.String)
			if v, ok := set[name]; ok {
				attrs[name] = v
			}
		}
		return cty.ObjectVal(attrs)
	}
	bad := []struct {
		set  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"key": s("k"), "version_id": s("v")}, "bucket must be set"},
		{map[string]cty.Value{"bucket": s("b"), "version_id": s("v")}, "key must be set"},
		{map[string]cty.Value{"bucket": s("b"), "key": s("k")}, "exactly one of version_id and to_time"},
		{map[string]cty.Value{"bucket": s("b"), "key": s("k"), "version_id": s("v"), "to_time": s("2026-01-02T15:04:05Z")}, "exactly one"},
		{map[string]cty.Value{"bucket": s("b"), "key": s("k"), "to_time": s("2026-01-02 15:04")}, "RFC 3339"},
	}
	for _, c := range bad {
		_, err := parseRollbackSpec(cfg(c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseRollbackSpec(%v) = %v, want an error saying %q", c.set, err, c.want)
		}
	}
	if got := (&ModelRollback{}).BlastRadius(cfg(map[string]cty.Value{"bucket": s("b"), "key": s("m/k.bin")})); got != "b/m/k.bin" {
		t.Errorf("BlastRadius = %q", got)
	}
}

func TestS3ValidateConfig(t *testing.T) {
	s := cty.StringVal
	unknown := cty.UnknownVal(cty.String)
	cases := []struct {
		errs []runbook.ConfigError
		want []string // attributes named, in order
	}{
		{(&S3Restore{}).ValidateConfig(restoreCfg(map[string]cty.Value{"bucket": s("b"), "to_time": unknown})), nil},
		{(&S3Restore{}).ValidateConfig(restoreCfg(map[string]cty.Value{"bucket": s("b"), "to_time": s("2026-01-02 10:00")})), []string{"to_time"}},
		{(&S3Restore{}).ValidateConfig(restoreCfg(map[string]cty.Value{"bucket": s(""), "to_time": s("2026-01-02T10:00:00Z"), "concurrency": cty.NumberIntVal(0)})), []string{"concurrency", "bucket"}},
		{(&S3Restore{}).ValidateConfig(restoreCfg(map[string]cty.Value{"bucket": s("b"), "prefix": s("m/"), "target_prefix": s("m/x/"), "to_time": s("2026-01-02T10:00:00Z")})), []string{"target_prefix"}},
		{(&S3Restore{}).ValidateConfig(restoreCfg(map[string]cty.Value{"bucket": s("b"), "prefix": unknown, "target_prefix": s("m/x/"), "to_time": s("2026-01-02T10:00:00Z")})), nil},
	}
	rb := func(set map[string]cty.Value) cty.Value {
		attrs := map[string]cty.Value{}
		for name := range (&ModelRollback{}).Spec() {
			attrs[name] = cty.NullVal(cty.String)
			if v, ok := set[name]; ok {
				attrs[name] = v
			}
		}
		return cty.ObjectVal(attrs)
	}
	cases = append(cases,
		struct {
			errs []runbook.ConfigError
			want []string
		}{(&ModelRollback{}).ValidateConfig(rb(map[string]cty.Value{"bucket": s("b"), "key": s("k")})), []string{"version_id"}},
		struct {
			errs []runbook.ConfigError
			want []string
		}{(&ModelRollback{}).ValidateConfig(rb(map[string]cty.Value{"bucket": s("b"), "key": s("k"), "version_id": unknown})), nil},
		struct {
			errs []runbook.ConfigError
			want []string
		}{(&ModelRollback{}).ValidateConfig(rb(map[string]cty.Value{"bucket": s("b"), "key": s("k"), "to_time": s("noon")})), []string{"to_time"}},
	)
	for i, c := range cases {
		var got []string
		for _, e := range c.errs {
			got = append(got, e.Attr)
			if e.Summary == "" || e.Detail == "" {
				t.Errorf("case %d: error without summary or detail: %+v", i, e)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("case %d: errors on %v, want %v (%+v)", i, got, c.want, c.errs)
		}
	}
}

// TestRestoreKeyArchived checks that a version the listing shows archived
// is refused, or skipped, without a request: the copier has no client.
func TestRestoreKeyArchived(t *testing.T) {
	d := pitr.Decision{Key: "m/a", TargetKey: "m/a", Action: pitr.Copy,
		Source:  pitr.Entry{Key: "m/a", VersionID: "v1", Size: 10, StorageClass: "DEEP_ARCHIVE", LastModified: time.Now()},
		Current: pitr.Entry{Key: "m/a", VersionID: "v2", Size: 12, LastModified: time.Now()}}
	for _, skip := range []bool{false, true} {
		var tally restoreTally
		var recs []restoreRecord
		r := &S3Restore{}
		r.restoreKey(t.Context(), restoreSpec{Bucket: "b", TargetBucket: "b", SkipArchived: skip}, &copier{}, d, &tally,
			func(rec restoreRecord) { recs = append(recs, rec) })
		if len(recs) != 1 || !strings.Contains(recs[0].Error, "archive") || !strings.Contains(recs[0].Error, "DEEP_ARCHIVE") {
			t.Fatalf("skip=%t: records %+v", skip, recs)
		}
		if skip && (tally.skipped.Load() != 1 || tally.failed.Load() != 0 || recs[0].Action != "skip") {
			t.Errorf("skip_archived: skipped %d, failed %d, action %q", tally.skipped.Load(), tally.failed.Load(), recs[0].Action)
		}
		if !skip && (tally.failed.Load() != 1 || !errors.Is(errors.Join(tally.errs...), errArchived)) {
			t.Errorf("without skip_archived: failed %d, errors %v", tally.failed.Load(), tally.errs)
		}
	}
}

// The records of earlier attempts decide how a key this attempt finds in
// its state at T counts: as the write an attempt made, as one whose answer
// it never got but which landed (recorded now, naming the version it
// left), or as unchanged.
func TestEarlierWrites(t *testing.T) {
	lines := []string{
		"throttled: 3 requests in the last 10s, concurrency now 16",
		`{"key":"p/copied","action":"copy","previous_version":"a1","previous_state":"version","source_version":"s1","new_version":"n1"}` + "\n" +
			`{"key":"p/deleted","action":"delete","previous_version":"b1","previous_state":"version","new_version":"m1"}`,
		`{"key":"p/cut","action":"copy","previous_version":"c1","previous_state":"delete_marker","source_version":"s2","error":"context canceled"}`,
		`{"key":"p/refused","action":"copy","previous_version":"d1","previous_state":"version","source_version":"s3","error":"AccessDenied"}`,
		`{"key":"p/retried","action":"copy","previous_version":"e1","previous_state":"version","source_version":"s4","error":"SlowDown"}`,
		`{"key":"p/retried","action":"copy","previous_version":"e1","previous_state":"version","source_version":"s4","new_version":"n4"}`,
		`{"key":"p/archived","action":"skip","previous_version":"f1","previous_state":"version","error":"archived"}`,
		`not a record {`,
	}
	sc := &runbook.StepContext{Earlier: func(fn func(string) error) error {
		for _, l := range lines {
			if err := fn(l); err != nil {
				return err
			}
		}
		return nil
	}}
	w, err := readEarlierWrites(sc)
	if err != nil {
		t.Fatal(err)
	}
	keep := func(key, current string) pitr.Decision {
		return pitr.Decision{Key: key, TargetKey: key, Action: pitr.Keep, Current: pitr.Entry{Key: key, VersionID: current}}
	}
	for _, tc := range []struct {
		d      pitr.Decision
		want   pitr.Action
		landed string // the new version the landed record names
	}{
		{keep("p/copied", "n1"), pitr.Copy, ""},
		{keep("p/deleted", "m1"), pitr.Delete, ""},
		{keep("p/cut", "late"), pitr.Copy, "late"},
		{keep("p/refused", "d1"), pitr.Keep, ""}, // still what the refused write found
		{keep("p/retried", "n4"), pitr.Copy, ""},
		{keep("p/archived", "f1"), pitr.Keep, ""},
		{keep("p/other", "x"), pitr.Keep, ""},
	} {
		a, landed := w.keep(tc.d)
		got := ""
		if landed != nil {
			got = landed.NewVersion
			if landed.Key != tc.d.TargetKey || landed.Error != "" || landed.PreviousVersion == "" {
				t.Errorf("%s: landed record %+v", tc.d.TargetKey, landed)
			}
		}
		if a != tc.want || got != tc.landed {
			t.Errorf("%s: %v, landed %q; want %v, %q", tc.d.TargetKey, a, got, tc.want, tc.landed)
		}
	}
	none, err := readEarlierWrites(&runbook.StepContext{})
	if a, landed := none.keep(keep("p/copied", "n1")); err != nil || a != pitr.Keep || landed != nil {
		t.Errorf("first attempt: %v %v %v", a, landed, err)
	}
}
