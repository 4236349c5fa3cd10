# want: Invalid duration at 5:16
step "wait" "a" {
  retry {
    attempts = 3
    backoff  = "soon"
  }
}
