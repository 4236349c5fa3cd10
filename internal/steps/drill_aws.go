package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// tagDrill marks what a drill created, with the drill id as its value.
const tagDrill = "drconsole:drill"

// Read-only step types run as they are in a drill: they change nothing.

// DrillPlan implements runbook.Drillable: waiting changes nothing.
func (Wait) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// DrillPlan implements runbook.Drillable: a probe only reads.
func (HTTPCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// DrillPlan implements runbook.Drillable: alarms are only read.
func (*AlarmsCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// DrillPlan implements runbook.Drillable: replication metrics are only read.
func (*ReplicationCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// asgDrillState is a group's capacity before a drill scaled it.
type asgDrillState struct {
	Region  string `json:"region"`
	Group   string `json:"group"`
	Min     int32  `json:"min"`
	Max     int32  `json:"max"`
	Desired int32  `json:"desired"`
}

// DrillPlan implements runbook.Drillable: the group is scaled as the
// runbook says, and its capacity now is recorded so teardown scales it
// back.
func (t *ASGScale) DrillPlan(ctx context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "group") {
		return runbook.DrillPlan{Config: cfg, Redirects: []runbook.Change{{Action: "scale back at teardown",
			Target: "group chosen at apply", Detail: "to its capacity before the drill"}}}, nil
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return runbook.DrillPlan{}, err
	}
	group := cfgString(cfg, "group")
	client, err := t.clients.AutoScaling(ctx, region)
	if err != nil {
		return runbook.DrillPlan{}, fmt.Errorf("asg_scale: Auto Scaling client for %s: %w", region, err)
	}
	g, err := describeGroup(ctx, client, group)
	if err != nil {
		return runbook.DrillPlan{}, err
	}
	c := capacityOf(g)
	st := asgDrillState{Region: region, Group: group, Min: c.min, Max: c.max, Desired: c.desired}
	raw, err := json.Marshal(st)
	if err != nil {
		return runbook.DrillPlan{}, fmt.Errorf("asg_scale: record capacity: %w", err)
	}
	return runbook.DrillPlan{Config: cfg, State: raw, Redirects: []runbook.Change{{Action: "scale back at teardown",
		Target: group, Detail: fmt.Sprintf("to min %d, max %d, desired %d", c.min, c.max, c.desired)}}}, nil
}

// Teardown implements runbook.TearDowner: the group goes back to the
// capacity recorded before the drill scaled it.
func (t *ASGScale) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	var st asgDrillState
	if len(req.State) == 0 || json.Unmarshal(req.State, &st) != nil || st.Group == "" {
		// No capacity read before the step acted (the group was named by
		// an earlier step's outputs): the step's own outputs record it.
		var ok bool
		if st, ok = asgStateFromOutputs(req); !ok {
			report(req.Action, runbook.Change{Action: "none", Target: "asg_scale", Detail: "no capacity recorded: the group was not scaled"})
			return nil
		}
	}
	client, err := t.clients.AutoScaling(ctx, st.Region)
	if err != nil {
		return fmt.Errorf("asg_scale teardown: Auto Scaling client for %s: %w", st.Region, err)
	}
	g, err := describeGroup(ctx, client, st.Group)
	if err != nil {
		return fmt.Errorf("asg_scale teardown: %w", err)
	}
	cur, want := capacityOf(g), asgCapacity{min: st.Min, max: st.Max, desired: st.Desired}
	if cur == want {
		report(req.Action, runbook.Change{Action: "none", Target: st.Group,
			Detail: fmt.Sprintf("already at min %d, max %d, desired %d", want.min, want.max, want.desired)})
		return nil
	}
	_, err = client.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(st.Group), MinSize: aws.Int32(want.min), MaxSize: aws.Int32(want.max),
		DesiredCapacity: aws.Int32(want.desired),
	})
	if err != nil {
		return fmt.Errorf("asg_scale teardown: scale %s back to %d: %w", st.Group, want.desired, err)
	}
	report(req.Action, asgChanges(st.Group, cur, want)[0])
	return nil
}

