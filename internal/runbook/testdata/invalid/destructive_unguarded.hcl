# want: Destructive step without a gate at 5:3
# detail: step.danger.d
step "danger" "d" {
  bucket  = "models"
  confirm = false
}
