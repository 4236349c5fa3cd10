package sandbox_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/sandbox"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestEC2DeleteVolumeAndSnapshot(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 7})
	c := ec2.NewFromConfig(e.cfg)
	attached := must(c.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"ai-dataset"}}}}))(t).Volumes[0]
	if _, err := c.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: attached.VolumeId}); apiCode(err) != "VolumeInUse" {
		t.Errorf("delete an attached volume: %v, want VolumeInUse", err)
	}
	snap := must(c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: attached.VolumeId}))(t)
	v := must(c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10)}))(t)
	must(c.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}))(t)
	if _, err := c.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}); apiCode(err) != "InvalidVolume.NotFound" {
		t.Errorf("delete a deleted volume: %v", err)
	}
	// A pending snapshot can be deleted, as a drill's teardown does.
	must(c.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}))(t)
	if _, err := c.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}); apiCode(err) != "InvalidSnapshot.NotFound" {
		t.Errorf("delete a deleted snapshot: %v", err)
	}
}
