package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Tags that mark what a run created, so a resumed attempt finds it.
const (
	tagRunID = "drconsole:run-id"
	tagStep  = "drconsole:step"
)

// errWaitBound is returned by pollUntil when the bound passes first.
var errWaitBound = errors.New("wait bound reached")

// pollUntil calls check until it reports done or fails, ctx ends, or bound
// has passed since the first call (errWaitBound). The first checks come
// quickly (after 1s, 2s, 4s, ...) and the gaps grow to interval, so a quick
// operation is not held up by a long interval. Time is read from now and
// waited on with timers, so the loop runs on a fake clock under
// testing/synctest.
func pollUntil(ctx context.Context, now func() time.Time, interval, bound time.Duration, check func(context.Context) (bool, error)) error {
	if interval <= 0 {
		return fmt.Errorf("poll interval must be positive, got %s", interval)
	}
	deadline := now().Add(bound)
	wait := min(interval, pollFirstWait)
	transients := 0
	for {
		done, err := check(ctx)
		switch {
		case err != nil && (!transientErr(err) || transients >= maxTransient || ctx.Err() != nil):
			return err
		case err != nil:
			// The next poll is the retry: a throttled or failed read in a
			// long wait must not fail a step the SDK's retries gave up on.
			transients++
		case done:
			return nil
		default:
			transients = 0
		}
		left := deadline.Sub(now())
		if left <= 0 && err != nil {
			return err // what the last look saw is unknown: say why
		}
		if left <= 0 {
			return fmt.Errorf("%w after %s", errWaitBound, bound)
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, interval)
	}
}

// pollFirstWait is the gap before the second check of a wait.
const pollFirstWait = time.Second

// maxTransient is how many polls in a row may fail with an error the SDK
// counts as transient before the wait gives up.
const maxTransient = 5

// transientErr reports whether err is one the SDK would retry: throttling,
// a 5xx answer, a dropped connection.
func transientErr(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary ||
		retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// isCode reports whether err is an API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// waitBound is how long a step waits for its resources: wait_for when the
// runbook sets it, else what is left of the step's timeout, else def.
func waitBound(ctx context.Context, now func() time.Time, waitFor, def time.Duration) time.Duration {
	if waitFor > 0 {
		return waitFor
	}
	if d, ok := ctx.Deadline(); ok {
		return max(d.Sub(now()), 0)
	}
	return def
}

// clockOf returns the step's clock, falling back to the wall clock.
func clockOf(sc *runbook.StepContext) func() time.Time {
	if sc != nil && sc.Now != nil {
		return sc.Now
	}
	return time.Now
}

func logLine(sc *runbook.StepContext, format string, args ...any) {
	if sc != nil && sc.Log != nil {
		sc.Log(fmt.Sprintf(format, args...))
	}
}

func progress(sc *runbook.StepContext, done, total int64, unit string) {
	if sc != nil && sc.Progress != nil {
		sc.Progress(done, total, unit)
	}
}

// runToken derives a stable token from the run and the step, so that a
// resumed attempt sends the same idempotency token as the first one.
func runToken(sc *runbook.StepContext) string {
	h := sha256.Sum256([]byte(sc.RunID + "\x00" + sc.Address))
	return hex.EncodeToString(h[:16])
}

// The cfg* helpers read one attribute of a step's decoded configuration.
// hcldec gives every attribute of the spec, null when the runbook omits it;
// in a plan an attribute may also be unknown, which the helpers report.

func attr(cfg cty.Value, name string) cty.Value {
	if cfg.IsNull() || !cfg.IsKnown() || !cfg.Type().IsObjectType() || !cfg.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return cfg.GetAttr(name)
}

// cfgKnown reports whether the attribute is wholly known (null counts as
// known).
func cfgKnown(cfg cty.Value, name string) bool {
	if !cfg.IsKnown() {
		return false
	}
	return attr(cfg, name).IsWhollyKnown()
}

func cfgSet(cfg cty.Value, name string) bool {
	v := attr(cfg, name)
	return !v.IsKnown() || !v.IsNull()
}

func cfgString(cfg cty.Value, name string) string {
	v := attr(cfg, name)
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func cfgBool(cfg cty.Value, name string) bool {
	v := attr(cfg, name)
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false
	}
	return v.True()
}

// cfgInt reads a whole number; ok is false when the attribute is null or
// unknown.
func cfgInt(cfg cty.Value, name string) (n int64, ok bool, err error) {
	v := attr(cfg, name)
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return 0, false, nil
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false, fmt.Errorf("%s must be a whole number, got %s", name, bf.Text('g', -1))
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		return 0, false, fmt.Errorf("%s is out of range", name)
	}
	return i, true, nil
}

func cfgStrings(cfg cty.Value, name string) []string {
	v := attr(cfg, name)
	if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() && e.Type() == cty.String {
			out = append(out, e.AsString())
		}
	}
	return out
}

func cfgStringMap(cfg cty.Value, name string) map[string]string {
	return stringMap(attr(cfg, name))
}

func stringMap(v cty.Value) map[string]string {
	if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsMapType() || v.Type().IsObjectType()) {
		return nil
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if !e.IsNull() && e.Type() == cty.String {
			out[k.AsString()] = e.AsString()
		}
	}
	return out
}

// cfgDuration parses a duration attribute ("90s", "2h"), def when null.
func cfgDuration(cfg cty.Value, name string, def time.Duration) (time.Duration, error) {
	s := cfgString(cfg, name)
	if s == "" {
		return def, nil
	}
	d, err := runbook.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// cfgPollInterval reads poll_interval, which must be positive.
func cfgPollInterval(cfg cty.Value, def time.Duration) (time.Duration, error) {
	d, err := cfgDuration(cfg, "poll_interval", def)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("poll_interval must be positive")
	}
	return d, nil
}

// cfgRegion reads the required region attribute.
func cfgRegion(cfg cty.Value) (string, error) {
	if !cfgKnown(cfg, "region") {
		return "", fmt.Errorf("region is not known until apply")
	}
	r := cfgString(cfg, "region")
	if r == "" {
		return "", fmt.Errorf("region must be set")
	}
	return r, nil
}

// configErrors turns a step's configuration error into the engine's
// decode-time diagnostic: the attribute it is about is the error's first
// word when that names an attribute of the spec, else the whole block.
func configErrors(spec map[string]bool, err error) []runbook.ConfigError {
	if err == nil {
		return nil
	}
	msg := err.Error()
	word := msg
	if i := strings.IndexAny(msg, " :"); i >= 0 {
		word = msg[:i]
	}
	if !spec[word] {
		return []runbook.ConfigError{{Summary: "Invalid step configuration", Detail: msg + "."}}
	}
	return []runbook.ConfigError{{Attr: word, Summary: "Invalid " + word, Detail: msg + "."}}
}

// specNames lists the attributes of a spec.
func specNames(spec map[string]hcldec.Spec) map[string]bool {
	names := map[string]bool{}
	for k := range spec {
		names[k] = true
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}
