runbook {
  description = "A wait behind a gate"
}

variable "note" {
  type        = string
  default     = "drill"
  description = "recorded with the run"
}

step "wait" "settle" {
  duration = "1ms"
}

gate "go" {
  prompt     = "Go on (${var.note})?"
  depends_on = [step.wait.settle]
}

step "wait" "after" {
  duration   = "1ms"
  depends_on = [gate.go]
}

output "note" {
  value = var.note
}
