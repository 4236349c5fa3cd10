package steps

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// EBSSnapshot is the ebs_snapshot step type: it snapshots EBS volumes
// chosen by id or by tags and waits until every snapshot is completed.
//
// Snapshots are tagged with the run id and the step address, so an attempt
// after a crash finds the snapshots an earlier attempt started and only
// creates the missing ones.
type EBSSnapshot struct {
	clients awsx.ClientSource
}

// Defaults of ebs_snapshot. A snapshot can stay pending for hours, so the
// default bound (without wait_for or a step timeout) is long on purpose.
const (
	ebsDefaultPoll = 15 * time.Second
	ebsDefaultWait = 24 * time.Hour
)

var ebsVolumesType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"tags": cty.Map(cty.String),
}, []string{"tags"})

// Spec implements runbook.StepType.
func (*EBSSnapshot) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":        &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"volume_ids":    &hcldec.AttrSpec{Name: "volume_ids", Type: cty.List(cty.String)},
		"volumes":       &hcldec.AttrSpec{Name: "volumes", Type: ebsVolumesType},
		"per_instance":  &hcldec.AttrSpec{Name: "per_instance", Type: cty.Bool},
		"tags":          &hcldec.AttrSpec{Name: "tags", Type: cty.Map(cty.String)},
		"wait_for":      &hcldec.AttrSpec{Name: "wait_for", Type: cty.String},
		"poll_interval": &hcldec.AttrSpec{Name: "poll_interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (*EBSSnapshot) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{
		"snapshot_ids": cty.List(cty.String),
		"volume_ids":   cty.List(cty.String),
	})
}

// ValidateConfig implements runbook.ConfigValidator.
func (t *EBSSnapshot) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	return configErrors(specNames(t.Spec()), t.validate(cfg))
}

// Destructive implements runbook.StepType: snapshots only add.
func (*EBSSnapshot) Destructive() bool { return false }

// ebsCall is one create call Apply makes: CreateSnapshots for an instance
// (crash-consistent across its volumes) or CreateSnapshot for one volume.
type ebsCall struct {
	instance     string   // empty: CreateSnapshot of volumes[0]
	volumes      []string // the selected volumes this call snapshots
	excludeBoot  bool
	excludeData  []string
	volumeLabels []string // "vol-1 (name)" for the plan
}

func (c ebsCall) change() runbook.Change {
	if c.instance == "" {
		return runbook.Change{Action: "CreateSnapshot", Target: c.volumeLabels[0]}
	}
	return runbook.Change{Action: "CreateSnapshots", Target: c.instance,
		Detail: "crash-consistent: " + strings.Join(c.volumeLabels, ", ")}
}

// ebsState is what Plan and Apply find before acting.
type ebsState struct {
	volumes  []ec2types.Volume
	existing map[string]ec2types.Snapshot // by volume id, from this run and step
	calls    []ebsCall
}

func (t *EBSSnapshot) validate(cfg cty.Value) error {
	byIDs, byTags := cfgSet(cfg, "volume_ids"), cfgSet(cfg, "volumes")
	if byIDs == byTags {
		return errors.New("set exactly one of volume_ids and volumes = { tags = {...} }")
	}
	if byTags && cfgKnown(cfg, "volumes") && len(stringMap(attr(cfg, "volumes").GetAttr("tags"))) == 0 {
		return errors.New("volumes needs tags = { KEY = \"VALUE\", ... } to choose volumes by")
	}
	if byIDs && cfgKnown(cfg, "volume_ids") && len(cfgStrings(cfg, "volume_ids")) == 0 {
		return errors.New("volume_ids is empty")
	}
	if _, err := cfgDuration(cfg, "wait_for", 0); err != nil {
		return err
	}
	_, err := cfgPollInterval(cfg, ebsDefaultPoll)
	return err
}

// Plan implements runbook.StepType.
func (t *EBSSnapshot) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	if err := t.validate(cfg); err != nil {
		return nil, err
	}
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "volume_ids") || !cfgKnown(cfg, "volumes") || !cfgKnown(cfg, "per_instance") {
		return []runbook.Change{{Action: "CreateSnapshot", Target: "volumes chosen at apply"}}, nil
	}
	region, _ := cfgRegion(cfg)
	client, err := t.clients.EC2(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("ebs_snapshot: EC2 client for %s: %w", region, err)
	}
	st, err := t.survey(ctx, sc, client, cfg)
	if err != nil {
		return nil, err
	}
	var changes []runbook.Change
	for _, v := range st.volumes {
		if s, ok := st.existing[aws.ToString(v.VolumeId)]; ok {
			changes = append(changes, runbook.Change{Action: "keep", Target: volumeLabel(v),
				Detail: "snapshot " + aws.ToString(s.SnapshotId) + " from an earlier attempt"})
		}
	}
	for _, c := range st.calls {
		changes = append(changes, c.change())
	}
	return changes, nil
}

