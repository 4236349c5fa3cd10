# want: Invalid when condition at 4:10
# detail: when must be true or false
step "wait" "a" {
  when = "sometimes"
}
