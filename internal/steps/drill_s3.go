package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// errNoDrillTarget is returned by restores in a drill that has nowhere to
// restore to.
var errNoDrillTarget = errors.New("a drill restores into a drill target, and none is set: " +
	"add runbook { drill { target_bucket = \"...\", target_prefix = \"drills/\" } } or pass --drill-target BUCKET[/PREFIX]")

// drillRoot is the prefix under which one drill writes: the drill target's
// prefix and the drill id, so drills never share objects and teardown can
// delete every version under it.
func drillRoot(d runbook.Drill) string {
	return d.TargetPrefix + d.ID + "/"
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

// checkDrillOwned refuses to empty anything outside the drill's own
// prefix: a journal edited by hand must not turn teardown against
// production.
func checkDrillOwned(d runbook.Drill, bucket, prefix string) error {
	if bucket == "" || d.ID == "" || !strings.HasPrefix(prefix, drillRoot(d)) {
		return fmt.Errorf("%s/%s is not under the drill's prefix %s: left alone", bucket, prefix, drillRoot(d))
	}
	return nil
}

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

// emptyPrefix deletes every version and delete marker under prefix, a
// thousand at a time, recording each batch.
func emptyPrefix(ctx context.Context, client *s3.Client, bucket, prefix string, action func(runbook.Change)) error {
	var batch []s3types.ObjectIdentifier
	deleted := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
			Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete versions under %s/%s: %w", bucket, prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete versions under %s/%s: %d failed, first %s: %s", bucket, prefix, len(out.Errors),
				aws.ToString(e.Key), aws.ToString(e.Message))
		}
		deleted += len(batch)
		batch = batch[:0]
		return nil
	}
	err := listVersions(ctx, client, bucket, prefix, defaultPageSize, func(page []pitr.Entry) error {
		for _, e := range page {
			batch = append(batch, s3types.ObjectIdentifier{Key: aws.String(e.Key), VersionId: optional(e.VersionID)})
			if len(batch) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		if isCode(err, "NoSuchBucket") {
			report(action, runbook.Change{Action: "none", Target: bucket + "/" + prefix, Detail: "bucket already gone"})
			return nil
		}
		return err
	}
	if deleted == 0 {
		report(action, runbook.Change{Action: "none", Target: bucket + "/" + prefix, Detail: "already empty"})
		return nil
	}
	report(action, runbook.Change{Action: "DeleteObjects", Target: bucket + "/" + prefix,
		Detail: fmt.Sprintf("%d versions and delete markers", deleted)})
	return nil
}

// deleteBucket empties a bucket and deletes it; a bucket already gone is
// reported and not an error.
func deleteBucket(ctx context.Context, client *s3.Client, bucket string, action func(runbook.Change)) error {
	if err := emptyPrefix(ctx, client, bucket, "", action); err != nil {
		return err
	}
	_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	switch {
	case isCode(err, "NoSuchBucket"):
		return nil
	case err != nil:
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	report(action, runbook.Change{Action: "DeleteBucket", Target: bucket})
	return nil
}

func report(action func(runbook.Change), c runbook.Change) {
	if action != nil {
		action(c)
	}
}

// modelRollbackDrill runs a model_rollback in a drill: the chosen version
// is copied to the drill key, and the production key stays as it is.
type modelRollbackDrill struct {
	m   *ModelRollback
	dst objectVersion // the drill key; Bucket "" when not known yet
}

// drillKeyState is what a model_rollback drill records for teardown.
type drillKeyState struct {
	Region string `json:"region"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// DrillPlan implements runbook.Drillable.
func (m *ModelRollback) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, d runbook.Drill) (runbook.DrillPlan, error) {
	if d.TargetBucket == "" {
		return runbook.DrillPlan{}, fmt.Errorf("model_rollback: %w", errNoDrillTarget)
	}
	v := &modelRollbackDrill{m: m}
	bucket, _ := s3String(cfg, "bucket")
	key, err := s3String(cfg, "key")
	target := d.TargetBucket + "/" + drillRoot(d) + "(key known at apply)"
	var state json.RawMessage
	if err == nil {
		region, _ := s3String(cfg, "region")
		if region == "" {
			region = defaultS3Region
		}
		v.dst = objectVersion{Bucket: d.TargetBucket, Key: drillRoot(d) + key}
		target = v.dst.Bucket + "/" + v.dst.Key
		state, _ = json.Marshal(drillKeyState{Region: region, Bucket: v.dst.Bucket, Key: v.dst.Key})
	}
	return runbook.DrillPlan{Type: v, Config: cfg, State: state, Redirects: []runbook.Change{{
		Action: "redirect", Target: target,
		Detail: "copy the version to the drill key instead of making it current in " + bucket + "/" + key + "; deleted at teardown",
	}}}, nil
}

// Teardown implements runbook.TearDowner: the drill key's versions are
// deleted.
func (m *ModelRollback) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	var st drillKeyState
	if len(req.State) == 0 || json.Unmarshal(req.State, &st) != nil {
		report(req.Action, runbook.Change{Action: "none", Target: "model_rollback", Detail: "no drill key recorded: nothing was copied"})
		return nil
	}
	if err := checkDrillOwned(req.Drill, st.Bucket, st.Key); err != nil {
		return fmt.Errorf("model_rollback teardown: %w", err)
	}
	if m.Clients == nil {
		return errors.New("model_rollback teardown: no AWS clients configured")
	}
	client, err := m.Clients.S3(ctx, st.Region)
	if err != nil {
		return fmt.Errorf("model_rollback teardown: s3 client for %s: %w", st.Region, err)
	}
	return emptyPrefix(ctx, client, st.Bucket, st.Key, req.Action)
}

func (v *modelRollbackDrill) Spec() hcldec.ObjectSpec { return v.m.Spec() }
func (v *modelRollbackDrill) Outputs() cty.Type       { return v.m.Outputs() }

// Destructive implements runbook.StepType: the drill copy touches only the
// drill target.
func (v *modelRollbackDrill) Destructive() bool { return false }

// Plan implements runbook.StepType.
func (v *modelRollbackDrill) Plan(ctx context.Context, _ *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	sp, err := parseRollbackSpec(cfg)
	if errors.Is(err, errNotKnown) || v.dst.Bucket == "" {
		return []runbook.Change{{Action: "CopyObject", Target: "(known after earlier steps)", Detail: "to the drill target"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	client, err := v.m.client(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	rp, err := v.m.resolve(ctx, client, sp)
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	return []runbook.Change{{Action: "CopyObject", Target: v.dst.Bucket + "/" + v.dst.Key,
		Detail: "<- " + describeVersion(ctx, client, sp.Bucket, rp.Target) + " (drill copy; production unchanged)"}}, nil
}

// Apply implements runbook.StepType: it copies the version the rollback
// would make current to the drill key.
func (v *modelRollbackDrill) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	sp, err := parseRollbackSpec(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	if v.dst.Bucket == "" {
		return cty.NilVal, errors.New("model_rollback: the drill key is not known")
	}
	client, err := v.m.client(ctx, sp)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	rp, err := v.m.resolve(ctx, client, sp)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	cp := &copier{Src: client, Dst: client, Threshold: v.m.MultipartThreshold, PartSize: v.m.PartSize}
	newVersion, err := cp.Copy(ctx, objectVersion{Bucket: sp.Bucket, Key: sp.Key, VersionID: rp.Target.VersionID}, rp.Target.Size, v.dst)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	logLine(sc, "copied %s/%s version %s to the drill key %s/%s (version %s)", sp.Bucket, sp.Key, rp.Target.VersionID,
		v.dst.Bucket, v.dst.Key, newVersion)
	return cty.ObjectVal(map[string]cty.Value{
		"restored_version_id": cty.StringVal(rp.Target.VersionID),
		"new_version_id":      cty.StringVal(newVersion),
		"previous_version_id": cty.StringVal(rp.Current.VersionID),
	}), nil
}
