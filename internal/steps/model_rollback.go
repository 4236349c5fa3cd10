package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// ModelRollback is the model_rollback step type: it makes one earlier
// version of a single object (a model artifact) current again, by copying
// it over the key. Nothing is deleted, so a rollback can be rolled back.
//
//	step "model_rollback" "llama" {
//	  bucket     = "my-models"
//	  key        = "models/llama-ft/model.safetensors"
//	  version_id = var.good_version   # or: to_time = "2026-01-02T15:04:05Z"
//	}
type ModelRollback struct {
	Clients S3ClientSource
	// MultipartThreshold and PartSize as for S3Restore.
	MultipartThreshold, PartSize int64
}

// NewModelRollback returns the model_rollback step type.
func NewModelRollback(c S3ClientSource) *ModelRollback { return &ModelRollback{Clients: c} }

// Spec implements runbook.StepType.
func (*ModelRollback) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":            &hcldec.AttrSpec{Name: "region", Type: cty.String},
		"bucket":            &hcldec.AttrSpec{Name: "bucket", Type: cty.String, Required: true},
		"key":               &hcldec.AttrSpec{Name: "key", Type: cty.String, Required: true},
		"version_id":        &hcldec.AttrSpec{Name: "version_id", Type: cty.String},
		"to_time":           &hcldec.AttrSpec{Name: "to_time", Type: cty.String},
		"allow_unversioned": allowUnversionedSpec(),
	}
}

var rollbackOutputs = cty.Object(map[string]cty.Type{
	"restored_version_id": cty.String,
	"new_version_id":      cty.String,
	"previous_version_id": cty.String,
})

// Outputs implements runbook.StepType.
func (*ModelRollback) Outputs() cty.Type { return rollbackOutputs }

// Destructive implements runbook.StepType: serving picks up whatever
// version is current.
func (*ModelRollback) Destructive() bool { return true }

// BlastRadius is the token an operator types to approve the rollback.
func (*ModelRollback) BlastRadius(cfg cty.Value) string {
	b, _ := s3String(cfg, "bucket")
	k, _ := s3String(cfg, "key")
	return b + "/" + k
}

type rollbackSpec struct {
	Region, Bucket, Key, VersionID string
	At                             time.Time
	// AllowUnversioned lets the rollback copy over the key in a bucket
	// whose versioning is not enabled, where the copy cannot be undone.
	AllowUnversioned bool
}

func parseRollbackSpec(cfg cty.Value) (rollbackSpec, error) {
	var sp rollbackSpec
	var errs []error
	for name, dst := range map[string]*string{"region": &sp.Region, "bucket": &sp.Bucket, "key": &sp.Key, "version_id": &sp.VersionID} {
		s, err := s3String(cfg, name)
		if err != nil {
			errs = append(errs, err)
		}
		*dst = s
	}
	at, err := s3String(cfg, "to_time")
	if err != nil {
		errs = append(errs, err)
	}
	if sp.AllowUnversioned, err = s3Bool(cfg, "allow_unversioned"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return sp, err
	}
	if sp.Region == "" {
		sp.Region = defaultS3Region
	}
	switch {
	case sp.Bucket == "":
		return sp, errors.New("bucket must be set")
	case sp.Key == "":
		return sp, errors.New("key must be set")
	case (sp.VersionID == "") == (at == ""):
		return sp, errors.New("set exactly one of version_id and to_time")
	}
	if at != "" {
		if sp.At, err = pitr.ParseTime(at); err != nil {
			return sp, err
		}
	}
	return sp, nil
}

// rollbackPlan is what a rollback will do.
type rollbackPlan struct {
	Target  pitr.Entry // the version to make current
	Current pitr.Entry // the key's current entry (a version or a delete marker)
	// AlreadyCurrent: the current version is Target or a copy of it.
	AlreadyCurrent bool
}