// survey resolves the volumes, finds this step's snapshots from earlier
// attempts and works out the create calls still needed. It only reads.
func (t *EBSSnapshot) survey(ctx context.Context, sc *runbook.StepContext, client *ec2.Client, cfg cty.Value) (*ebsState, error) {
	vols, err := t.volumes(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	snaps, err := stepSnapshots(ctx, client, sc)
	if err != nil {
		return nil, err
	}
	st := &ebsState{volumes: vols, existing: map[string]ec2types.Snapshot{}}
	for _, s := range snaps {
		if s.State == ec2types.SnapshotStateError {
			continue // a failed snapshot from an earlier attempt is taken again
		}
		st.existing[aws.ToString(s.VolumeId)] = s
	}
	var todo []ec2types.Volume
	for _, v := range vols {
		if _, ok := st.existing[aws.ToString(v.VolumeId)]; !ok {
			todo = append(todo, v)
		}
	}
	if !cfgBool(cfg, "per_instance") {
		for _, v := range todo {
			st.calls = append(st.calls, ebsCall{volumes: []string{aws.ToString(v.VolumeId)}, volumeLabels: []string{volumeLabel(v)}})
		}
		return st, nil
	}
	byInstance := map[string][]ec2types.Volume{}
	for _, v := range todo {
		inst := attachedInstance(v)
		if inst == "" {
			// A detached volume has no instance to be consistent with.
			st.calls = append(st.calls, ebsCall{volumes: []string{aws.ToString(v.VolumeId)}, volumeLabels: []string{volumeLabel(v)}})
			continue
		}
		byInstance[inst] = append(byInstance[inst], v)
	}
	for _, inst := range sortedKeys(byInstance) {
		c, err := instanceCall(ctx, client, inst, byInstance[inst])
		if err != nil {
			return nil, err
		}
		st.calls = append(st.calls, c)
	}
	return st, nil
}

// instanceCall builds the CreateSnapshots call that snapshots exactly the
// given volumes of an instance, excluding its other volumes.
func instanceCall(ctx context.Context, client *ec2.Client, instance string, want []ec2types.Volume) (ebsCall, error) {
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
	if err != nil {
		return ebsCall{}, fmt.Errorf("ebs_snapshot: describe instance %s: %w", instance, err)
	}
	var in *ec2types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == instance {
				in = &r.Instances[i]
			}
		}
	}
	if in == nil {
		return ebsCall{}, fmt.Errorf("ebs_snapshot: instance %s not found", instance)
	}
	selected := map[string]bool{}
	c := ebsCall{instance: instance, excludeBoot: true}
	for _, v := range want {
		selected[aws.ToString(v.VolumeId)] = true
		c.volumes = append(c.volumes, aws.ToString(v.VolumeId))
		c.volumeLabels = append(c.volumeLabels, volumeLabel(v))
	}
	for _, m := range in.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		id := aws.ToString(m.Ebs.VolumeId)
		boot := aws.ToString(m.DeviceName) == rootDevice(in)
		switch {
		case boot:
			c.excludeBoot = !selected[id]
		case !selected[id]:
			c.excludeData = append(c.excludeData, id)
		}
	}
	return c, nil
}

// rootDevice names the instance's boot device; when the answer leaves it
// out, the usual default of the instance's AMI family.
func rootDevice(in *ec2types.Instance) string {
	if d := aws.ToString(in.RootDeviceName); d != "" {
		return d
	}
	return "/dev/xvda"
}

func attachedInstance(v ec2types.Volume) string {
	for _, a := range v.Attachments {
		if a.State == ec2types.VolumeAttachmentStateAttached || a.State == ec2types.VolumeAttachmentStateAttaching {
			return aws.ToString(a.InstanceId)
		}
	}
	return ""
}

func volumeLabel(v ec2types.Volume) string {
	id := aws.ToString(v.VolumeId)
	for _, tg := range v.Tags {
		if aws.ToString(tg.Key) == "Name" && aws.ToString(tg.Value) != "" {
			return id + " (" + aws.ToString(tg.Value) + ")"
		}
	}
	return id
}

