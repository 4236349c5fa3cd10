// Package awsx wires aws-sdk-go-v2 for drconsole: it builds one aws.Config
// per region from the usual sources (profiles, AWS_REGION,
// AWS_ENDPOINT_URL, flags), hands out cached per-region service clients
// that retry throttling adaptively and carry drconsole's user agent, and
// installs the read-only guard that makes dry-run a promise the SDK keeps:
// a mutating operation is refused before anything is sent. It also lists
// S3 versions in their true order for the point-in-time planner.
//
// The package is named awsx so that it does not shadow the SDK's aws.
package awsx

import (
	"fmt"
	"strings"
)

// Target is where drconsole acts: the embedded sandbox estate, or AWS (or
// an S3-compatible store reached through an endpoint).
type Target int

// The targets.
const (
	TargetSandbox Target = iota + 1
	TargetAWS
)

// String names the target as reports and journals show it.
func (t Target) String() string {
	switch t {
	case TargetSandbox:
		return "sandbox"
	case TargetAWS:
		return "aws"
	}
	return fmt.Sprintf("target(%d)", int(t))
}

// ParseTarget reads a --target value.
func ParseTarget(s string) (Target, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sandbox":
		return TargetSandbox, nil
	case "aws":
		return TargetAWS, nil
	}
	return 0, fmt.Errorf("unknown target %q: want sandbox or aws", s)
}

// ResolveTarget decides the target from the --target and --profile flags
// and the environment (getenv is os.Getenv in production). Without
// --target, drconsole acts on AWS only when AWS is configured explicitly
// (--profile, AWS_PROFILE or AWS_ACCESS_KEY_ID); otherwise it opens the
// sandbox, so that running it bare never touches a real account.
func ResolveTarget(flag, profile string, getenv func(string) string) (Target, error) {
	if flag != "" {
		t, err := ParseTarget(flag)
		if err != nil {
			return 0, err
		}
		if t == TargetSandbox && profile != "" {
			return 0, fmt.Errorf("--profile %q names AWS credentials, but --target is sandbox", profile)
		}
		return t, nil
	}
	if profile != "" || getenv("AWS_PROFILE") != "" || getenv("AWS_ACCESS_KEY_ID") != "" {
		return TargetAWS, nil
	}
	return TargetSandbox, nil
}
