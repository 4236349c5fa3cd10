package sandbox_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/drconsole/drconsole/internal/sandbox"
)

func tagMap[T any](tags []T, kv func(T) (*string, *string)) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		k, v := kv(t)
		out[aws.ToString(k)] = aws.ToString(v)
	}
	return out
}

// The seeded estate carries the role and objective tags, and the
// resources of no role a real estate has beside its recovery path.
func TestSeedRolesAndDistractors(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 5})
	n := sandbox.DefaultNames()
	s3c := s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.UsePathStyle = true })

	for bucket, role := range map[string]string{n.ModelBucket: "model-artifacts", n.ReplicaBucket: "replica"} {
		region := n.PrimaryRegion
		if bucket == n.ReplicaBucket {
			region = n.DRRegion
		}
		out := must(s3c.GetBucketTagging(e.ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)},
			func(o *s3.Options) { o.Region = region }))(t)
		tags := tagMap(out.TagSet, func(t s3types.Tag) (*string, *string) { return t.Key, t.Value })
		if tags["drconsole:role"] != role {
			t.Errorf("bucket %s: tags %v, want drconsole:role=%s", bucket, tags, role)
		}
	}
	ver := must(s3c.GetBucketVersioning(e.ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(n.LogsBucket)}))(t)
	if ver.Status != "" {
		t.Errorf("logs bucket versioning %q, want none", ver.Status)
	}
	_, err := s3c.GetBucketTagging(e.ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(n.LogsBucket)})
	wantCode(t, err, "NoSuchTagSet", 404)
	if objs := must(s3c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(n.LogsBucket)}))(t); len(objs.Contents) == 0 {
		t.Error("logs bucket is empty")
	}

	as := autoscaling.NewFromConfig(e.region(n.DRRegion))
	groups := must(as.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{}))(t).AutoScalingGroups
	roles := map[string]string{}
	for _, g := range groups {
		roles[aws.ToString(g.AutoScalingGroupName)] = "(none)"
		for _, tg := range g.Tags {
			if aws.ToString(tg.Key) == "drconsole:role" {
				roles[aws.ToString(g.AutoScalingGroupName)] = aws.ToString(tg.Value)
			}
		}
	}
	if len(roles) != 2 || roles[n.DRGroup] != "dr-fleet" || roles[n.BatchGroup] != "(none)" {
		t.Errorf("DR region groups and roles %v", roles)
	}

	c := ec2.NewFromConfig(e.cfg)
	vols := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{}))(t).Volumes
	var dataset []string
	scratch := 0
	for _, v := range vols {
		tags := tagMap(v.Tags, func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
		switch tags["Name"] {
		case n.DatasetTag:
			dataset = append(dataset, aws.ToString(v.VolumeId))
			if tags["drconsole:role"] != "dataset" || tags["drconsole:rpo"] != "24h" {
				t.Errorf("dataset volume %s tags %v", aws.ToString(v.VolumeId), tags)
			}
		case n.ScratchTag:
			scratch++
			if _, ok := tags["drconsole:role"]; ok || len(v.Attachments) != 0 || v.State != ec2types.VolumeStateAvailable {
				t.Errorf("scratch volume: tags %v, %d attachments, %s", tags, len(v.Attachments), v.State)
			}
		}
	}
	if len(dataset) != 3 || scratch != 1 {
		t.Fatalf("%d dataset and %d scratch volumes, want 3 and 1", len(dataset), scratch)
	}

	// Snapshots taken by hand carry no AWS Backup tags; one is pending.
	snaps := must(c.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{n.DatasetTag}}}}))(t).Snapshots
	var pending []ec2types.Snapshot
	for _, s := range snaps {
		if s.StartTime == nil || s.Progress == nil || s.VolumeId == nil {
			t.Errorf("snapshot %s lacks start time, progress or volume", aws.ToString(s.SnapshotId))
		}
		if s.State == ec2types.SnapshotStatePending {
			pending = append(pending, s)
		}
	}
	if len(snaps) != 4 || len(pending) != 1 {
		t.Fatalf("%d dataset snapshots (%d pending), want 4 (1)", len(snaps), len(pending))
	}
	if p := aws.ToString(pending[0].Progress); p != "42%" || aws.ToString(pending[0].VolumeId) != dataset[0] {
		t.Errorf("pending snapshot: progress %s of %s", p, aws.ToString(pending[0].VolumeId))
	}
	// It keeps progressing on the sandbox's clock, not the test's.
	e.advance(time.Hour)
	got := must(c.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{*pending[0].SnapshotId}}))(t).Snapshots
	if got[0].State != ec2types.SnapshotStatePending || aws.ToString(got[0].Progress) != "62%" {
		t.Errorf("an hour later: %s %s", got[0].State, aws.ToString(got[0].Progress))
	}
}