// resolve lists the key's versions (reads only) and finds the version to
// restore and the one it replaces.
func (m *ModelRollback) resolve(ctx context.Context, client *s3.Client, sp rollbackSpec) (rollbackPlan, error) {
	var rp rollbackPlan
	var planner *pitr.Planner
	if !sp.At.IsZero() {
		var err error
		// The range keeps keys that merely start with this one out.
		planner, err = pitr.New(pitr.Options{At: sp.At, SourcePrefix: sp.Key, Range: pitr.Range{Through: sp.Key}})
		if err != nil {
			return rp, err
		}
	}
	var decision *pitr.Decision
	keep := func(d pitr.Decision) error {
		if d.Key == sp.Key {
			decision = &d
		}
		return nil
	}
	errStop := errors.New("past the key")
	err := listVersions(ctx, client, sp.Bucket, sp.Key, defaultPageSize, func(page []pitr.Entry) error {
		var mine []pitr.Entry
		past := false
		for _, e := range page {
			switch {
			case e.Key == sp.Key:
				mine = append(mine, e)
			case e.Key > sp.Key:
				past = true
			}
		}
		for _, e := range mine {
			if !rp.Current.Exists() {
				rp.Current = e
			}
			if sp.VersionID != "" && e.VersionID == sp.VersionID {
				rp.Target = e
			}
		}
		if planner != nil {
			if err := planner.Feed(mine, keep); err != nil {
				return err
			}
		}
		if past {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return rp, fmt.Errorf("list versions of %s/%s: %w", sp.Bucket, sp.Key, err)
	}
	if planner != nil {
		if err := planner.Close(keep); err != nil {
			return rp, err
		}
	}
	if !rp.Current.Exists() {
		return rp, fmt.Errorf("%s/%s has no versions", sp.Bucket, sp.Key)
	}
	if planner != nil {
		if decision == nil || !decision.Source.Exists() {
			return rp, fmt.Errorf("%s/%s was deleted or did not exist yet at %s: there is no version to roll back to (s3_restore restores deletions)",
				sp.Bucket, sp.Key, sp.At.Format(time.RFC3339))
		}
		rp.Target = decision.Source
	}
	switch {
	case !rp.Target.Exists():
		return rp, fmt.Errorf("%s/%s has no version %q", sp.Bucket, sp.Key, sp.VersionID)
	case rp.Target.IsDeleteMarker:
		return rp, fmt.Errorf("%s/%s version %q is a delete marker, not a version to roll back to", sp.Bucket, sp.Key, sp.VersionID)
	}
	rp.AlreadyCurrent = rp.Current.VersionID == rp.Target.VersionID ||
		(rp.Current.IsVersion() && pitr.SameContent(rp.Target, rp.Current))
	return rp, nil
}

// describeVersion reads a version's metadata (reads only) for the plan:
// its time, size and user metadata, such as a model's metrics and commit.
func describeVersion(ctx context.Context, client *s3.Client, bucket string, e pitr.Entry) string {
	if e.IsDeleteMarker {
		return fmt.Sprintf("delete marker %s of %s", e.VersionID, e.LastModified.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("version %s of %s, %s", e.VersionID, e.LastModified.UTC().Format(time.RFC3339), byteSize(e.Size))
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(e.Key), VersionId: optional(e.VersionID)})
	if err != nil {
		return s + " (metadata unavailable: " + err.Error() + ")"
	}
	if len(head.Metadata) > 0 {
		keys := sortedKeys(head.Metadata)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + head.Metadata[k]
		}
		s += ", " + strings.Join(parts, ", ")
	}
	return s
}

func (m *ModelRollback) client(ctx context.Context, sp rollbackSpec) (*s3.Client, error) {
	if m.Clients == nil {
		return nil, errors.New("no AWS clients configured")
	}
	c, err := m.Clients.S3(ctx, sp.Region)
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", sp.Region, err)
	}
	return c, nil
}

