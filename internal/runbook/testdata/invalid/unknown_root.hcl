# want: Unknown reference at 4:11
# detail: There is no "each" here
step "echo" "a" {
  value = each.key
}
