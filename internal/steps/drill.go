package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// What the step types' drill modes share. Each type's own drill mode
// (runbook.Drillable, runbook.TearDowner) and its recovery points are in
// its own file.

// tagDrill marks what a drill created, with the drill id as its value.
const tagDrill = "drconsole:drill"

// errNoDrillTarget is returned by restores in a drill that has nowhere to
// restore to.
var errNoDrillTarget = errors.New("a drill restores into a drill target, and none is set: " +
	"add runbook { drill { target_bucket = \"...\", target_prefix = \"drills/\" } } or pass --drill-target BUCKET[/PREFIX]")

// drillRoot is the prefix under which one drill writes: the drill target's
// prefix and the drill id, so drills never share objects and teardown can
// delete every version under it.
func drillRoot(d runbook.Drill) string {
	return d.TargetPrefix + d.ID + "/"
}

// checkDrillOwned refuses to empty anything outside the drill's own
// prefix: a journal edited by hand must not turn teardown against
// production.
func checkDrillOwned(d runbook.Drill, bucket, prefix string) error {
	if bucket == "" || d.ID == "" || !strings.HasPrefix(prefix, drillRoot(d)) {
		return fmt.Errorf("%s/%s is not under the drill's prefix %s: left alone", bucket, prefix, drillRoot(d))
	}
	return nil
}

// emptyPrefix deletes every version and delete marker under prefix, a
// thousand at a time, recording each batch.
func emptyPrefix(ctx context.Context, client *s3.Client, bucket, prefix string, action func(runbook.Change)) error {
	var batch []s3types.ObjectIdentifier
	deleted := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
			Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete versions under %s/%s: %w", bucket, prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete versions under %s/%s: %d failed, first %s: %s", bucket, prefix, len(out.Errors),
				aws.ToString(e.Key), aws.ToString(e.Message))
		}
		deleted += len(batch)
		batch = batch[:0]
		return nil
	}
	err := listVersions(ctx, client, bucket, prefix, defaultPageSize, func(page []pitr.Entry) error {
		for _, e := range page {
			batch = append(batch, s3types.ObjectIdentifier{Key: aws.String(e.Key), VersionId: optional(e.VersionID)})
			if len(batch) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		if isCode(err, "NoSuchBucket") {
			report(action, runbook.Change{Action: "none", Target: bucket + "/" + prefix, Detail: "bucket already gone"})
			return nil
		}
		return err
	}
	if deleted == 0 {
		report(action, runbook.Change{Action: "none", Target: bucket + "/" + prefix, Detail: "already empty"})
		return nil
	}
	report(action, runbook.Change{Action: "DeleteObjects", Target: bucket + "/" + prefix,
		Detail: fmt.Sprintf("%d versions and delete markers", deleted)})
	return nil
}

// report records one thing a teardown did, when someone listens.
func report(action func(runbook.Change), c runbook.Change) {
	if action != nil {
		action(c)
	}
}

// pointAt is the recovery point of source at the RFC 3339 time in the
// attribute name of v, if it holds one.
func pointAt(source string, v cty.Value, name string) []runbook.RecoveryPoint {
	t, err := time.Parse(time.RFC3339Nano, cfgString(v, name))
	if err != nil {
		return nil
	}
	return []runbook.RecoveryPoint{{Source: source, At: t}}
}
