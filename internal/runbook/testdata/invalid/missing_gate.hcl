# want: Reference to undeclared gate at 4:17
# detail: Did you mean "go"?
step "wait" "a" {
  depends_on = [gate.og]
}
gate "go" {}
