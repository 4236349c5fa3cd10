# gameday-failover.hcl: rehearse failing model serving over to the DR region,
# measured against recovery objectives.
#
# The steps are those of model-serving-failover.hcl, plus a restore of the
# model bucket from AWS Backup running alongside (a second recovery path):
#   1. ebs_snapshot "datasets": snapshots the dataset volumes. In a drill the
#      snapshots are tagged drconsole:drill=RUN_ID and deleted at teardown.
#   2. s3_restore "models": restores models/ to var.restore_to. In a drill it
#      restores into the drill target (ai-model-artifacts/drills/RUN_ID/models/)
#      and production is not touched; the drill prefix is emptied at teardown.
#   3. backup_restore "models_backup": restores the model bucket's recovery
#      point at var.restore_to into a new bucket (in a drill, a bucket named
#      for the drill, deleted at teardown). It runs in parallel with 1 and 2.
#   4. gate "failover", then asg_scale "serving": scales ai-inference-dr; a
#      drill scales it back to its capacity before the drill at teardown.
#   5. alarms_check "health": the DR region's alarms must be OK.
#
# Variables:
#   restore_to     (required) RFC 3339 time with a zone to restore to.
#   dr_capacity    instances in the DR group (default 4).
#   poll_interval  how often waits poll AWS (default "10s").
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
    target_bucket = "ai-model-artifacts"
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

step "ebs_snapshot" "datasets" {
  description   = "Snapshot the dataset volumes before anything changes"
  region        = "us-east-1"
  volumes       = { tags = { Name = "ai-dataset" } }
  per_instance  = true
  wait_for      = "2h"
  poll_interval = var.poll_interval
  timeout       = "3h"
}

step "s3_restore" "models" {
  description = "Restore the model artifacts to their state at restore_to"
  region      = "us-east-1"
  bucket      = "ai-model-artifacts"
  prefix      = "models/"
  to_time     = var.restore_to
  concurrency = 32
  depends_on  = [step.ebs_snapshot.datasets]
  timeout     = "2h"
}

step "backup_restore" "models_backup" {
  description   = "Restore the model bucket from AWS Backup into a new bucket"
  region        = "us-east-1"
  vault         = "ai-dr-vault"
  resource_arn  = "arn:aws:s3:::ai-model-artifacts"
  to_time       = var.restore_to
  target_bucket = "ai-model-artifacts-restored"
  wait_for      = "12h"
  poll_interval = var.poll_interval
  timeout       = "13h"
}

gate "failover" {
  prompt = "Restored ${step.s3_restore.models.copied} artifacts (backup job ${step.backup_restore.models_backup.restore_job_id}). Scale ai-inference-dr in us-west-2 to ${var.dr_capacity}?"
}

step "asg_scale" "serving" {
  description   = "Bring the DR fleet up"
  region        = "us-west-2"
  group         = "ai-inference-dr"
  desired       = var.dr_capacity
  wait_for      = "20m"
  poll_interval = var.poll_interval
  depends_on    = [gate.failover]
}

step "alarms_check" "health" {
  description   = "Serving in the DR region is healthy"
  region        = "us-west-2"
  alarms        = ["ai-inference-dr-capacity", "ai-inference-health"]
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
