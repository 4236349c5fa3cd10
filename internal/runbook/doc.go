// Package runbook holds the drconsole runbook language and the engine that
// executes it: decoding HCL into a Runbook, validating references and the
// dependency graph, evaluating expressions, and walking the graph with bounded
// parallelism, gates, retries, timeouts, dry-run and resume.
//
// # Language
//
// A runbook is one .hcl file or a directory of them. Top-level blocks:
//
//	runbook { description, parallelism, objectives { rto, rpo },
//	          drill { target_bucket, target_prefix,
//	                  fault { kind, rate, service, operation, region, latency, after, at_step } } }
//	variable "NAME" { type, default, description, sensitive, validation { condition, error_message } }
//	locals { NAME = EXPR ... }
//	step "TYPE" "NAME" { <the type's attributes>, depends_on, timeout, retry { attempts, backoff },
//	                     on_failure = "abort" | "continue", confirm, when, description, drill_safe }
//	gate "NAME" { prompt, timeout, depends_on, when, description }
//	output "NAME" { value, description, sensitive }
//
// Expressions see var.NAME, local.NAME, step.TYPE.NAME.OUTPUT (the step
// type's Outputs object), gate.NAME ({approved, by}), run.id and
// run.dry_run. A reference to a step or gate, in any expression of a node or
// in a local it uses, is a dependency, as are the entries of depends_on.
// Functions: go-cty's standard library under Terraform's names, try, can,
// length (of strings too), startswith, endswith, strcontains,
// base64encode/base64decode, and the time helpers timestamp() (the run's
// clock, RFC 3339 UTC), timeadd, timecmp, formatdate, parseduration(s)
// (seconds as a number) and duration(seconds) (a duration string). Times
// are RFC 3339 with a zone; durations are Go durations ("90s", "1h30m").
//
// Variables come from defaults, then DRCONSOLE_VAR_NAME, then --var-file
// files in order, then --var flags in order; later sources win.
//
// # Semantics
//
//   - A node starts when every dependency is resolved; at most parallelism
//     nodes run at once (Options.Parallelism, else runbook.parallelism,
//     else 4), the earliest-declared ready node first.
//   - timeout bounds Plan and each Apply attempt. retry runs up to attempts
//     attempts (3 when the block gives none); the delay before attempt k+1 is backoff*2^(k-1) (default
//     backoff 1s, capped at 1h) with equal jitter: half fixed, half random.
//   - on_failure = "abort" (the default) cancels what is in flight and
//     starts nothing new; "continue" records the failure and skips only the
//     nodes that depend on the failed step, transitively. Either way the
//     run ends failed.
//   - when = false skips the node ("when is false"); its dependents still
//     run and see its outputs as null (use try() to read them).
//   - A gate, and a step with confirm (the default for destructive step
//     types), asks the Approver, once per decision. A confirmed step is
//     planned first and the approver sees its changes; a plan with no
//     changes asks nothing. A gate that a destructive step depends on
//     directly, all the step's other inputs being upstream of the gate,
//     plans that step and shows its changes, and its approval confirms the
//     step when the step plans the same changes (linkCovers). The token is
//     the resource changed (BlastRadius of the config as written, never a
//     drill's run id), else the node's name, unique within the run. A
//     refusal or a gate timeout ends the run refused.
//   - Dry-run plans every step and applies none; gates are reported as
//     "would ask"; step outputs are unknown, so expressions downstream
//     still evaluate and conditions that depend on them count as true.
//   - Resume: steps in ResumeState.Finished keep their recorded outputs and
//     are reported as step_finished with reason "finished in run ID";
//     approvals in ResumeState.Approved stand; the rest runs again.
//   - Drill (Options.Drill): before a step plans or applies, its type's
//     DrillPlan rewrites its configuration and says what it redirected,
//     recorded as step_drilled; a step whose type is not Drillable fails
//     unless it says drill_safe = true (CheckDrill finds those before a
//     run). Teardown (TearDowner) is the caller's, after the run.
//   - Sensitive variables are shown as "(sensitive)" in run_started, and
//     their string values (4 characters or more) are masked in every event
//     (errors, logs, prompts, changes, outputs). Sensitive outputs are masked in run_finished.
//     Event.Redact is that masking, for any redact.Redactor: the journal
//     and the printers apply it with the credential patterns as well.
package runbook