// Plan implements runbook.StepType: which version becomes current, and
// what it replaces, with their times and user metadata.
func (m *ModelRollback) Plan(ctx context.Context, _ *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	sp, err := parseRollbackSpec(cfg)
	if errors.Is(err, errNotKnown) {
		return []runbook.Change{{Action: "CopyObject", Target: "(known after earlier steps)", Detail: err.Error()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	client, err := m.client(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	hist, err := checkVersioning(ctx, client, sp.Bucket, "rollback", sp.AllowUnversioned)
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	rp, err := m.resolve(ctx, client, sp)
	if err != nil {
		return nil, fmt.Errorf("model_rollback: %w", err)
	}
	target := sp.Bucket + "/" + sp.Key
	if rp.AlreadyCurrent {
		return []runbook.Change{{Action: "none", Target: target,
			Detail: "already current: " + describeVersion(ctx, client, sp.Bucket, rp.Current)}}, nil
	}
	replaces := "; replaces "
	if !hist.kept() && rp.Current.IsVersion() {
		replaces = "; overwrites without history "
	}
	detail := "<- " + describeVersion(ctx, client, sp.Bucket, rp.Target) + replaces + describeVersion(ctx, client, sp.Bucket, rp.Current)
	if !hist.kept() {
		detail += "; " + hist.note()
	}
	return []runbook.Change{{Action: "CopyObject", Target: target, Detail: detail}}, nil
}

// Apply implements runbook.StepType. A rollback whose version is already
// current (including after an earlier attempt copied it) writes nothing.
func (m *ModelRollback) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	sp, err := parseRollbackSpec(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	client, err := m.client(ctx, sp)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	// Plan may not have run (a resumed run applies directly): check again.
	hist, err := checkVersioning(ctx, client, sp.Bucket, "rollback", sp.AllowUnversioned)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	if !hist.kept() {
		logLine(sc, "%s", hist.note())
	}
	rp, err := m.resolve(ctx, client, sp)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	out := func(newVersion string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{
			"restored_version_id": cty.StringVal(rp.Target.VersionID),
			"new_version_id":      cty.StringVal(newVersion),
			"previous_version_id": cty.StringVal(rp.Current.VersionID),
		})
	}
	if rp.AlreadyCurrent {
		logLine(sc, "%s/%s: version %s is already current; nothing to do", sp.Bucket, sp.Key, rp.Target.VersionID)
		return out(rp.Current.VersionID), nil
	}
	cp := &copier{Src: client, Dst: client, Threshold: m.MultipartThreshold, PartSize: m.PartSize}
	w := rollbackWrite(sp, rp, objectVersion{Bucket: sp.Bucket, Key: sp.Key})
	wr, err := cp.Copy(ctx, w)
	if err != nil {
		return cty.NilVal, fmt.Errorf("model_rollback: %w", err)
	}
	if sc != nil && sc.Log != nil {
		b, _ := json.Marshal(restoreRecord{Key: sp.Key, Action: "copy", PreviousVersion: rp.Current.VersionID,
			PreviousState: entryState(rp.Current), SourceVersion: rp.Target.VersionID, NewVersion: wr.Version, ExtraVersions: wr.Extra})
		sc.Log(string(b))
	}
	return out(wr.Version), nil
}

// rollbackWrite is the copy that makes rp.Target current at dst.
func rollbackWrite(sp rollbackSpec, rp rollbackPlan, dst objectVersion) *keyWrite {
	return &keyWrite{Dst: dst, Prev: rp.Current, Src: objectVersion{Bucket: sp.Bucket, Key: sp.Key, VersionID: rp.Target.VersionID},
		Size: rp.Target.Size, ETag: rp.Target.ETag}
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
	// What the drill key held is not known (nothing listed it): any copy of
	// the version there counts, and teardown empties the key whatever it
	// holds.
	w := rollbackWrite(sp, rp, v.dst)
	w.Prev = pitr.Entry{}
	wr, err := cp.Copy(ctx, w)
	newVersion := wr.Version
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

// RecoveryPoints implements runbook.RecoveryPointer: the key is brought
// back to the version current at to_time (none when a version_id was
// named instead).
func (*ModelRollback) RecoveryPoints(s runbook.FinishedDrillStep) []runbook.RecoveryPoint {
	return pointAt("to_time", s.Config, "to_time")
}

// LoggedParams implements runbook.APIParams.
func (*ModelRollback) LoggedParams() []string { return s3ObjectParams() }