// asgStateFromOutputs reads the capacity before the step from its
// outputs, when it finished.
func asgStateFromOutputs(req runbook.TeardownRequest) (asgDrillState, bool) {
	o := req.Outputs
	if o == cty.NilVal || o.IsNull() || !o.IsWhollyKnown() || !o.Type().IsObjectType() {
		return asgDrillState{}, false
	}
	num := func(name string) int32 {
		n, _, _ := cfgInt(o, name)
		return int32(n)
	}
	st := asgDrillState{Region: cfgString(req.Config, "region"), Group: cfgString(req.Config, "group"),
		Min: num("previous_min"), Max: num("previous_max"), Desired: num("previous_desired")}
	return st, st.Region != "" && st.Group != ""
}

// DrillPlan implements runbook.Drillable: the snapshots carry a drill tag
// and are deleted at teardown.
func (t *EBSSnapshot) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, d runbook.Drill) (runbook.DrillPlan, error) {
	redirect := []runbook.Change{{Action: "tag", Target: "snapshots",
		Detail: tagDrill + "=" + d.ID + "; deleted at teardown"}}
	if !cfg.IsKnown() || cfg.IsNull() || !cfgKnown(cfg, "tags") {
		return runbook.DrillPlan{Config: cfg, Redirects: redirect}, nil
	}
	attrs := cfg.AsValueMap()
	tags := map[string]cty.Value{}
	for k, v := range cfgStringMap(cfg, "tags") {
		tags[k] = cty.StringVal(v)
	}
	tags[tagDrill] = cty.StringVal(d.ID)
	attrs["tags"] = cty.MapVal(tags)
	return runbook.DrillPlan{Config: cty.ObjectVal(attrs), Redirects: redirect}, nil
}

// Teardown implements runbook.TearDowner: the drill's snapshots of this
// step are deleted, found by their tags (so also those of an attempt that
// did not finish).
func (t *EBSSnapshot) Teardown(ctx context.Context, sc *runbook.StepContext, req runbook.TeardownRequest) error {
	region := cfgString(req.Config, "region")
	if region == "" {
		return errors.New("ebs_snapshot teardown: no region recorded")
	}
	client, err := t.clients.EC2(ctx, region)
	if err != nil {
		return fmt.Errorf("ebs_snapshot teardown: EC2 client for %s: %w", region, err)
	}
	found, err := stepSnapshots(ctx, client, sc)
	if err != nil {
		return fmt.Errorf("ebs_snapshot teardown: %w", err)
	}
	n := 0
	for _, s := range found {
		if tagValue(s.Tags, tagDrill) != req.Drill.ID {
			continue // not a drill snapshot: never deleted here
		}
		id := aws.ToString(s.SnapshotId)
		_, err := client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
		if err != nil && !isCode(err, "InvalidSnapshot.NotFound") {
			return fmt.Errorf("ebs_snapshot teardown: delete snapshot %s: %w", id, err)
		}
		n++
		report(req.Action, runbook.Change{Action: "DeleteSnapshot", Target: id, Detail: "drill snapshot of " + aws.ToString(s.VolumeId)})
	}
	if n == 0 {
		report(req.Action, runbook.Change{Action: "none", Target: sc.Address, Detail: "no drill snapshots left"})
	}
	return nil
}

// drillBucketName names the bucket a backup restore creates in a drill:
// the base name, "-drill-" and a hash of the drill id, within 63
// characters, so it never collides with a production bucket and teardown
// recognises it.
func drillBucketName(base, drillID string) string {
	base = strings.ToLower(base)
	if base == "" {
		base = "drconsole-restore"
	}
	return bucketWithSuffix(base, drillBucketSuffix(drillID))
}

// drillBucketSuffix ends the name of every bucket a drill restores.
func drillBucketSuffix(drillID string) string {
	h := sha256.Sum256([]byte(drillID))
	return "-drill-" + hex.EncodeToString(h[:4])
}