// volumes resolves the step's volumes, ordered by id.
func (t *EBSSnapshot) volumes(ctx context.Context, client *ec2.Client, cfg cty.Value) ([]ec2types.Volume, error) {
	in := &ec2.DescribeVolumesInput{}
	what := ""
	if ids := cfgStrings(cfg, "volume_ids"); len(ids) > 0 {
		in.VolumeIds = ids
		what = "volumes " + strings.Join(ids, ", ")
	} else {
		tags := stringMap(attr(cfg, "volumes").GetAttr("tags"))
		var parts []string
		for _, k := range sortedKeys(tags) {
			in.Filters = append(in.Filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{tags[k]}})
			parts = append(parts, k+"="+tags[k])
		}
		what = "volumes tagged " + strings.Join(parts, ", ")
	}
	var vols []ec2types.Volume
	p := ec2.NewDescribeVolumesPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ebs_snapshot: describe %s: %w", what, err)
		}
		vols = append(vols, page.Volumes...)
	}
	if len(vols) == 0 {
		return nil, fmt.Errorf("ebs_snapshot: no %s", what)
	}
	if ids := in.VolumeIds; len(ids) > 0 {
		found := map[string]bool{}
		for _, v := range vols {
			found[aws.ToString(v.VolumeId)] = true
		}
		var missing []string
		for _, id := range ids {
			if !found[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("ebs_snapshot: volumes not found: %s", strings.Join(missing, ", "))
		}
	}
	sort.Slice(vols, func(i, j int) bool { return aws.ToString(vols[i].VolumeId) < aws.ToString(vols[j].VolumeId) })
	return vols, nil
}

// stepSnapshots lists the snapshots this run's step has created, in any
// state.
func stepSnapshots(ctx context.Context, client *ec2.Client, sc *runbook.StepContext) ([]ec2types.Snapshot, error) {
	in := &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + tagRunID), Values: []string{sc.RunID}},
			{Name: aws.String("tag:" + tagStep), Values: []string{sc.Address}},
		},
	}
	var out []ec2types.Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ebs_snapshot: find snapshots of run %s: %w", sc.RunID, err)
		}
		out = append(out, page.Snapshots...)
	}
	return out, nil
}

// Apply implements runbook.StepType.
func (t *EBSSnapshot) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	if err := t.validate(cfg); err != nil {
		return cty.NilVal, err
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	waitFor, _ := cfgDuration(cfg, "wait_for", 0)
	interval, _ := cfgPollInterval(cfg, ebsDefaultPoll)
	client, err := t.clients.EC2(ctx, region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("ebs_snapshot: EC2 client for %s: %w", region, err)
	}
	st, err := t.survey(ctx, sc, client, cfg)
	if err != nil {
		return cty.NilVal, err
	}
	snapOf := map[string]string{} // volume id -> snapshot id
	for vol, s := range st.existing {
		snapOf[vol] = aws.ToString(s.SnapshotId)
		logLine(sc, "snapshot %s of %s found from an earlier attempt", aws.ToString(s.SnapshotId), vol)
	}
	tags := t.tags(sc, cfg)
	for _, c := range st.calls {
		created, err := t.create(ctx, client, c, tags)
		if err != nil {
			return cty.NilVal, err
		}
		for vol, snap := range created {
			snapOf[vol] = snap
			logLine(sc, "snapshot %s of %s started", snap, vol)
		}
	}
	var volIDs, snapIDs []string
	for _, v := range st.volumes {
		id := aws.ToString(v.VolumeId)
		snap, ok := snapOf[id]
		if !ok {
			return cty.NilVal, fmt.Errorf("ebs_snapshot: no snapshot was started for %s", id)
		}
		volIDs = append(volIDs, id)
		snapIDs = append(snapIDs, snap)
	}
	now := clockOf(sc)
	bound := waitBound(ctx, now, waitFor, ebsDefaultWait)
	fetch := func(ctx context.Context) (map[string]ec2types.Snapshot, error) {
		return snapshotStates(ctx, client, sc)
	}
	if err := waitSnapshots(ctx, fetch, now, interval, bound, snapIDs, func(done, total int) {
		progress(sc, int64(done), int64(total), "snapshots")
	}); err != nil {
		return cty.NilVal, err
	}
	return cty.ObjectVal(map[string]cty.Value{
		"snapshot_ids": stringList(snapIDs),
		"volume_ids":   stringList(volIDs),
	}), nil
}

