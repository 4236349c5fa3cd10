# want: Invalid argument name at 4:3
step "wait" "a" {
  duration = "1s"
  "oops"
}
