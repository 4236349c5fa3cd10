package steps

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// Defaults of the S3 step types.
const (
	defaultS3Region     = "us-east-1"
	defaultConcurrency  = 32
	maxConcurrency      = 1024
	defaultPageSize     = 1000
	defaultPlanSample   = 20
	defaultRetryRounds  = 6
	defaultRetryBackoff = 200 * time.Millisecond
	maxRetryBackoff     = 10 * time.Second
)

// errNotKnown reports a configuration that depends on an upstream step's
// outputs, which a dry-run does not have.
var errNotKnown = errors.New("not known until earlier steps have run")

// s3String reads a string attribute: "" when null.
func s3String(cfg cty.Value, name string) (string, error) {
	v := attr(cfg, name)
	switch {
	case !v.IsKnown():
		return "", fmt.Errorf("%s: %w", name, errNotKnown)
	case v.IsNull():
		return "", nil
	case v.Type() != cty.String:
		return "", fmt.Errorf("%s must be a string", name)
	}
	return v.AsString(), nil
}

// s3Int reads a whole-number attribute within [lo, hi]; def when null.
func s3Int(cfg cty.Value, name string, def, lo, hi int64) (int64, error) {
	v := attr(cfg, name)
	switch {
	case !v.IsKnown():
		return 0, fmt.Errorf("%s: %w", name, errNotKnown)
	case v.IsNull():
		return def, nil
	case v.Type() != cty.Number:
		return 0, fmt.Errorf("%s must be a number", name)
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact {
		return 0, fmt.Errorf("%s must be a whole number, got %s", name, bf.Text('g', -1))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, nil
}

func s3Bool(cfg cty.Value, name string) (bool, error) {
	v := attr(cfg, name)
	switch {
	case !v.IsKnown():
		return false, fmt.Errorf("%s: %w", name, errNotKnown)
	case v.IsNull():
		return false, nil
	case v.Type() != cty.Bool:
		return false, fmt.Errorf("%s must be true or false", name)
	}
	return v.True(), nil
}

// restoreSpec is an s3_restore step's configuration, checked.
type restoreSpec struct {
	Region, Bucket, Prefix             string
	At                                 time.Time
	TargetRegion, TargetBucket, Target string // Target: the target prefix
	Concurrency, PageSize, Sample      int
	SkipArchived                       bool
	// AllowUnversioned lets the restore write to a target bucket whose
	// versioning is not enabled, where its writes cannot be undone.
	AllowUnversioned bool
}

// inPlace reports whether the restore writes over its own source.
func (s restoreSpec) inPlace() bool {
	return s.TargetBucket == s.Bucket && s.Target == s.Prefix
}

// blast names what an in-place restore can overwrite.
func (s restoreSpec) blast() string {
	return s.TargetBucket + "/" + s.Target
}

func parseRestoreSpec(cfg cty.Value) (restoreSpec, error) {
	var sp restoreSpec
	var errs []error
	str := func(name string) string {
		s, err := s3String(cfg, name)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	num := func(name string, def, lo, hi int64) int {
		n, err := s3Int(cfg, name, def, lo, hi)
		if err != nil {
			errs = append(errs, err)
		}
		return int(n)
	}
	sp.Region = str("region")
	sp.Bucket = str("bucket")
	sp.Prefix = str("prefix")
	at := str("to_time")
	sp.TargetRegion = str("target_region")
	sp.TargetBucket = str("target_bucket")
	sp.Target = str("target_prefix")
	targetPrefixSet := !attr(cfg, "target_prefix").IsNull()
	sp.Concurrency = num("concurrency", defaultConcurrency, 1, maxConcurrency)
	sp.PageSize = num("page_size", defaultPageSize, 1, 1000)
	sp.Sample = num("plan_sample", defaultPlanSample, 0, 10000)
	skip, err := s3Bool(cfg, "skip_archived")
	if err != nil {
		errs = append(errs, err)
	}
	sp.SkipArchived = skip
	allow, err := s3Bool(cfg, "allow_unversioned")
	if err != nil {
		errs = append(errs, err)
	}
	sp.AllowUnversioned = allow
	if err := errors.Join(errs...); err != nil {
		return sp, err
	}

	if sp.Region == "" {
		sp.Region = defaultS3Region
	}
	if sp.TargetRegion == "" {
		sp.TargetRegion = sp.Region
	}
	if sp.Bucket == "" {
		return sp, errors.New("bucket must be set")
	}
	if sp.TargetBucket == "" {
		sp.TargetBucket = sp.Bucket
	}
	if !targetPrefixSet {
		sp.Target = sp.Prefix
	}
	if at == "" {
		return sp, errors.New("to_time must be set (RFC 3339 with a zone, e.g. 2026-01-02T15:04:05Z)")
	}
	t, err := pitr.ParseTime(at)
	if err != nil {
		return sp, err
	}
	sp.At = t
	// A target inside the source (or around it) would list its own writes.
	if err := pitr.CheckTarget(sp.Bucket, sp.Prefix, sp.TargetBucket, sp.Target); err != nil {
		return sp, err
	}
	return sp, nil
}

// validateTime checks an RFC 3339 attribute when its value is known.
func validateTime(cfg cty.Value, name string) []runbook.ConfigError {
	v := attr(cfg, name)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return nil
	}
	if _, err := pitr.ParseTime(v.AsString()); err != nil {
		return []runbook.ConfigError{{Attr: name, Summary: "Invalid timestamp", Detail: err.Error()}}
	}
	return nil
}

// validateNumber checks a whole-number attribute's range when it is known.
func validateNumber(cfg cty.Value, name string, lo, hi int64) []runbook.ConfigError {
	if !attr(cfg, name).IsKnown() {
		return nil
	}
	if _, err := s3Int(cfg, name, lo, lo, hi); err != nil {
		return []runbook.ConfigError{{Attr: name, Summary: "Invalid " + name, Detail: err.Error()}}
	}
	return nil
}

// validateNotEmpty refuses an attribute known to be "".
func validateNotEmpty(cfg cty.Value, names ...string) []runbook.ConfigError {
	var out []runbook.ConfigError
	for _, name := range names {
		v := attr(cfg, name)
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String && v.AsString() == "" {
			out = append(out, runbook.ConfigError{Attr: name, Summary: "Empty " + name, Detail: name + " must not be empty"})
		}
	}
	return out
}

// ValidateConfig implements runbook.ConfigValidator: it checks, when the
// runbook is decoded, what can be checked of the values already known.
func (*S3Restore) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	out := validateTime(cfg, "to_time")
	out = append(out, validateNumber(cfg, "concurrency", 1, maxConcurrency)...)
	out = append(out, validateNumber(cfg, "page_size", 1, 1000)...)
	out = append(out, validateNumber(cfg, "plan_sample", 0, 10000)...)
	out = append(out, validateNotEmpty(cfg, "bucket", "region", "target_bucket", "target_region")...)
	if len(out) == 0 && cfg.IsWhollyKnown() {
		if _, err := parseRestoreSpec(cfg); errors.Is(err, pitr.ErrOverlap) {
			out = append(out, runbook.ConfigError{Attr: "target_prefix", Summary: "Target overlaps source", Detail: err.Error()})
		}
	}
	return out
}

// ValidateConfig implements runbook.ConfigValidator.
func (*ModelRollback) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	out := validateTime(cfg, "to_time")
	out = append(out, validateNotEmpty(cfg, "bucket", "key", "region", "version_id")...)
	ver, at := attr(cfg, "version_id"), attr(cfg, "to_time")
	if ver.IsKnown() && at.IsKnown() && ver.IsNull() == at.IsNull() {
		out = append(out, runbook.ConfigError{Attr: "version_id", Summary: "Version or time",
			Detail: "set exactly one of version_id (the version to make current) and to_time (make current the version that was current then)"})
	}
	return out
}
