package steps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/sourcegraph/conc"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// S3ClientSource hands out S3 clients per region. The engine's AWS client
// factory satisfies it; in dry-run its clients refuse every write.
type S3ClientSource interface {
	S3(ctx context.Context, region string) (*s3.Client, error)
}

// S3Restore is the s3_restore step type: it brings a bucket prefix back to
// its state at a time, in place or into another bucket or prefix, by adding
// versions and delete markers only, so the restore can itself be undone.
//
//	step "s3_restore" "models" {
//	  bucket  = "my-models"
//	  prefix  = "models/"
//	  to_time = var.restore_to
//	}
type S3Restore struct {
	Clients S3ClientSource
	// MultipartThreshold is the size above which copies go in parts
	// (default and maximum: S3's 5 GiB); PartSize the part size (default
	// 512 MiB). Tests lower them to exercise multipart copies cheaply.
	MultipartThreshold, PartSize int64
	// ListWorkers bounds the key ranges listed at once and KeysPerRange
	// sizes them (zero: the defaults of awsx.RangePlan).
	ListWorkers, KeysPerRange int
	// Sleep waits between retry rounds (nil: a timer honouring ctx).
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewS3Restore returns the s3_restore step type.
func NewS3Restore(c S3ClientSource) *S3Restore { return &S3Restore{Clients: c} }

// Spec implements runbook.StepType.
func (*S3Restore) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":            &hcldec.AttrSpec{Name: "region", Type: cty.String},
		"bucket":            &hcldec.AttrSpec{Name: "bucket", Type: cty.String, Required: true},
		"prefix":            &hcldec.AttrSpec{Name: "prefix", Type: cty.String},
		"to_time":           &hcldec.AttrSpec{Name: "to_time", Type: cty.String, Required: true},
		"target_region":     &hcldec.AttrSpec{Name: "target_region", Type: cty.String},
		"target_bucket":     &hcldec.AttrSpec{Name: "target_bucket", Type: cty.String},
		"target_prefix":     &hcldec.AttrSpec{Name: "target_prefix", Type: cty.String},
		"concurrency":       &hcldec.AttrSpec{Name: "concurrency", Type: cty.Number},
		"page_size":         &hcldec.AttrSpec{Name: "page_size", Type: cty.Number},
		"plan_sample":       &hcldec.AttrSpec{Name: "plan_sample", Type: cty.Number},
		"skip_archived":     &hcldec.AttrSpec{Name: "skip_archived", Type: cty.Bool},
		"allow_unversioned": allowUnversionedSpec(),
	}
}

// restoreOutputs is the object an s3_restore step produces.
var restoreOutputs = cty.Object(map[string]cty.Type{
	"copied":    cty.Number,
	"deleted":   cty.Number,
	"unchanged": cty.Number,
	"skipped":   cty.Number,
	"failed":    cty.Number,
})

// Outputs implements runbook.StepType.
func (*S3Restore) Outputs() cty.Type { return restoreOutputs }

// Destructive implements runbook.StepType. A restore only adds versions
// and delete markers, but it changes what every reader of the prefix sees.
func (*S3Restore) Destructive() bool { return true }

// BlastRadius is the token an operator types to approve the step: the
// bucket and prefix it writes to.
func (*S3Restore) BlastRadius(cfg cty.Value) string {
	sp, err := parseRestoreSpec(cfg)
	if err != nil {
		b, _ := s3String(cfg, "target_bucket")
		if b == "" {
			b, _ = s3String(cfg, "bucket")
		}
		return b
	}
	return sp.blast()
}

// restoreClients returns the source and target clients.
func (r *S3Restore) restoreClients(ctx context.Context, sp restoreSpec) (src, dst *s3.Client, err error) {
	if r.Clients == nil {
		return nil, nil, errors.New("no AWS clients configured")
	}
	if src, err = r.Clients.S3(ctx, sp.Region); err != nil {
		return nil, nil, fmt.Errorf("s3 client for %s: %w", sp.Region, err)
	}
	dst = src
	if sp.TargetRegion != sp.Region {
		if dst, err = r.Clients.S3(ctx, sp.TargetRegion); err != nil {
			return nil, nil, fmt.Errorf("s3 client for %s: %w", sp.TargetRegion, err)
		}
	}
	return src, dst, nil
}

