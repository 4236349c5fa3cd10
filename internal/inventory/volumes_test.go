package inventory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/inventory"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/estatetest"
)

// startNamed starts a sandbox seeded under names, with clients that try
// each call once so an injected fault surfaces at once.
func startNamed(t *testing.T, n sandbox.Names) (*sandbox.Server, awsx.ClientSource) {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Seed: 1, Clock: func() time.Time { return fixedNow }, Names: n})
	c, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL(), Credentials: cfg.Credentials, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// TestEstateReadsCarryTags: buckets, groups and volumes are read with the
// tags that classify them, and a bucket without tags has none (S3 answers
// NoSuchTagSet, which is not an error).
func TestEstateReadsCarryTags(t *testing.T) {
	n := estatetest.AcmeNames()
	_, c := startNamed(t, n)
	ctx := context.Background()

	buckets, err := inventory.Buckets(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inventory.Bucket{}
	for _, b := range buckets {
		byName[b.Name] = b
	}
	if got := byName[n.ModelBucket].Tags["drconsole:role"]; got != "model-artifacts" {
		t.Errorf("%s role tag = %q, want model-artifacts (tags %v)", n.ModelBucket, got, byName[n.ModelBucket].Tags)
	}
	if b, ok := byName[n.LogsBucket]; !ok || b.Tags["drconsole:role"] != "" {
		t.Errorf("%s: listed %v, tags %v; want listed without a role", n.LogsBucket, ok, b.Tags)
	}

	groups, err := inventory.Groups(ctx, c, "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, g := range groups {
		roles[g.Name] = g.Tags["drconsole:role"]
	}
	if roles[n.DRGroup] != "dr-fleet" || roles[n.BatchGroup] != "" {
		t.Errorf("group roles %v: want %s dr-fleet and %s none", roles, n.DRGroup, n.BatchGroup)
	}

	vols, err := inventory.Volumes(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	var dataset, scratch int
	for i, v := range vols {
		if i > 0 && vols[i-1].Name > v.Name {
			t.Errorf("volumes not ordered by name at %d: %q after %q", i, v.Name, vols[i-1].Name)
		}
		switch v.Name {
		case n.DatasetTag:
			dataset++
			if v.Tags["drconsole:role"] != "dataset" || v.Tags["drconsole:rpo"] == "" || len(v.Attached) != 1 || v.SizeGiB == 0 {
				t.Errorf("dataset volume %+v: want role, rpo, one attachment and a size", v)
			}
		case n.ScratchTag:
			scratch++
			if v.Tags["drconsole:role"] != "" || len(v.Attached) != 0 {
				t.Errorf("scratch volume %+v: want no role and no attachment", v)
			}
		}
	}
	if dataset == 0 || scratch != 1 {
		t.Fatalf("%d dataset and %d scratch volumes in %+v", dataset, scratch, vols)
	}
}

// TestVolumeCoverOnSandbox: each dataset volume's newest completed
// snapshot is found, AWS Backup's carry their vault, the snapshot in
// progress is reported with its progress, and the scratch volume has none.
func TestVolumeCoverOnSandbox(t *testing.T) {
	n := estatetest.AcmeNames()
	_, c := startNamed(t, n)
	ctx := context.Background()
	vols, err := inventory.Volumes(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := inventory.Snapshots(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(snaps); i++ {
		if snaps[i].Started.After(snaps[i-1].Started) {
			t.Fatalf("snapshots not newest first at %d", i)
		}
	}
	pts, err := inventory.RecoveryPoints(ctx, c, "us-east-1", n.BackupVault)
	if err != nil {
		t.Fatal(err)
	}
	covers := inventory.CoverVolumes(vols, snaps, pts)
	if len(covers) != len(vols) {
		t.Fatalf("%d covers for %d volumes", len(covers), len(vols))
	}
	pending := 0
	for _, cv := range covers {
		switch cv.Volume.Name {
		case n.ScratchTag:
			if cv.Newest != nil || len(cv.InProgress) != 0 {
				t.Errorf("scratch volume covered by %+v / %+v", cv.Newest, cv.InProgress)
			}
		case n.DatasetTag:
			if cv.Newest == nil {
				t.Errorf("dataset volume %s has no snapshot", cv.Volume.ID)
				continue
			}
			if cv.Newest.VolumeID != cv.Volume.ID || cv.Newest.Vault != n.BackupVault {
				t.Errorf("newest snapshot of %s: %+v; want AWS Backup's in %s", cv.Volume.ID, cv.Newest, n.BackupVault)
			}
			for _, p := range cv.InProgress {
				pending++
				if p.State != "pending" || !strings.HasSuffix(p.Progress, "%") {
					t.Errorf("snapshot in progress %+v: want pending with a progress", p)
				}
			}
		}
	}
	if pending != 1 {
		t.Errorf("%d snapshots in progress, want the one seeded", pending)
	}
}

// TestSnapshotsFailureNamesWhatFailed: an error reading snapshots says
// which read in which region failed.
func TestSnapshotsFailureNamesWhatFailed(t *testing.T) {
	srv, c := startNamed(t, estatetest.AcmeNames())
	srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultError5xx, Service: "ec2", Operation: "DescribeSnapshots"}})
	_, err := inventory.Snapshots(context.Background(), c, "us-east-1")
	if err == nil || !strings.Contains(err.Error(), "describe snapshots in us-east-1") {
		t.Fatalf("err = %v, want it to name the read and region", err)
	}
	if _, err := inventory.Volumes(context.Background(), c, "us-east-1"); err != nil {
		t.Fatalf("volumes failed with snapshots: %v", err)
	}
}

func TestCoverVolumes(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	vol := inventory.Volume{ID: "vol-1", Name: "data"}
	volARN := "arn:aws:ec2:us-east-1:111122223333:volume/vol-1"
	snapARN := func(id string) string { return "arn:aws:ec2:us-east-1::snapshot/" + id }
	snap := func(id, state string, at time.Duration) inventory.Snapshot {
		return inventory.Snapshot{ID: id, VolumeID: "vol-1", State: state, Started: t0.Add(at)}
	}
	point := func(id, status string, at time.Duration) inventory.RecoveryPoint {
		return inventory.RecoveryPoint{ARN: snapARN(id), ResourceARN: volARN, Vault: "v", Status: status, Created: t0.Add(at), Size: 3 << 30}
	}
	cases := []struct {
		name       string
		snaps      []inventory.Snapshot
		points     []inventory.RecoveryPoint
		newest     string // "" for none
		vault      string
		inProgress int
	}{
		{name: "none"},
		{name: "plain snapshot", snaps: []inventory.Snapshot{snap("snap-a", "completed", 0)}, newest: "snap-a"},
		{name: "backup point is its snapshot",
			snaps:  []inventory.Snapshot{snap("snap-a", "completed", 0)},
			points: []inventory.RecoveryPoint{point("snap-a", "COMPLETED", 0)}, newest: "snap-a", vault: "v"},
		{name: "backup point without listed snapshot",
			points: []inventory.RecoveryPoint{point("snap-b", "COMPLETED", time.Hour)}, newest: "snap-b", vault: "v"},
		{name: "newest wins",
			snaps:  []inventory.Snapshot{snap("snap-a", "completed", 0), snap("snap-c", "completed", 3*time.Hour)},
			points: []inventory.RecoveryPoint{point("snap-b", "COMPLETED", time.Hour)}, newest: "snap-c"},
		{name: "pending only",
			snaps:  []inventory.Snapshot{snap("snap-a", "pending", 0)},
			points: []inventory.RecoveryPoint{point("snap-b", "CREATING", time.Hour)}, inProgress: 2},
		{name: "failed and expiring points do not count",
			points: []inventory.RecoveryPoint{point("snap-b", "PARTIAL", 0), point("snap-c", "EXPIRED", 0), point("snap-d", "DELETING", 0)}},
		{name: "errored snapshot does not count", snaps: []inventory.Snapshot{snap("snap-a", "error", 0)}},
		{name: "other volume's snapshot",
			snaps: []inventory.Snapshot{{ID: "snap-z", VolumeID: "vol-2", State: "completed", Started: t0}}},
		{name: "not an EBS point",
			points: []inventory.RecoveryPoint{{ARN: "arn:aws:backup:us-east-1:111122223333:recovery-point:x", ResourceARN: volARN, Status: "COMPLETED"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := inventory.CoverVolumes([]inventory.Volume{vol}, tc.snaps, tc.points)
			if len(got) != 1 || got[0].Volume.ID != "vol-1" {
				t.Fatalf("covers %+v", got)
			}
			cv := got[0]
			switch {
			case tc.newest == "" && cv.Newest != nil:
				t.Errorf("newest %+v, want none", cv.Newest)
			case tc.newest != "" && (cv.Newest == nil || cv.Newest.ID != tc.newest || cv.Newest.Vault != tc.vault):
				t.Errorf("newest %+v, want %s in vault %q", cv.Newest, tc.newest, tc.vault)
			}
			if len(cv.InProgress) != tc.inProgress {
				t.Errorf("in progress %+v, want %d", cv.InProgress, tc.inProgress)
			}
		})
	}
}
