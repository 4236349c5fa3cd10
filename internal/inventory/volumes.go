package inventory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/drconsole/drconsole/internal/awsx"
)

// Volume is an EBS volume.
type Volume struct {
	ID, Region, Zone, State, Type string
	Name                          string // its Name tag, "" when untagged
	SizeGiB                       int32
	Created                       time.Time
	Tags                          map[string]string
	Attached                      []string // instance ids
}

// Snapshot is an EBS snapshot, taken by AWS Backup or not.
type Snapshot struct {
	ID, VolumeID, Region string
	State                string // pending, completed, error, ...
	Progress             string // "42%" as EC2 reports it
	Started              time.Time
	SizeGiB              int32
	Description          string
	Tags                 map[string]string
	// Vault is the AWS Backup vault holding it as a recovery point; "" for
	// a plain EBS snapshot.
	Vault string
}

// Volumes lists the EBS volumes in region, by Name tag then id.
func Volumes(ctx context.Context, c awsx.ClientSource, region string) ([]Volume, error) {
	cl, err := c.EC2(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("describe volumes in %s: %w", region, err)
	}
	var out []Volume
	p := ec2.NewDescribeVolumesPaginator(cl, &ec2.DescribeVolumesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe volumes in %s: %w", region, err)
		}
		for _, v := range page.Volumes {
			vol := Volume{ID: aws.ToString(v.VolumeId), Region: region, Zone: aws.ToString(v.AvailabilityZone),
				State: string(v.State), Type: string(v.VolumeType), SizeGiB: aws.ToInt32(v.Size),
				Created: aws.ToTime(v.CreateTime), Tags: ec2Tags(v.Tags)}
			vol.Name = vol.Tags["Name"]
			for _, a := range v.Attachments {
				if id := aws.ToString(a.InstanceId); id != "" {
					vol.Attached = append(vol.Attached, id)
				}
			}
			out = append(out, vol)
		}
	}
	slices.SortFunc(out, func(a, b Volume) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Snapshots lists the EBS snapshots the account owns in region, newest
// first. Public and shared snapshots are left out: they protect nothing of
// the operator's.
func Snapshots(ctx context.Context, c awsx.ClientSource, region string) ([]Snapshot, error) {
	cl, err := c.EC2(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("describe snapshots in %s: %w", region, err)
	}
	var out []Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(cl, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe snapshots in %s: %w", region, err)
		}
		for _, s := range page.Snapshots {
			out = append(out, Snapshot{ID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId), Region: region,
				State: string(s.State), Progress: aws.ToString(s.Progress), Started: aws.ToTime(s.StartTime),
				SizeGiB: aws.ToInt32(s.VolumeSize), Description: aws.ToString(s.Description), Tags: ec2Tags(s.Tags)})
		}
	}
	sortNewestFirst(out)
	return out, nil
}

// sortNewestFirst orders snapshots by start time, newest first, id breaking
// ties so the order is stable across reads.
func sortNewestFirst(s []Snapshot) {
	slices.SortFunc(s, func(a, b Snapshot) int { return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(a.ID, b.ID)) })
}

func ec2Tags(ts []ec2types.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// VolumeCover is a volume with its newest completed snapshot and those in
// progress.
type VolumeCover struct {
	Volume Volume
	// Newest is the newest completed snapshot of the volume, plain or AWS
	// Backup's; nil when there is none.
	Newest *Snapshot
	// InProgress are the volume's pending snapshots, newest first.
	InProgress []Snapshot
}

// snapshotARNPart is what follows the region in an EBS recovery point's ARN
// (arn:aws:ec2:REGION::snapshot/snap-...): AWS Backup names the snapshot
// it took.
const snapshotARNPart = "::snapshot/"

// CoverVolumes joins volumes with their snapshots and with AWS Backup's
// recovery points of EBS volumes. A recovery point whose snapshot is also
// listed is one snapshot, with Vault set; a completed recovery point whose
// snapshot is not listed (another account's vault, or a page not read)
// still counts, its id taken from its ARN and its start from its creation.
func CoverVolumes(vols []Volume, snaps []Snapshot, points []RecoveryPoint) []VolumeCover {
	type at struct {
		vol string
		i   int
	}
	byVol := make(map[string][]Snapshot)
	seen := make(map[string]at) // snapshot id -> where it is in byVol
	for _, s := range snaps {
		if s.VolumeID == "" {
			continue
		}
		seen[s.ID] = at{s.VolumeID, len(byVol[s.VolumeID])}
		byVol[s.VolumeID] = append(byVol[s.VolumeID], s)
	}
	for _, p := range points {
		volID, ok := volumeOfARN(p.ResourceARN)
		if !ok {
			continue
		}
		snapID, ok := snapshotOfARN(p.ARN)
		if !ok {
			continue
		}
		if w, ok := seen[snapID]; ok {
			byVol[w.vol][w.i].Vault = p.Vault
			continue
		}
		state := "pending"
		switch p.Status {
		case "COMPLETED":
			state = "completed"
		case "PARTIAL", "EXPIRED", "DELETING", "STOPPED":
			continue
		}
		seen[snapID] = at{volID, len(byVol[volID])}
		byVol[volID] = append(byVol[volID], Snapshot{ID: snapID, VolumeID: volID, Region: regionOfARN(p.ARN),
			State: state, Started: p.Created, SizeGiB: int32(p.Size >> 30), Vault: p.Vault})
	}
	out := make([]VolumeCover, 0, len(vols))
	for _, v := range vols {
		c := VolumeCover{Volume: v}
		ss := slices.Clone(byVol[v.ID])
		sortNewestFirst(ss)
		for i := range ss {
			switch ss[i].State {
			case string(ec2types.SnapshotStateCompleted):
				if c.Newest == nil {
					c.Newest = &ss[i]
				}
			case string(ec2types.SnapshotStatePending):
				c.InProgress = append(c.InProgress, ss[i])
			}
		}
		out = append(out, c)
	}
	return out
}

// volumeOfARN reads the volume id of arn:aws:ec2:REGION:ACCOUNT:volume/vol-....
func volumeOfARN(arn string) (string, bool) {
	if !strings.HasPrefix(arn, "arn:") {
		return "", false
	}
	_, id, ok := strings.Cut(arn, ":volume/")
	return id, ok && id != ""
}

// snapshotOfARN reads the snapshot id of an EBS recovery point's ARN.
func snapshotOfARN(arn string) (string, bool) {
	if !strings.HasPrefix(arn, "arn:") {
		return "", false
	}
	_, id, ok := strings.Cut(arn, snapshotARNPart)
	return id, ok && id != ""
}

// regionOfARN is the fourth field of an ARN.
func regionOfARN(arn string) string {
	f := strings.SplitN(arn, ":", 5)
	if len(f) < 5 {
		return ""
	}
	return f[3]
}
