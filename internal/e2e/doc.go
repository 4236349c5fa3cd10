// Package e2e runs the example runbooks in runbooks/ end to end, through
// the runbook engine and the real step types, against a fresh sandbox
// estate: a dry-run that must make no mutating call, then a real run whose
// final state is checked against what the test computes on its own. Each
// runbook runs on two estates: the sandbox's own names, which drconsole
// fills in as it does on the sandbox, and a company's names given in a
// variables file, as an operator points the runbooks at an estate; there
// no request drconsole sends and no event of its runs may name the
// sandbox's.
package e2e
