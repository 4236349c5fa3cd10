package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// The S3-writing step types undo what they did by making an earlier
// version current again, which needs the versions to exist: in a bucket
// whose versioning was never enabled a delete is permanent and a copy
// replaces the object, and in a suspended bucket both replace the key's
// null version. So they read the bucket's versioning before writing and
// refuse such a bucket unless the step says allow_unversioned = true.

// allowUnversionedSpec is the attribute that lets a step write to a bucket
// without versioning.
func allowUnversionedSpec() hcldec.Spec {
	return &hcldec.AttrSpec{Name: "allow_unversioned", Type: cty.Bool}
}

// UnversionedBucketError refuses a write to a bucket without versioning:
// what it would do there could not be undone.
type UnversionedBucketError struct {
	Bucket string
	// Status is what GetBucketVersioning answered: "" (never enabled) or
	// "Suspended".
	Status string
	// Operation names what would be undone: "restore" or "rollback".
	Operation string
}

func (e *UnversionedBucketError) Error() string {
	fix := "enable versioning, restore into a versioned bucket, or set allow_unversioned = true"
	if e.Operation != "restore" {
		fix = "enable versioning or set allow_unversioned = true"
	}
	return fmt.Sprintf("bucket %s %s: %s, so drconsole cannot undo this %s; %s",
		e.Bucket, versioningState(e.Status), withoutHistory(e.Status), e.Operation, fix)
}

// versioningState describes a bucket's versioning status in words.
func versioningState(status string) string {
	if status == "" {
		return "is not versioned (versioning never enabled)"
	}
	return "has versioning " + strings.ToLower(status)
}

// withoutHistory says what a write does in a bucket with that status.
func withoutHistory(status string) string {
	if status == "" {
		return "a delete there is permanent and a copy overwrites without history"
	}
	return "a delete or a copy there replaces the key's null version, which is then gone"
}

// bucketHistory is what a step learnt of a bucket's versioning.
type bucketHistory struct {
	Bucket string
	Status string // "Enabled", "Suspended" or "" (never enabled)
}

// kept reports whether every write leaves the version it replaces.
func (h bucketHistory) kept() bool { return h.Status == "Enabled" }

// note is the plan's warning for a bucket allowed without versioning.
func (h bucketHistory) note() string {
	return fmt.Sprintf("bucket %s %s, allowed by allow_unversioned: %s", h.Bucket, versioningState(h.Status), withoutHistory(h.Status))
}

// checkVersioning reads bucket's versioning (a read, so it runs in a
// dry-run too) and refuses a bucket that does not keep every version,
// unless allow is set.
func checkVersioning(ctx context.Context, client *s3.Client, bucket, operation string, allow bool) (bucketHistory, error) {
	out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return bucketHistory{}, fmt.Errorf("read versioning of bucket %s: %w", bucket, err)
	}
	h := bucketHistory{Bucket: bucket, Status: string(out.Status)}
	if !h.kept() && !allow {
		return h, &UnversionedBucketError{Bucket: bucket, Status: h.Status, Operation: operation}
	}
	return h, nil
}
