# want: Invalid timestamp at 5:13
# detail: with a zone
step "danger" "d" {
  bucket  = "models"
  to_time = "2026-03-01T12:00:00"
}