// plan streams the source listing (and the target's, when restoring
// elsewhere) through the point-in-time planner, calling emit for every
// decision as soon as it is final. The prefix is cut into key ranges
// listed and planned concurrently, so emit is called from several
// goroutines. It returns the planner's counts and the number of listing
// requests made.
func (r *S3Restore) plan(ctx context.Context, sp restoreSpec, src, dst *s3.Client, emit func(pitr.Decision) error) (pitr.Stats, int64, error) {
	var requests atomic.Int64
	rp := awsx.RangePlan{
		Client:       countRequests(src, &requests),
		Bucket:       sp.Bucket,
		Prefix:       sp.Prefix,
		PageSize:     int32(sp.PageSize),
		Options:      pitr.Options{At: sp.At},
		Workers:      r.ListWorkers,
		KeysPerRange: r.KeysPerRange,
	}
	if !sp.inPlace() {
		rp.Options.TargetPrefix = sp.Target
		counted := countRequests(dst, &requests)
		rp.Target = func(ctx context.Context, rg pitr.Range) pitr.Cursor {
			return awsx.VersionCursor(ctx, counted, awsx.VersionListing{Bucket: sp.TargetBucket, Prefix: sp.Target, MaxKeys: int32(sp.PageSize), Range: rg})
		}
	}
	stats, err := rp.Run(ctx, emit)
	if err != nil {
		return stats, requests.Load(), fmt.Errorf("plan restore of %s/%s: %w", sp.Bucket, sp.Prefix, err)
	}
	return stats, requests.Load(), nil
}

