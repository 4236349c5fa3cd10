package sandbox_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/drconsole/drconsole/internal/sandbox"
)

func TestEC2VolumesFiltersAndPagination(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 7})
	c := ec2.NewFromConfig(e.cfg)
	ds := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"ai-dataset"}}}}))(t)
	if len(ds.Volumes) != 3 {
		t.Fatalf("%d dataset volumes, want 3", len(ds.Volumes))
	}
	for _, v := range ds.Volumes {
		if v.State != ec2types.VolumeStateInUse || len(v.Attachments) != 1 {
			t.Errorf("volume %s: state %s, %d attachments; want in-use, attached", *v.VolumeId, v.State, len(v.Attachments))
		}
	}
	one := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("volume-id"), Values: []string{*ds.Volumes[1].VolumeId}},
		{Name: aws.String("status"), Values: []string{"in-use"}},
		{Name: aws.String("tag-key"), Values: []string{"dataset"}}}}))(t)
	if len(one.Volumes) != 1 || *one.Volumes[0].VolumeId != *ds.Volumes[1].VolumeId {
		t.Fatalf("volume-id filter: %d volumes", len(one.Volumes))
	}
	for i := 0; i < 7; i++ {
		must(c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1b"), Size: aws.Int32(10),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume,
				Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("scratch")}}}}}))(t)
	}
	p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5),
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"scr*"}}}})
	pages, total := 0, 0
	for p.HasMorePages() {
		out := must(p.NextPage(e.ctx))(t)
		pages++
		total += len(out.Volumes)
		for _, v := range out.Volumes {
			if v.State != ec2types.VolumeStateAvailable {
				t.Errorf("new volume %s is %s", *v.VolumeId, v.State)
			}
		}
	}
	if pages != 2 || total != 7 {
		t.Fatalf("paged %d volumes over %d pages, want 7 over 2", total, pages)
	}
	_, err := c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	wantCode(t, err, "InvalidVolume.NotFound", 400)
	_, err = c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(2)})
	wantCode(t, err, "InvalidParameterValue", 400)
	_, err = c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue", 400)
	// Volumes are regional.
	dr := must(ec2.NewFromConfig(e.region("us-west-2")).DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t)
	if len(dr.Volumes) != 0 {
		t.Fatalf("%d volumes in the DR region, want 0", len(dr.Volumes))
	}
}

func TestEC2SnapshotsProgressAndVolumes(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 7, SnapshotDuration: 100 * time.Second})
	c := ec2.NewFromConfig(e.cfg)
	vols := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"ai-dataset"}}}}))(t).Volumes
	snap := must(c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vols[0].VolumeId, Description: aws.String("drill"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
			Tags: []ec2types.Tag{{Key: aws.String("run"), Value: aws.String("r1")}}}}}))(t)
	if snap.State != ec2types.SnapshotStatePending || *snap.Progress != "0%" || *snap.VolumeSize != *vols[0].Size {
		t.Fatalf("new snapshot: %s %s size %d", snap.State, *snap.Progress, *snap.VolumeSize)
	}
	describe := func() ec2types.Snapshot {
		out := must(c.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("tag:run"), Values: []string{"r1"}}}}))(t)
		if len(out.Snapshots) != 1 {
			t.Fatalf("%d snapshots tagged run=r1, want 1", len(out.Snapshots))
		}
		return out.Snapshots[0]
	}
	e.advance(50 * time.Second)
	if s := describe(); s.State != ec2types.SnapshotStatePending || *s.Progress != "50%" {
		t.Fatalf("half way: %s %s", s.State, *s.Progress)
	}
	_, err := c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: snap.SnapshotId})
	wantCode(t, err, "IncorrectState", 400)
	e.advance(50 * time.Second)
	if s := describe(); s.State != ec2types.SnapshotStateCompleted || *s.Progress != "100%" {
		t.Fatalf("done: %s %s", s.State, *s.Progress)
	}
	v := must(c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: snap.SnapshotId}))(t)
	if *v.Size != *vols[0].Size || *v.SnapshotId != *snap.SnapshotId {
		t.Fatalf("volume from snapshot: size %d snapshot %s", *v.Size, *v.SnapshotId)
	}

	// A snapshot tagged sandbox:fail ends in error.
	bad := must(c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vols[1].VolumeId,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
			Tags: []ec2types.Tag{{Key: aws.String("sandbox:fail"), Value: aws.String("1")}}}}}))(t)
	e.advance(100 * time.Second)
	got := must(c.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{*bad.SnapshotId}}))(t)
	if got.Snapshots[0].State != ec2types.SnapshotStateError {
		t.Fatalf("failing snapshot is %s, want error", got.Snapshots[0].State)
	}

	// CreateSnapshots covers every volume of the instance.
	inst := must(c.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{sandbox.DefaultNames().DataLoader}}}}))(t)
	if len(inst.Reservations) != 1 || len(inst.Reservations[0].Instances) != 1 {
		t.Fatalf("data loader instance not found")
	}
	in := inst.Reservations[0].Instances[0]
	if len(in.BlockDeviceMappings) != 3 || in.State.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("data loader: %d devices, %s", len(in.BlockDeviceMappings), in.State.Name)
	}
	multi := must(c.CreateSnapshots(e.ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: in.InstanceId},
		CopyTagsFromSource: ec2types.CopyTagsFromSourceVolume}))(t)
	if len(multi.Snapshots) != 3 {
		t.Fatalf("CreateSnapshots made %d snapshots, want 3", len(multi.Snapshots))
	}
	for _, s := range multi.Snapshots {
		if s.State != ec2types.SnapshotStatePending || len(s.Tags) == 0 {
			t.Errorf("snapshot %s: %s, tags %v", *s.SnapshotId, s.State, s.Tags)
		}
	}
	_, err = c.CreateSnapshots(e.ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String("i-0000000000000000")}})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-0000000000000000")})
	wantCode(t, err, "InvalidVolume.NotFound", 400)
	_, err = c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vols[0].VolumeId, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation", 412)

	// Pagination over snapshots by volume.
	p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5), OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{*vols[0].VolumeId}}}})
	n := 0
	for p.HasMorePages() {
		n += len(must(p.NextPage(e.ctx))(t).Snapshots)
	}
	if want := 14 + 2 + 2; n != want { // daily backups + two seeded by hand + CreateSnapshot + CreateSnapshots
		t.Fatalf("%d snapshots of volume 0, want %d", n, want)
	}
}

func TestEC2Tags(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 3})
	c := ec2.NewFromConfig(e.cfg)
	vols := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
	must(c.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{*vols[0].VolumeId},
		Tags: []ec2types.Tag{{Key: aws.String("owner"), Value: aws.String("ml")}, {Key: aws.String("Name"), Value: aws.String("renamed")}}}))(t)
	tags := must(c.DescribeTags(e.ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: []string{*vols[0].VolumeId}}}}))(t).Tags
	got := map[string]string{}
	for _, tg := range tags {
		got[*tg.Key] = *tg.Value
		if tg.ResourceType != ec2types.ResourceTypeVolume {
			t.Errorf("tag %s: resource type %s", *tg.Key, tg.ResourceType)
		}
	}
	if got["owner"] != "ml" || got["Name"] != "renamed" {
		t.Fatalf("tags after CreateTags: %v", got)
	}
	_, err := c.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{"vol-0nope"}, Tags: []ec2types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, err, "InvalidVolume.NotFound", 400)
}
