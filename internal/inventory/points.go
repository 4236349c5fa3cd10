package inventory

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/drconsole/drconsole/internal/awsx"
)

// Vault is an AWS Backup vault.
type Vault struct {
	Name   string
	ARN    string
	Points int64
}

// Vaults lists the backup vaults in region.
func Vaults(ctx context.Context, c awsx.ClientSource, region string) ([]Vault, error) {
	cl, err := c.Backup(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list backup vaults in %s: %w", region, err)
	}
	var out []Vault
	p := backup.NewListBackupVaultsPaginator(cl, &backup.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list backup vaults in %s: %w", region, err)
		}
		for _, v := range page.BackupVaultList {
			out = append(out, Vault{Name: aws.ToString(v.BackupVaultName), ARN: aws.ToString(v.BackupVaultArn), Points: v.NumberOfRecoveryPoints})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RecoveryPoint is one backup of one resource.
type RecoveryPoint struct {
	ARN          string
	Vault        string
	ResourceARN  string
	ResourceType string
	ResourceName string
	Status       string // COMPLETED, PARTIAL, DELETING, EXPIRED, ...
	Created      time.Time
	Completed    time.Time
	Size         int64
	ColdAt       time.Time // lifecycle: moves to cold storage (zero: never)
	DeleteAt     time.Time // lifecycle: expires (zero: never)
}

// RecoveryPoints lists the recovery points in vault, newest first.
func RecoveryPoints(ctx context.Context, c awsx.ClientSource, region, vault string) ([]RecoveryPoint, error) {
	cl, err := c.Backup(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("list recovery points in vault %s: %w", vault, err)
	}
	var out []RecoveryPoint
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(cl, &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(vault)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list recovery points in vault %s: %w", vault, err)
		}
		for _, r := range page.RecoveryPoints {
			rp := RecoveryPoint{
				ARN: aws.ToString(r.RecoveryPointArn), Vault: vault, ResourceARN: aws.ToString(r.ResourceArn),
				ResourceType: aws.ToString(r.ResourceType), ResourceName: aws.ToString(r.ResourceName),
				Status: string(r.Status), Created: aws.ToTime(r.CreationDate), Completed: aws.ToTime(r.CompletionDate),
				Size: aws.ToInt64(r.BackupSizeInBytes),
			}
			if lc := r.CalculatedLifecycle; lc != nil {
				rp.ColdAt, rp.DeleteAt = aws.ToTime(lc.MoveToColdStorageAt), aws.ToTime(lc.DeleteAt)
			}
			out = append(out, rp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// ResourceRPO is a protected resource with its newest usable recovery
// point: the data that would be lost if it failed now is everything since.
type ResourceRPO struct {
	ResourceARN  string
	ResourceType string
	ResourceName string
	Newest       RecoveryPoint // zero when no point has completed
	Age          time.Duration // now - Newest.Created; 0 when none
	Points       int
}

// ByResource groups points by resource and finds each resource's newest
// COMPLETED point, sorted oldest (worst RPO) first.
func ByResource(points []RecoveryPoint, now time.Time) []ResourceRPO {
	idx := map[string]int{}
	var out []ResourceRPO
	for _, p := range points {
		i, ok := idx[p.ResourceARN]
		if !ok {
			i = len(out)
			idx[p.ResourceARN] = i
			out = append(out, ResourceRPO{ResourceARN: p.ResourceARN, ResourceType: p.ResourceType, ResourceName: p.ResourceName})
		}
		r := &out[i]
		r.Points++
		if p.Status == "COMPLETED" && p.Created.After(r.Newest.Created) {
			r.Newest = p
			r.Age = now.Sub(p.Created)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Newest.Created.IsZero() != b.Newest.Created.IsZero() {
			return a.Newest.Created.IsZero()
		}
		if a.Age != b.Age {
			return a.Age > b.Age
		}
		return a.ResourceARN < b.ResourceARN
	})
	return out
}

// NearestBefore returns the newest COMPLETED point of resource created at
// or before t: the point a restore "to t" uses.
func NearestBefore(points []RecoveryPoint, resourceARN string, t time.Time) (RecoveryPoint, bool) {
	var best RecoveryPoint
	found := false
	for _, p := range points {
		if p.ResourceARN != resourceARN || p.Status != "COMPLETED" || p.Created.After(t) {
			continue
		}
		if !found || p.Created.After(best.Created) {
			best, found = p, true
		}
	}
	return best, found
}