// backupRestoreDrill runs a backup_restore in a drill: the same restore
// into a new resource, which is then tagged with the drill id.
type backupRestoreDrill struct {
	t     *BackupRestore
	drill runbook.Drill
}

// DrillPlan implements runbook.Drillable: a restore always creates a new
// resource; in a drill an S3 restore's bucket is named for the drill, and
// the resource is tagged and deleted at teardown.
func (t *BackupRestore) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, d runbook.Drill) (runbook.DrillPlan, error) {
	v := &backupRestoreDrill{t: t, drill: d}
	if !cfg.IsKnown() || cfg.IsNull() || !cfgKnown(cfg, "target_bucket") || !cfgKnown(cfg, "resource_arn") {
		return runbook.DrillPlan{Type: v, Config: cfg, Redirects: []runbook.Change{{Action: "restore", Target: "new resource",
			Detail: "tagged " + tagDrill + "=" + d.ID + "; deleted at teardown"}}}, nil
	}
	attrs := cfg.AsValueMap()
	base := cfgString(cfg, "target_bucket")
	if arn := cfgString(cfg, "resource_arn"); base == "" && strings.HasPrefix(arn, "arn:aws:s3:::") {
		base = strings.TrimPrefix(arn, "arn:aws:s3:::")
	}
	bucket := drillBucketName(base, d.ID)
	attrs["target_bucket"] = cty.StringVal(bucket)
	return runbook.DrillPlan{Type: v, Config: cty.ObjectVal(attrs), Redirects: []runbook.Change{{Action: "restore",
		Target: "new resource (an S3 restore: bucket " + bucket + ")",
		Detail: "tagged " + tagDrill + "=" + d.ID + "; deleted at teardown"}}}, nil
}

func (v *backupRestoreDrill) Spec() hcldec.ObjectSpec { return v.t.Spec() }
func (v *backupRestoreDrill) Outputs() cty.Type       { return v.t.Outputs() }
func (v *backupRestoreDrill) Destructive() bool       { return false }

// Plan implements runbook.StepType.
func (v *backupRestoreDrill) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	return v.t.Plan(ctx, sc, cfg)
}

// Apply implements runbook.StepType: the restore, then the drill tag on
// what it created.
func (v *backupRestoreDrill) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	out, err := v.t.Apply(ctx, sc, cfg)
	if err != nil {
		return out, err
	}
	arn := out.GetAttr("created_resource_arn").AsString()
	region := cfgString(cfg, "region")
	// An untagged resource is still found by teardown (from the outputs,
	// or by its drill bucket name), so a failed tag does not fail the
	// recovery being measured.
	if err := v.tag(ctx, region, arn); err != nil {
		logLine(sc, "could not tag %s as a drill resource (teardown still deletes it): %v", arn, err)
		return out, nil
	}
	logLine(sc, "tagged %s %s=%s", arn, tagDrill, v.drill.ID)
	return out, nil
}

func (v *backupRestoreDrill) tag(ctx context.Context, region, arn string) error {
	switch {
	case strings.HasPrefix(arn, "arn:aws:s3:::"):
		client, err := v.t.clients.S3(ctx, region)
		if err != nil {
			return err
		}
		_, err = client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(strings.TrimPrefix(arn, "arn:aws:s3:::")),
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(tagDrill), Value: aws.String(v.drill.ID)}}}})
		return err
	case strings.Contains(arn, ":volume/"):
		client, err := v.t.clients.EC2(ctx, region)
		if err != nil {
			return err
		}
		_, err = client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{arn[strings.LastIndex(arn, "/")+1:]},
			Tags: []ec2types.Tag{{Key: aws.String(tagDrill), Value: aws.String(v.drill.ID)}}})
		return err
	}
	return nil // file systems keep the tags the restore gave them
}

