# gameday-failover.hcl: rehearse failing model serving over to the DR region,
# measured against recovery objectives.
#
# The steps are those of model-serving-failover.hcl, plus a restore of the
# model bucket from AWS Backup running alongside (a second recovery path):
#   1. ebs_snapshot "datasets": snapshots the dataset volumes. In a drill the
#      snapshots are tagged drconsole:drill=RUN_ID and deleted at teardown.
#   2. s3_restore "models": restores models/ to var.restore_to. In a drill it
#      restores into the drill target (var.model_bucket/drills/RUN_ID/models/)
#      and production is not touched; the drill prefix is emptied at teardown.
#   3. backup_restore "models_backup": restores the model bucket's recovery
#      point at var.restore_to into a new bucket (in a drill, a bucket named
#      for the drill, deleted at teardown). It runs in parallel with 1 and 2.
#   4. gate "failover", then asg_scale "serving": scales var.dr_group; a
#      drill scales it back to its capacity before the drill at teardown.
#   5. alarms_check "health": the DR region's alarms (var.dr_alarms) must be OK.
#
# Variables:
#   restore_to     (required) RFC 3339 time with a zone to restore to.
#   dr_capacity    instances in the DR group (default 4).
#   poll_interval  how often waits poll AWS (default "10s").
#   primary_region, dr_region, model_bucket, dataset_tag, dr_group, dr_alarms,
#   backup_vault   the estate's names (below).
#
# The estate's names are variables (primary_region, dr_region, model_bucket,
# ...). Against the sandbox they need no setting: drconsole fills in the
# sandbox's own names. To point the runbook at another estate, put its names
# in a variables file (`drconsole sandbox --print-vars` writes one to start
# from) and pass it with --var-file my-estate.vars; names this runbook does
# not use are ignored with a warning.
#
# Rehearse it on the sandbox:
#   drconsole sandbox &
#   drconsole drill runbooks/gameday-failover.hcl --var restore_to=2026-03-01T12:00:00Z --auto-approve --report drill.md
# The drill's RTO and RPO are compared with the objectives below.

runbook {
  description = "Game day: fail model serving over to the DR region, measured against the recovery objectives"
  parallelism = 4
  objectives {
    rto = "30m"
    rpo = "1h"
  }
  drill {
    target_bucket = var.model_bucket
    target_prefix = "drills/"
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

variable "models_prefix" {
  type        = string
  default     = "models/"
  description = "Prefix of the model artifacts in model_bucket"
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

variable "backup_vault" {
  type        = string
  description = "AWS Backup vault holding the recovery points, in primary_region"
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

step "backup_restore" "models_backup" {
  description   = "Restore the model bucket from AWS Backup into a new bucket"
  region        = var.primary_region
  vault         = var.backup_vault
  resource_arn  = "arn:aws:s3:::${var.model_bucket}"
  to_time       = var.restore_to
  target_bucket = "${var.model_bucket}-restored"
  wait_for      = "12h"
  poll_interval = var.poll_interval
  timeout       = "13h"
}

gate "failover" {
  prompt = "Restored ${step.s3_restore.models.copied} artifacts (backup job ${step.backup_restore.models_backup.restore_job_id}). Scale ${var.dr_group} in ${var.dr_region} to ${var.dr_capacity}?"
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

output "copied" {
  value       = step.s3_restore.models.copied
  description = "Model artifacts restored"
}

output "recovery_point_created" {
  value       = step.backup_restore.models_backup.recovery_point_created
  description = "Creation time of the recovery point restored"
}
