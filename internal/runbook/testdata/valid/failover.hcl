runbook {
  description = "Fail model serving over to the DR region"
  parallelism = 4
  objectives {
    rto = "30m"
    rpo = "1h"
  }
  drill {
    target_bucket = "ai-model-artifacts-drill"
    target_prefix = "drill/"
  }
}

variable "restore_to" {
  type        = string
  description = "RFC 3339 time to restore model artifacts to"
  default     = "2026-03-01T12:00:00Z"
  validation {
    condition     = can(timecmp(var.restore_to, "1970-01-01T00:00:00Z"))
    error_message = "restore_to must be an RFC 3339 time with a zone."
  }
}

variable "regions" {
  type    = list(string)
  default = ["us-east-1", "us-west-2"]
}

locals {
  dr_region = element(var.regions, 1)
  deadline  = timeadd(var.restore_to, "1h")
  label     = format("%s-%s", local.dr_region, formatdate("YYYYMMDD", var.restore_to))
}

step "wait" "settle" {
  duration    = duration(parseduration("1m30s") / 90)
  description = "Let replication settle"
  timeout     = "5m"
  retry {
    attempts = 3
    backoff  = "2s"
  }
}

step "echo" "note" {
  value      = "${local.label} until ${local.deadline}"
  on_failure = "continue"
  when       = length(var.regions) > 1
}

gate "failover" {
  prompt  = "Settled after ${step.wait.settle.waited}. Restore ${upper(local.dr_region)}?"
  timeout = "15m"
}

step "danger" "models" {
  bucket     = "ai-model-artifacts"
  to_time    = var.restore_to
  depends_on = [gate.failover]
  drill_safe = true
}

output "copied" {
  value       = step.danger.models.copied
  description = "Objects restored"
}

output "note" {
  value     = step.echo.note.value
  sensitive = true
}
