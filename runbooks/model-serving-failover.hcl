# model-serving-failover.hcl: fail model serving over to the DR region.
#
# What it does, in order:
#   1. ebs_snapshot "datasets": snapshots the dataset volumes (tag
#      Name=var.dataset_tag) in var.primary_region, crash-consistent per instance, and waits
#      until the snapshots are completed: the datasets as they were at the
#      start of the incident, kept before anything changes.
#   2. s3_restore "models": brings the model artifacts under var.models_prefix
#      in var.model_bucket back to their state at var.restore_to. It only adds
#      versions and delete markers (nothing is destroyed), and the journal
#      records each key's previous version so the restore can be undone. The
#      step is destructive: it asks for its own confirmation, showing the
#      planned copies and deletes.
#   3. gate "failover": the operator confirms scaling the DR fleet, seeing how
#      many artifacts were restored.
#   4. asg_scale "serving": scales var.dr_group in var.dr_region to
#      var.dr_capacity and waits until that many instances are InService.
#   5. alarms_check "health": the alarms in var.dr_alarms (the DR region's
#      capacity and serving-health alarms) must be OK within 10 minutes.
#
# Variables:
#   restore_to     (required) RFC 3339 time with a zone to restore the model
#                  artifacts to, e.g. 2026-03-01T12:00:00Z.
#   models_prefix  prefix of the artifacts to restore (default "models/").
#   dr_capacity    instances to run in the DR region (default 4).
#   poll_interval  how often waits poll AWS (default "10s").
#   primary_region, dr_region, model_bucket, dataset_tag, dr_group, dr_alarms
#                  the estate's names (below).
#
# The estate's names are variables (primary_region, dr_region, model_bucket,
# ...). Against the sandbox they need no setting: drconsole fills in the
# sandbox's own names. To point the runbook at another estate, put its names
# in a variables file (`drconsole sandbox --print-vars` writes one to start
# from) and pass it with --var-file my-estate.vars; names this runbook does
# not use are ignored with a warning.
#
# Against the sandbox (what `make run` opens), whose model history reaches
# back months from now:
#   drconsole sandbox &           # serves the estate on 127.0.0.1:5480
#   T=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)
#   drconsole plan runbooks/model-serving-failover.hcl --var restore_to=$T
#   drconsole run  runbooks/model-serving-failover.hcl --var restore_to=$T
# or, in the console (`make run`), Runbooks -> model-serving-failover, fill in
# restore_to, review the plan and type the confirmations. Add --auto-approve
# only in CI.

runbook {
  description = "Fail model serving over to the DR region, with model artifacts restored to a point in time"
  parallelism = 4
  objectives {
    rto = "30m"
    rpo = "1h"
  }
}

variable "restore_to" {
  type        = string
  description = "RFC 3339 time (with a zone) to restore model artifacts to"
  validation {
    condition     = can(timecmp(var.restore_to, "1970-01-01T00:00:00Z"))
    error_message = "restore_to must be an RFC 3339 time with a zone, such as 2026-03-01T12:00:00Z."
  }
}

variable "models_prefix" {
  type        = string
  default     = "models/"
  description = "Prefix of the model artifacts in model_bucket"
}

variable "dr_capacity" {
  type        = number
  default     = 4
  description = "Instances to run in the DR auto-scaling group"
}

variable "poll_interval" {
  type        = string
  default     = "10s"
  description = "How often waits poll AWS"
}

variable "primary_region" {
  type        = string
  description = "Region the estate serves from"
}

variable "dr_region" {
  type        = string
  description = "Region the estate fails over to"
}

variable "model_bucket" {
  type        = string
  description = "Versioned bucket of the model artifacts, in primary_region"
}

variable "dataset_tag" {
  type        = string
  description = "Name tag of the dataset EBS volumes, in primary_region"
}

variable "dr_group" {
  type        = string
  description = "Auto-scaling group of the DR fleet, in dr_region"
}

variable "dr_alarms" {
  type        = list(string)
  description = "Alarms in dr_region that must be OK after the failover"
}

step "ebs_snapshot" "datasets" {
  description   = "Snapshot the dataset volumes before anything changes"
  region        = var.primary_region
  volumes       = { tags = { Name = var.dataset_tag } }
  per_instance  = true
  wait_for      = "2h"
  poll_interval = var.poll_interval
  timeout       = "3h"
}

step "s3_restore" "models" {
  description = "Restore the model artifacts to their state at restore_to"
  region      = var.primary_region
  bucket      = var.model_bucket
  prefix      = var.models_prefix
  to_time     = var.restore_to
  concurrency = 32
  depends_on  = [step.ebs_snapshot.datasets]
  timeout     = "2h"
}

gate "failover" {
  prompt = "Restored ${step.s3_restore.models.copied} artifacts and removed ${step.s3_restore.models.deleted} (${step.s3_restore.models.unchanged} already right). Scale ${var.dr_group} in ${var.dr_region} to ${var.dr_capacity}?"
}

step "asg_scale" "serving" {
  description   = "Bring the DR fleet up"
  region        = var.dr_region
  group         = var.dr_group
  desired       = var.dr_capacity
  wait_for      = "20m"
  poll_interval = var.poll_interval
  depends_on    = [gate.failover]
}

step "alarms_check" "health" {
  description   = "Serving in the DR region is healthy"
  region        = var.dr_region
  alarms        = var.dr_alarms
  expect        = "OK"
  within        = "10m"
  poll_interval = var.poll_interval
  depends_on    = [step.asg_scale.serving]
}

output "snapshot_ids" {
  value       = step.ebs_snapshot.datasets.snapshot_ids
  description = "Dataset snapshots taken before the failover"
}

output "copied" {
  value       = step.s3_restore.models.copied
  description = "Model artifacts brought back to their state at restore_to"
}

output "deleted" {
  value       = step.s3_restore.models.deleted
  description = "Artifacts that did not exist at restore_to, hidden behind delete markers"
}

output "dr_in_service" {
  value       = step.asg_scale.serving.in_service
  description = "DR instances in service"
}

output "previous_dr_capacity" {
  value       = step.asg_scale.serving.previous_desired
  description = "Desired capacity of the DR group before the failover, to scale back after a drill"
}