// countRequests returns a client like c that counts the requests it sends
// (each attempt once).
func countRequests(c *s3.Client, n *atomic.Int64) *s3.Client {
	return s3.New(c.Options(), func(o *s3.Options) {
		// The copied options share c's S3 Express credentials provider, which
		// New would rebind to this client while c's calls read it: a data
		// race. This client gets a provider of its own.
		o.ExpressCredentials = nil
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("drconsole.CountRequests",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					n.Add(1)
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	})
}

// Plan implements runbook.StepType: it lists the prefix (reads only) and
// reports the counts, the requests the apply will make and the first
// changes.
func (r *S3Restore) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	sp, err := parseRestoreSpec(cfg)
	if errors.Is(err, errNotKnown) {
		return []runbook.Change{{Action: "s3_restore", Target: "(known after earlier steps)", Detail: err.Error()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3_restore: %w", err)
	}
	src, dst, err := r.restoreClients(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("s3_restore: %w", err)
	}
	hist, err := checkVersioning(ctx, dst, sp.TargetBucket, "restore", sp.AllowUnversioned)
	if err != nil {
		return nil, fmt.Errorf("s3_restore: %w", err)
	}
	// Ranges are planned concurrently: keep the first changes in key
	// order, whatever order the ranges finish in.
	var mu sync.Mutex
	var sample []pitr.Decision
	var writeRequests, changes, tooLong, archived int64
	stats, lists, err := r.plan(ctx, sp, src, dst, func(d pitr.Decision) error {
		var w int64
		switch d.Action {
		case pitr.Copy:
			w = r.copyRequests(d.Source.Size)
		case pitr.Delete:
			w = 1
		default:
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if d.Action == pitr.Copy && d.Source.Archived() {
			archived++
			w = 0
		}
		writeRequests += w
		if d.Action == pitr.Copy && len(d.TargetKey) > maxKeyBytes {
			tooLong++
		}
		changes++
		i := sort.Search(len(sample), func(i int) bool { return sample[i].TargetKey > d.TargetKey })
		if i < sp.Sample {
			sample = slices.Insert(sample, i, d)
			if len(sample) > sp.Sample {
				sample = sample[:sp.Sample]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	summary := runbook.Change{
		Action: "s3_restore",
		Target: sp.Bucket + "/" + sp.Prefix,
		Detail: fmt.Sprintf("to %s: %d to copy (%s), %d to delete, %d unchanged; %d write requests after %d listing requests",
			sp.At.Format(time.RFC3339), stats.Copies, byteSize(stats.CopyBytes), stats.Deletes, stats.Keeps, writeRequests, lists),
	}
	if !sp.inPlace() {
		summary.Detail += " into " + sp.TargetBucket + "/" + sp.Target
	}
	if archived > 0 {
		what := "they fail: restore them from the archive first, or set skip_archived"
		if sp.SkipArchived {
			what = "skipped"
		}
		summary.Detail += fmt.Sprintf("; versions to copy in an archive storage class (GLACIER, DEEP_ARCHIVE), %s: %d", what, archived)
	}
	if tooLong > 0 {
		summary.Detail += fmt.Sprintf("; keys too long for S3 under %q (over 1,024 bytes), whose copies will fail: %d", sp.Target, tooLong)
	}
	if !hist.kept() {
		summary.Detail += "; " + hist.note()
	}
	out := []runbook.Change{summary}
	for _, d := range sample {
		out = append(out, decisionChange(sp, hist, d))
	}
	if more := changes - int64(len(sample)); more > 0 {
		out = append(out, runbook.Change{Action: "...", Target: fmt.Sprintf("%d more changes", more)})
	}
	return out, nil
}

// maxKeyBytes is the longest key S3 accepts.
const maxKeyBytes = 1024

// copyRequests is how many requests copying an object of size bytes takes.
func (r *S3Restore) copyRequests(size int64) int64 {
	if size > r.threshold() {
		return int64(multipartRequests(size, r.PartSize))
	}
	return 1
}

func (r *S3Restore) threshold() int64 {
	if r.MultipartThreshold > 0 && r.MultipartThreshold < maxSingleCopy {
		return r.MultipartThreshold
	}
	return maxSingleCopy
}

// decisionChange renders one decision as a planned change. In a target
// that does not keep every version (hist), a write says it cannot be
// undone.
func decisionChange(sp restoreSpec, hist bucketHistory, d pitr.Decision) runbook.Change {
	target := sp.TargetBucket + "/" + d.TargetKey
	replaces := "replaces " + describeEntry(d.Current)
	if !hist.kept() && d.Current.IsVersion() {
		replaces = "overwrites without history " + describeEntry(d.Current)
	}
	switch d.Action {
	case pitr.Copy:
		from := "version " + d.Source.VersionID
		if !sp.inPlace() {
			from = sp.Bucket + "/" + d.Key + " " + from
		}
		size := byteSize(d.Source.Size)
		if d.Source.Archived() {
			size += ", archived in " + d.Source.StorageClass
		}
		return runbook.Change{Action: "CopyObject", Target: target,
			Detail: fmt.Sprintf("<- %s of %s (%s); %s", from, d.Source.LastModified.UTC().Format(time.RFC3339), size, replaces)}
	case pitr.Delete:
		if !hist.kept() {
			return runbook.Change{Action: "DeleteObject", Target: target, Detail: "permanently deletes " + describeEntry(d.Current)}
		}
		return runbook.Change{Action: "DeleteObject", Target: target, Detail: "adds a delete marker; " + replaces}
	}
	return runbook.Change{Action: "keep", Target: target}
}

func describeEntry(e pitr.Entry) string {
	switch {
	case !e.Exists():
		return "nothing"
	case e.IsDeleteMarker:
		return "delete marker " + e.VersionID
	}
	return fmt.Sprintf("version %s of %s", e.VersionID, e.LastModified.UTC().Format(time.RFC3339))
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// restoreRecord is the journal record written for every key a restore
// changes: enough to undo it (make previous_version current again) and to
// audit it, naming every version it created. Records are JSON objects, one
// per line of a log line (see restoreLog).
type restoreRecord struct {
	Key             string `json:"key"`
	Action          string `json:"action"` // "copy" or "delete"
	PreviousVersion string `json:"previous_version"`
	PreviousState   string `json:"previous_state"` // "version", "delete_marker" or "absent"
	SourceKey       string `json:"source_key,omitempty"`
	SourceVersion   string `json:"source_version,omitempty"`
	NewVersion      string `json:"new_version,omitempty"`
	// ExtraVersions are versions (or markers) besides NewVersion the write
	// left on the key: a send whose answer was lost, applied after all.
	ExtraVersions []string `json:"extra_versions,omitempty"`
	Error         string   `json:"error,omitempty"`
}

// restoreTally counts outcomes; safe for concurrent use.
type restoreTally struct {
	copied, deleted, unchanged, skipped, failed, decided atomic.Int64
	mu                                                   sync.Mutex
	errs                                                 []error
}

func (t *restoreTally) fail(err error) {
	t.failed.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) < 5 {
		t.errs = append(t.errs, err)
	}
}

func (t *restoreTally) done() int64 {
	return t.copied.Load() + t.deleted.Load() + t.unchanged.Load() + t.skipped.Load() + t.failed.Load()
}

func (t *restoreTally) outputs() cty.Value {
	n := func(v *atomic.Int64) cty.Value { return cty.NumberIntVal(v.Load()) }
	return cty.ObjectVal(map[string]cty.Value{
		"copied": n(&t.copied), "deleted": n(&t.deleted), "unchanged": n(&t.unchanged),
		"skipped": n(&t.skipped), "failed": n(&t.failed),
	})
}

// Apply implements runbook.StepType. The listing and the writes overlap:
// the planner streams decisions into a bounded queue as each key's becomes
// final, and a pool of workers, bounded by an adaptive limit that halves on
// SlowDown, makes them. A key already in its state at T gets no request,
// so a second run, or a resumed one, only does what is left; a retried or
// resumed attempt still counts the keys its earlier attempts restored (see
// earlierWrites).
func (r *S3Restore) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	sp, err := parseRestoreSpec(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("s3_restore: %w", err)
	}
	src, dst, err := r.restoreClients(ctx, sp)
	if err != nil {
		return cty.NilVal, fmt.Errorf("s3_restore: %w", err)
	}
	// Plan may not have run (a resumed run applies directly): check again.
	hist, err := checkVersioning(ctx, dst, sp.TargetBucket, "restore", sp.AllowUnversioned)
	if err != nil {
		return cty.NilVal, fmt.Errorf("s3_restore: %w", err)
	}
	if !hist.kept() {
		logLine(sc, "%s", hist.note())
	}
	limit := newAdaptiveLimit(sp.Concurrency)
	if sc.Concurrency != nil {
		sc.Concurrency(sp.Concurrency)
		limit.changed = sc.Concurrency
	}
	// The limit bounds the writes' attempts, the SDK's retries included:
	// a copy waiting out its backoff after SlowDown holds no slot, and the
	// limit halves on the first throttled attempt, not once a copy has
	// used up its retries.
	writes := awsx.WithAttemptGate(ctx, limit)
	cp := &copier{Src: src, Dst: dst, Threshold: r.threshold(), PartSize: r.PartSize}
	earlier, err := readEarlierWrites(sc)
	if err != nil {
		logLine(sc, "the records of earlier attempts could not be read (%v): the outputs may leave out what they restored", err)
	}
	var tally restoreTally
	journal := startRestoreLog(sc, &tally)

	queue := make(chan pitr.Decision, 4*sp.Concurrency)
	var wg conc.WaitGroup
	for range sp.Concurrency {
		wg.Go(func() {
			for d := range queue {
				r.restoreKey(writes, sp, cp, d, &tally, journal.add)
			}
		})
	}
	_, _, listErr := r.plan(ctx, sp, src, dst, func(d pitr.Decision) error {
		tally.decided.Add(1)
		if d.Action == pitr.Keep {
			a, landed := earlier.keep(d)
			switch a {
			case pitr.Copy:
				tally.copied.Add(1)
			case pitr.Delete:
				tally.deleted.Add(1)
			default:
				tally.unchanged.Add(1)
			}
			if landed != nil {
				journal.add(*landed)
			} else {
				journal.progress()
			}
			return nil
		}
		select {
		case queue <- d:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(queue)
	wg.Wait()
	journal.close()

	if listErr != nil {
		return cty.NilVal, fmt.Errorf("s3_restore: %w (after %d copied, %d deleted, %d failed; run again to finish)",
			listErr, tally.copied.Load(), tally.deleted.Load(), tally.failed.Load())
	}
	if n := tally.failed.Load(); n > 0 {
		return cty.NilVal, fmt.Errorf("s3_restore: %d of %d changes failed (%d copied, %d deleted; run again to retry what is left): %w",
			n, n+tally.copied.Load()+tally.deleted.Load()+tally.skipped.Load(), tally.copied.Load(), tally.deleted.Load(), errors.Join(tally.errs...))
	}
	if err := ctx.Err(); err != nil {
		return cty.NilVal, fmt.Errorf("s3_restore: %w", context.Cause(ctx))
	}
	return tally.outputs(), nil
}

// restoreKey makes one decision's write, sending it again after transient
// failures (throttling, 5xx) that outlasted the SDK's own retries, with
// jittered exponential back-off. A write whose answer was lost is settled
// by the copier (see keyWrite), which looks at the key before sending it
// again.
func (r *S3Restore) restoreKey(ctx context.Context, sp restoreSpec, cp *copier, d pitr.Decision, tally *restoreTally, report func(restoreRecord)) {
	rec := restoreRecord{Key: d.TargetKey, Action: d.Action.String(), PreviousVersion: d.Current.VersionID, PreviousState: entryState(d.Current)}
	if !sp.inPlace() {
		rec.SourceKey = d.Key
	}
	w := &keyWrite{Dst: objectVersion{Bucket: sp.TargetBucket, Key: d.TargetKey}, Prev: d.Current}
	var op func() (written, error)
	switch d.Action {
	case pitr.Copy:
		rec.SourceVersion = d.Source.VersionID
		w.Src = objectVersion{Bucket: sp.Bucket, Key: d.Key, VersionID: d.Source.VersionID}
		w.Size, w.ETag = d.Source.Size, d.Source.ETag
		op = func() (written, error) { return cp.Copy(ctx, w) }
		if d.Source.Archived() {
			// The listing says S3 would refuse the copy: do not ask.
			op = func() (written, error) {
				return written{}, copyError(w.Src, fmt.Errorf("%w (%s)", errArchived, d.Source.StorageClass))
			}
		}
	case pitr.Delete:
		op = func() (written, error) { return cp.Delete(ctx, w) }
	default:
		return
	}
	var (
		out written
		err error
	)
	for round := 0; ; round++ {
		out, err = op()
		if err == nil || !transient(err) || round+1 >= defaultRetryRounds || ctx.Err() != nil {
			break
		}
		if serr := r.sleep(ctx, retryDelay(round)); serr != nil {
			err = errors.Join(err, serr)
			break
		}
	}
	rec.NewVersion, rec.ExtraVersions = out.Version, out.Extra
	switch {
	case err == nil && d.Action == pitr.Copy:
		tally.copied.Add(1)
	case err == nil:
		tally.deleted.Add(1)
	case errors.Is(err, errArchived) && sp.SkipArchived:
		tally.skipped.Add(1)
		rec.Action, rec.Error = "skip", err.Error()
	default:
		tally.fail(fmt.Errorf("%s: %w", d.TargetKey, err))
		rec.Error = err.Error()
	}
	report(rec)
}

func entryState(e pitr.Entry) string {
	switch {
	case !e.Exists():
		return "absent"
	case e.IsDeleteMarker:
		return "delete_marker"
	}
	return "version"
}

// retryDelay is the back-off before retry round n+1: exponential with full
// jitter, so workers throttled together do not come back together.
func retryDelay(n int) time.Duration {
	d := min(defaultRetryBackoff<<n, maxRetryBackoff)
	return d/2 + rand.N(d/2+1)
}

func (r *S3Restore) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// DrillPlan implements runbook.Drillable: the restore goes into the drill
// target, under the drill's own prefix, instead of where the runbook says.
func (r *S3Restore) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, d runbook.Drill) (runbook.DrillPlan, error) {
	if d.TargetBucket == "" {
		return runbook.DrillPlan{}, fmt.Errorf("s3_restore: %w", errNoDrillTarget)
	}
	if !cfg.IsKnown() || cfg.IsNull() {
		return runbook.DrillPlan{Config: cfg}, nil
	}
	attrs := cfg.AsValueMap()
	origBucket, origPrefix := attrs["target_bucket"], attrs["target_prefix"]
	if origBucket.IsNull() {
		origBucket = attrs["bucket"]
	}
	if origPrefix.IsNull() {
		origPrefix = attrs["prefix"]
	}
	newPrefix := cty.UnknownVal(cty.String)
	if origPrefix.IsKnown() {
		p := ""
		if !origPrefix.IsNull() {
			p = origPrefix.AsString()
		}
		newPrefix = cty.StringVal(drillRoot(d) + p)
	}
	attrs["target_bucket"] = cty.StringVal(d.TargetBucket)
	attrs["target_prefix"] = newPrefix
	// The drill writes only under its own prefix, which teardown empties
	// whatever the bucket's versioning: nothing there needs undoing.
	attrs["allow_unversioned"] = cty.True
	out := cty.ObjectVal(attrs)
	if out.IsWhollyKnown() {
		if _, err := parseRestoreSpec(out); err != nil {
			return runbook.DrillPlan{}, fmt.Errorf("s3_restore in a drill: %w", err)
		}
	}
	return runbook.DrillPlan{Config: out, Redirects: []runbook.Change{{
		Action: "redirect",
		Target: d.TargetBucket + "/" + renderString(newPrefix),
		Detail: "restore into the drill target instead of " + renderString(origBucket) + "/" + renderString(origPrefix) +
			"; emptied at teardown",
	}}}, nil
}

// Teardown implements runbook.TearDowner: every version and delete marker
// the drill wrote under its prefix is deleted.
func (r *S3Restore) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	bucket, prefix := cfgString(req.Config, "target_bucket"), cfgString(req.Config, "target_prefix")
	region := cfgString(req.Config, "target_region")
	if region == "" {
		region = cfgString(req.Config, "region")
	}
	if region == "" {
		region = defaultS3Region
	}
	if err := checkDrillOwned(req.Drill, bucket, prefix); err != nil {
		return fmt.Errorf("s3_restore teardown: %w", err)
	}
	if r.Clients == nil {
		return errors.New("s3_restore teardown: no AWS clients configured")
	}
	client, err := r.Clients.S3(ctx, region)
	if err != nil {
		return fmt.Errorf("s3_restore teardown: s3 client for %s: %w", region, err)
	}
	return emptyPrefix(ctx, client, bucket, prefix, req.Action)
}

// renderString shows a configuration value in the words of a redirect.
func renderString(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(known at apply)"
	case v.IsNull():
		return ""
	case v.Type() == cty.String:
		return v.AsString()
	}
	return v.GoString()
}

// RecoveryPoints implements runbook.RecoveryPointer: the prefix is brought
// back to its state at to_time.
func (*S3Restore) RecoveryPoints(s runbook.FinishedDrillStep) []runbook.RecoveryPoint {
	return pointAt("to_time", s.Config, "to_time")
}

// LoggedParams implements runbook.APIParams.
func (*S3Restore) LoggedParams() []string { return s3ObjectParams() }

// s3ObjectParams are the request fields of the calls that list, copy and
// delete object versions.
func s3ObjectParams() []string {
	return []string{"Bucket", "Prefix", "KeyMarker", "Key", "VersionId", "CopySource", "UploadId", "PartNumber"}
}
