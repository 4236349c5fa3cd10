# want: Invalid duration at 4:13
# detail: "10 minutes" is not a duration
step "wait" "a" {
  timeout = "10 minutes"
}
