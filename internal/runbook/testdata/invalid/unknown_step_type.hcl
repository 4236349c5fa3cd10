# want: Unknown step type at 3:6
# detail: Did you mean "wait"?
step "wiat" "a" {
  duration = "1s"
}
