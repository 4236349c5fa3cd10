# smoke.hcl: a headless smoke test of drconsole itself. It needs no AWS
# account and no sandbox, so it is the first runbook to try and the one the
# command-line tests run.
#
# What it does:
#   1. wait "settle" pauses briefly (var.settle, default "100ms").
#   2. exec "greet" runs `echo` with var.greeting, no shell involved; its
#      output lands in the journal and in step.exec.greet.stdout.
#   3. exec "kernel" runs `uname -s` at the same time as greet: independent
#      steps run in parallel, up to the runbook's parallelism.
#   4. gate "proceed" asks the operator to type "proceed", quoting the
#      greeting; it is refused after 5 minutes without an answer.
#   5. http_check "health" probes var.health_url until it answers 200, within
#      30 seconds; it is skipped when health_url is empty (the default).
#
# Try it:
#   drconsole validate runbooks/smoke.hcl
#   drconsole plan     runbooks/smoke.hcl
#   drconsole run      runbooks/smoke.hcl                  # asks at the gate
#   drconsole run      runbooks/smoke.hcl --auto-approve --output junit
#   drconsole run      runbooks/smoke.hcl --auto-approve \
#     --var health_url=http://127.0.0.1:8080/healthz

runbook {
  description = "Headless smoke test: wait, exec and http_check behind a gate"
  parallelism = 2
}

variable "greeting" {
  type        = string
  default     = "hello from drconsole"
  description = "What the greet step echoes"
}

variable "settle" {
  type        = string
  default     = "100ms"
  description = "How long the first step waits"
}

variable "health_url" {
  type        = string
  default     = ""
  description = "Endpoint the health step probes; empty skips the probe"
  validation {
    condition     = var.health_url == "" || startswith(var.health_url, "http://") || startswith(var.health_url, "https://")
    error_message = "health_url must be empty or an http:// or https:// URL."
  }
}

step "wait" "settle" {
  duration    = var.settle
  description = "Let the estate settle"
}

step "exec" "greet" {
  command     = ["echo", var.greeting]
  description = "Greet, to show a command's output reaching the journal"
  depends_on  = [step.wait.settle]
}

step "exec" "kernel" {
  command    = ["uname", "-s"]
  depends_on = [step.wait.settle]
}

gate "proceed" {
  prompt  = "Greeted with \"${trimspace(step.exec.greet.stdout)}\" on ${trimspace(step.exec.kernel.stdout)}. Probe the health endpoint?"
  timeout = "5m"
}

step "http_check" "health" {
  when       = var.health_url != ""
  url        = var.health_url
  within     = "30s"
  interval   = "1s"
  depends_on = [gate.proceed]
}

output "greeting" {
  value       = trimspace(step.exec.greet.stdout)
  description = "What greet printed"
}

output "health_status" {
  value       = try(step.http_check.health.status, null)
  description = "The health endpoint's status, or null when not probed"
}
