# want: Incorrect attribute value type at 4:14
# detail: string required
step "wait" "a" {
  duration = ["1s"]
}
