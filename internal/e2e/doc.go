// Package e2e runs the example runbooks in runbooks/ end to end, through
// the runbook engine and the real step types, against a fresh sandbox
// estate: a dry-run that must make no mutating call, then a real run whose
// final state is checked against what the test computes on its own.
package e2e
