# model-rollback.hcl: make an earlier version of one model artifact current.
#
# What it does:
#   model_rollback "artifact": copies the chosen version of var.key in
#   var.model_bucket over the key, so it becomes the current version again.
#   Choose the version by id (var.version_id) or by time (var.to_time: the
#   version that was current then). The plan shows which version becomes
#   current and which it replaces, with their times and user metadata (the
#   model's metrics and git commit). Nothing is deleted: rolling back again
#   to the replaced version undoes it. Rolling back to the version that is
#   already current writes nothing.
#
# Variables (set key, and exactly one of version_id and to_time):
#   key         (required) the artifact's key, e.g.
#               models/llama-ft/model.safetensors.
#   version_id  the version to make current.
#   to_time     RFC 3339 time with a zone: make current the version that was
#               current then.
#   model_bucket, primary_region
#               the artifact bucket and its region: the estate's names.
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
#   T=$(date -u -d '-30 days' +%Y-%m-%dT%H:%M:%SZ)
#   drconsole plan runbooks/model-rollback.hcl --var key=models/llama-ft/model.safetensors --var to_time=$T
#   drconsole run  runbooks/model-rollback.hcl --var key=models/llama-ft/model.safetensors --var to_time=$T
# The console's Models view offers the same rollback from a version timeline.

runbook {
  description = "Roll one model artifact back to an earlier version"
}

variable "key" {
  type        = string
  description = "Key of the model artifact, e.g. models/llama-ft/model.safetensors"
}

variable "version_id" {
  type        = string
  default     = null
  description = "Version to make current (or set to_time)"
}

variable "to_time" {
  type        = string
  default     = null
  description = "RFC 3339 time: make current the version that was current then (or set version_id)"
}

variable "model_bucket" {
  type        = string
  description = "Versioned bucket holding the artifact"
}

variable "primary_region" {
  type        = string
  description = "Region of the bucket"
}

step "model_rollback" "artifact" {
  description = "Make the chosen version of the artifact current"
  region      = var.primary_region
  bucket      = var.model_bucket
  key         = var.key
  version_id  = var.version_id
  to_time     = var.to_time
}

output "restored_version_id" {
  value       = step.model_rollback.artifact.restored_version_id
  description = "The version made current"
}

output "new_version_id" {
  value       = step.model_rollback.artifact.new_version_id
  description = "The version id of the copy that is now current"
}

output "previous_version_id" {
  value       = step.model_rollback.artifact.previous_version_id
  description = "The version that was current before: roll back to it to undo"
}
