# restore-from-backup.hcl: restore a resource from AWS Backup as it was at a time.
#
# What it does:
#   backup_restore "resource": finds the recovery point of var.resource_arn in
#   the vault var.backup_vault nearest before var.restore_to (a continuous backup
#   whose window covers that time when there is one: it restores to the time
#   exactly), starts a restore job and waits until it is COMPLETED. The
#   restore always creates a new resource and leaves the original alone: for
#   the model bucket, a new bucket (var.target_bucket, or a name derived from
#   the source bucket and the run); for an EBS volume,
#   a new volume in var.availability_zone; for EFS, a new file system. A
#   resumed run finds the job it already started (the idempotency token comes
#   from the run id).
#
# Variables:
#   restore_to         (required) RFC 3339 time with a zone.
#   resource_arn       what to restore (default the model bucket,
#                      arn:aws:s3:::MODEL_BUCKET; a dataset volume is
#                      arn:aws:ec2:REGION:ACCOUNT:volume/vol-...).
#   target_bucket      new bucket for an S3 restore (default: the source
#                      bucket's name with a suffix fixed by the run).
#   availability_zone  zone of a restored EBS volume (default: zone a of
#                      primary_region).
#   poll_interval      how often the wait polls (default "30s").
#   primary_region, backup_vault, model_bucket
#                      the estate's names.
#
# The estate's names are variables (primary_region, dr_region, model_bucket,
# ...). Against the sandbox they need no setting: drconsole fills in the
# sandbox's own names. To point the runbook at another estate, put its names
# in a variables file (`drconsole sandbox --print-vars` writes one to start
# from) and pass it with --var-file my-estate.vars; names this runbook does
# not use are ignored with a warning.
#
# Against the sandbox (what `make run` opens):
#   drconsole sandbox &           # serves the estate on 127.0.0.1:5480
#   T=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)   # it keeps 14 days of points
#   drconsole plan runbooks/restore-from-backup.hcl --var restore_to=$T
#   drconsole run  runbooks/restore-from-backup.hcl --var restore_to=$T
#   drconsole run  runbooks/restore-from-backup.hcl --var restore_to=$T \
#     --var resource_arn=arn:aws:ec2:REGION:123456789012:volume/vol-...   # a dataset volume
# The console's Recovery points view lists the points this would choose from.

runbook {
  description = "Restore a resource from its AWS Backup recovery point nearest before a time"
  objectives {
    rto = "4h"
    rpo = "24h"
  }
}

variable "restore_to" {
  type        = string
  description = "RFC 3339 time (with a zone) to restore to"
  validation {
    condition     = can(timecmp(var.restore_to, "1970-01-01T00:00:00Z"))
    error_message = "restore_to must be an RFC 3339 time with a zone, such as 2026-03-01T12:00:00Z."
  }
}

variable "resource_arn" {
  type        = string
  default     = null
  description = "ARN of the backed-up resource: a dataset volume or the pipeline file system (default: the model bucket)"
}

variable "target_bucket" {
  type        = string
  default     = null
  description = "New bucket an S3 restore creates (default: derived from the source bucket and the run)"
}

variable "availability_zone" {
  type        = string
  default     = null
  description = "Zone of a restored EBS volume (default: zone a of primary_region)"
}

variable "poll_interval" {
  type        = string
  default     = "30s"
  description = "How often the wait for the restore job polls"
}

variable "primary_region" {
  type        = string
  description = "Region the estate serves from"
}

variable "backup_vault" {
  type        = string
  description = "AWS Backup vault holding the recovery points, in primary_region"
}

variable "model_bucket" {
  type        = string
  description = "Versioned bucket of the model artifacts, in primary_region"
}

step "backup_restore" "resource" {
  description       = "Restore the recovery point nearest before restore_to into a new resource"
  region            = var.primary_region
  vault             = var.backup_vault
  resource_arn      = coalesce(var.resource_arn, "arn:aws:s3:::${var.model_bucket}")
  to_time           = var.restore_to
  target_bucket     = var.target_bucket
  availability_zone = coalesce(var.availability_zone, "${var.primary_region}a")
  wait_for          = "12h"
  poll_interval     = var.poll_interval
  timeout           = "13h"
}

output "recovery_point_arn" {
  value       = step.backup_restore.resource.recovery_point_arn
  description = "The recovery point restored"
}

output "recovery_point_created" {
  value       = step.backup_restore.resource.recovery_point_created
  description = "When that recovery point was taken"
}

output "created_resource_arn" {
  value       = step.backup_restore.resource.created_resource_arn
  description = "The new resource"
}
