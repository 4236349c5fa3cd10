runbook {
  description = "Scale the DR fleet behind a gate"
}

variable "desired" {
  type        = number
  default     = 2
  description = "instances the DR group runs"
}

variable "reason" {
  type        = string
  description = "why the fleet is scaled, for the journal"
}

step "wait" "settle" {
  duration = "1ms"
}

gate "scale" {
  prompt     = "Scale ai-inference-dr to ${var.desired} instances (${var.reason})?"
  depends_on = [step.wait.settle]
  timeout    = "30m"
}

step "asg_scale" "serving" {
  region        = "us-west-2"
  group         = "ai-inference-dr"
  desired       = var.desired
  poll_interval = "10ms"
  depends_on    = [gate.scale]
}