// Teardown implements runbook.TearDowner: the restored resource is
// deleted: a bucket emptied and deleted, a volume deleted. A restore that
// did not finish is found by the drill bucket name it was given.
func (t *BackupRestore) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	region := cfgString(req.Config, "region")
	arn := ""
	if req.Outputs.Type().IsObjectType() && !req.Outputs.IsNull() {
		arn = cfgString(req.Outputs, "created_resource_arn")
	}
	if arn == "" {
		// The step did not finish: the job it started (if any) is in its
		// log, and may have created the resource since.
		var err error
		if arn, err = t.restoredByJob(ctx, region, req.Logs, req.Action); err != nil {
			return err
		}
	}
	if arn == "" && strings.HasPrefix(cfgString(req.Config, "resource_arn"), "arn:aws:s3:::") && cfgString(req.Config, "target_bucket") != "" {
		arn = "arn:aws:s3:::" + cfgString(req.Config, "target_bucket")
	}
	switch {
	case arn == "":
		report(req.Action, runbook.Change{Action: "none", Target: "backup_restore", Detail: "no restored resource recorded"})
		return nil
	case strings.HasPrefix(arn, "arn:aws:s3:::"):
		bucket := strings.TrimPrefix(arn, "arn:aws:s3:::")
		if !strings.HasSuffix(bucket, drillBucketSuffix(req.Drill.ID)) {
			return fmt.Errorf("backup_restore teardown: bucket %s is not named for drill %s: left alone", bucket, req.Drill.ID)
		}
		client, err := t.clients.S3(ctx, region)
		if err != nil {
			return fmt.Errorf("backup_restore teardown: s3 client for %s: %w", region, err)
		}
		if err := deleteBucket(ctx, client, bucket, req.Action); err != nil {
			return fmt.Errorf("backup_restore teardown: %w", err)
		}
		return nil
	case strings.Contains(arn, ":volume/"):
		id := arn[strings.LastIndex(arn, "/")+1:]
		client, err := t.clients.EC2(ctx, region)
		if err != nil {
			return fmt.Errorf("backup_restore teardown: EC2 client for %s: %w", region, err)
		}
		_, err = client.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
		switch {
		case isCode(err, "InvalidVolume.NotFound"):
			report(req.Action, runbook.Change{Action: "none", Target: id, Detail: "volume already gone"})
		case err != nil:
			return fmt.Errorf("backup_restore teardown: delete volume %s: %w", id, err)
		default:
			report(req.Action, runbook.Change{Action: "DeleteVolume", Target: id, Detail: "restored by the drill"})
		}
		return nil
	}
	report(req.Action, runbook.Change{Action: "none", Target: arn, Detail: "teardown does not delete this kind of resource: delete it by hand"})
	return nil
}

// restoredByJob finds the restore job a step logged as started and returns
// what it created. A job still running is an error: what it creates would
// be left behind, so teardown must run again once it ends.
func (t *BackupRestore) restoredByJob(ctx context.Context, region string, logs []string, action func(runbook.Change)) (string, error) {
	var jobID string
	for _, l := range logs {
		if rest, ok := strings.CutPrefix(l, "restore job "); ok {
			if id, _, ok := strings.Cut(rest, " started"); ok {
				jobID = id
			}
		}
	}
	if jobID == "" {
		return "", nil
	}
	client, err := t.clients.Backup(ctx, region)
	if err != nil {
		return "", fmt.Errorf("backup_restore teardown: Backup client for %s: %w", region, err)
	}
	job, err := client.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(jobID)})
	if err != nil {
		return "", fmt.Errorf("backup_restore teardown: describe restore job %s: %w", jobID, err)
	}
	switch job.Status {
	case bktypes.RestoreJobStatusCompleted:
		return aws.ToString(job.CreatedResourceArn), nil
	case bktypes.RestoreJobStatusAborted, bktypes.RestoreJobStatusFailed:
		report(action, runbook.Change{Action: "none", Target: jobID, Detail: "restore job " + string(job.Status) + ": it created nothing"})
		return "", nil
	}
	return "", fmt.Errorf("backup_restore teardown: restore job %s is still %s; run drconsole drill --teardown again once it ends, so what it creates is deleted",
		jobID, job.Status)
}