func (t *EBSSnapshot) tags(sc *runbook.StepContext, cfg cty.Value) []ec2types.Tag {
	user := cfgStringMap(cfg, "tags")
	var tags []ec2types.Tag
	for _, k := range sortedKeys(user) {
		if k == tagRunID || k == tagStep {
			continue
		}
		tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(user[k])})
	}
	return append(tags,
		ec2types.Tag{Key: aws.String(tagRunID), Value: aws.String(sc.RunID)},
		ec2types.Tag{Key: aws.String(tagStep), Value: aws.String(sc.Address)})
}

// create makes one create call and returns the snapshots it started by
// volume id.
func (t *EBSSnapshot) create(ctx context.Context, client *ec2.Client, c ebsCall, tags []ec2types.Tag) (map[string]string, error) {
	spec := []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}
	desc := "drconsole " + tagValue(tags, tagStep)
	if c.instance == "" {
		out, err := client.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
			VolumeId: aws.String(c.volumes[0]), Description: aws.String(desc), TagSpecifications: spec,
		})
		if err != nil {
			return nil, fmt.Errorf("ebs_snapshot: create snapshot of %s: %w", c.volumes[0], err)
		}
		return map[string]string{c.volumes[0]: aws.ToString(out.SnapshotId)}, nil
	}
	in := &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{
			InstanceId:        aws.String(c.instance),
			ExcludeBootVolume: aws.Bool(c.excludeBoot),
		},
		Description:       aws.String(desc),
		TagSpecifications: spec,
	}
	if len(c.excludeData) > 0 {
		in.InstanceSpecification.ExcludeDataVolumeIds = c.excludeData
	}
	out, err := client.CreateSnapshots(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("ebs_snapshot: create snapshots of instance %s: %w", c.instance, err)
	}
	got := map[string]string{}
	for _, s := range out.Snapshots {
		got[aws.ToString(s.VolumeId)] = aws.ToString(s.SnapshotId)
	}
	for _, v := range c.volumes {
		if got[v] == "" {
			return nil, fmt.Errorf("ebs_snapshot: create snapshots of instance %s returned no snapshot of %s", c.instance, v)
		}
	}
	return got, nil
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// snapshotFetch reads the current state of snapshots by id.
type snapshotFetch func(ctx context.Context) (map[string]ec2types.Snapshot, error)

// waitSnapshots polls until every snapshot is completed, failing at once
// when one is in error and with errWaitBound when bound passes first.
func waitSnapshots(ctx context.Context, fetch snapshotFetch, now func() time.Time, interval, bound time.Duration,
	ids []string, report func(done, total int)) error {
	if len(ids) == 0 {
		return nil
	}
	var pending []string
	err := pollUntil(ctx, now, interval, bound, func(ctx context.Context) (bool, error) {
		states, err := fetch(ctx)
		if err != nil {
			return false, err
		}
		done := 0
		pending = pending[:0]
		for _, id := range ids {
			s, ok := states[id]
			switch {
			case ok && s.State == ec2types.SnapshotStateError:
				msg := aws.ToString(s.StateMessage)
				if msg == "" {
					msg = "no reason given"
				}
				return false, fmt.Errorf("ebs_snapshot: snapshot %s of %s failed: %s", id, aws.ToString(s.VolumeId), msg)
			case ok && s.State == ec2types.SnapshotStateCompleted:
				done++
			default:
				pending = append(pending, id)
			}
		}
		report(done, len(ids))
		return done == len(ids), nil
	})
	if errors.Is(err, errWaitBound) {
		return fmt.Errorf("ebs_snapshot: snapshots still pending (%s): %w", strings.Join(pending, ", "), err)
	}
	return err
}

func snapshotStates(ctx context.Context, client *ec2.Client, sc *runbook.StepContext) (map[string]ec2types.Snapshot, error) {
	// The step's tags find its snapshots: one not yet visible is pending,
	// not an InvalidSnapshot.NotFound error as with SnapshotIds.
	snaps, err := stepSnapshots(ctx, client, sc)
	if err != nil {
		return nil, err
	}
	out := map[string]ec2types.Snapshot{}
	for _, s := range snaps {
		out[aws.ToString(s.SnapshotId)] = s
	}
	return out, nil
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

// RecoveryPoints implements runbook.RecoveryPointer: a snapshot taken
// during recovery restores nothing.
func (*EBSSnapshot) RecoveryPoints(runbook.FinishedDrillStep) []runbook.RecoveryPoint { return nil }

// LoggedParams implements runbook.APIParams.
func (*EBSSnapshot) LoggedParams() []string {
	return []string{"VolumeId", "VolumeIds", "SnapshotId", "SnapshotIds", "InstanceId", "InstanceIds"}
}
