# want: Invalid on_failure at 4:16
# detail: not "retry"
step "wait" "a" {
  on_failure = "retry"
}
