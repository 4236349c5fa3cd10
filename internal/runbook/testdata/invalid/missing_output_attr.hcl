# want: Unsupported attribute at 5:11
# detail: step.wait.a has no output "elapsed"; its outputs are: waited.
step "wait" "a" {}
step "echo" "b" {
  value = step.wait.a.elapsed
}
