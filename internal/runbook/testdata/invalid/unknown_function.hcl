# want: Call to unknown function at 3:11
step "echo" "a" {
  value = uppercase("x")
}
