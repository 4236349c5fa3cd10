# want: Error in function call at 4:11
# detail: not a valid RFC3339 timestamp
step "echo" "a" {
  value = timeadd("2026-03-01 12:00", "1h")
}
