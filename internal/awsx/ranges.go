package awsx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/sourcegraph/conc/pool"

	"github.com/drconsole/drconsole/internal/pitr"
)

// Defaults for RangePlan.
const (
	DefaultRangeWorkers = 4
	DefaultKeysPerRange = 2000
)

// rangeQueue bounds how far the key cut runs ahead of the workers.
const rangeQueue = 1024

// KeyRanges cuts the keys under prefix into ranges of about perRange
// current keys each and passes each range to fn as soon as it is known, so
// that listing the ranges' versions can start while the cut goes on. The
// cut is a ListObjectsV2 pass: one request per 1,000 keys, where listing
// versions takes one per 1,000 versions. Keys deleted since (whose current
// entry is a delete marker) do not show in it; they still fall in one of
// the ranges, which together cover every key: the first is open below,
// the last open above.
func KeyRanges(ctx context.Context, client *s3.Client, bucket, prefix string, perRange int, fn func(pitr.Range) error) error {
	if perRange < 1 {
		return fmt.Errorf("cut s3://%s/%s into key ranges: %d keys per range", bucket, prefix, perRange)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	p := s3.NewListObjectsV2Paginator(client, in)
	after, n := "", 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("cut s3://%s/%s into key ranges: %w", bucket, prefix, err)
		}
		encoded := page.EncodingType == types.EncodingTypeUrl
		for _, o := range page.Contents {
			n++
			if n%perRange != 0 {
				continue
			}
			key := aws.ToString(o.Key)
			if encoded {
				if key, err = decodeKey(key); err != nil {
					return fmt.Errorf("cut s3://%s/%s into key ranges: %w", bucket, prefix, err)
				}
			}
			if err := fn(pitr.Range{After: after, Through: key}); err != nil {
				return err
			}
			after = key
		}
	}
	return fn(pitr.Range{After: after})
}

// RangePlan plans a point-in-time restore of one prefix in key ranges
// whose versions are listed and planned concurrently, while KeyRanges is
// still cutting the rest: a restore is then bound by the store's request
// latency times pages per range, not times all pages.
type RangePlan struct {
	Client   *s3.Client
	Bucket   string
	Prefix   string
	PageSize int32 // versions per listing page; 0: S3's default (1,000)
	// Options is every range's planner configuration; SourcePrefix is
	// Prefix, and Range and Target are set per range.
	Options pitr.Options
	// Target opens the target's cursor over one range (as mapped by
	// pitr.MapRange) when restoring into another bucket or prefix; nil
	// restores in place.
	Target func(ctx context.Context, r pitr.Range) pitr.Cursor
	// Workers bounds the ranges listed at once; 0 means DefaultRangeWorkers.
	Workers int
	// KeysPerRange is a range's size in current keys; 0 means
	// DefaultKeysPerRange.
	KeysPerRange int
}

// Run plans every range and returns the totals. emit receives every
// decision; it is called from several goroutines at once and must be safe
// for that. Decisions of one range come in key order; ranges interleave.
// The first error (emit's included) cancels the rest.
func (rp RangePlan) Run(ctx context.Context, emit func(pitr.Decision) error) (pitr.Stats, error) {
	if rp.Client == nil || rp.Bucket == "" {
		return pitr.Stats{}, errors.New("plan by key ranges: no client or bucket")
	}
	workers := rp.Workers
	if workers <= 0 {
		workers = DefaultRangeWorkers
	}
	perRange := rp.KeysPerRange
	if perRange <= 0 {
		perRange = DefaultKeysPerRange
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// The cut runs ahead of the workers into a queue (a range is two keys),
	// so a worker that finishes finds the next range waiting instead of
	// waiting for the cut's next page.
	queue := make(chan pitr.Range, rangeQueue)
	var mu sync.Mutex
	var total pitr.Stats
	p := pool.New().WithErrors().WithFirstError()
	for range workers {
		p.Go(func() error {
			for r := range queue {
				if err := context.Cause(ctx); err != nil {
					return err
				}
				st, err := rp.planRange(ctx, r, emit)
				mu.Lock()
				total.Add(st)
				mu.Unlock()
				if err != nil {
					cancel(err)
					return err
				}
			}
			return nil
		})
	}
	cutErr := KeyRanges(ctx, rp.Client, rp.Bucket, rp.Prefix, perRange, func(r pitr.Range) error {
		select {
		case queue <- r:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	if cutErr != nil {
		cancel(cutErr)
	}
	close(queue)
	err := p.Wait()
	if err == nil {
		err = cutErr
	}
	return total, err
}

func (rp RangePlan) planRange(ctx context.Context, r pitr.Range, emit func(pitr.Decision) error) (pitr.Stats, error) {
	o := rp.Options
	o.SourcePrefix, o.Range, o.Target = rp.Prefix, r, nil
	if rp.Target != nil {
		o.Target = rp.Target(ctx, pitr.MapRange(r, rp.Prefix, o.TargetPrefix))
	}
	pl, err := pitr.New(o)
	if err != nil {
		return pitr.Stats{}, err
	}
	err = ListVersions(ctx, rp.Client, VersionListing{Bucket: rp.Bucket, Prefix: rp.Prefix, MaxKeys: rp.PageSize, Range: r},
		func(page []pitr.Entry) error { return pl.Feed(page, emit) })
	if err == nil {
		err = pl.Close(emit)
	}
	if err != nil {
		return pl.Stats(), fmt.Errorf("plan keys %s: %w", r, err)
	}
	return pl.Stats(), nil
}
