# want: Invalid depends_on reference at 4:17
# detail: step.TYPE.NAME or gate.NAME
step "wait" "a" {
  depends_on = [var.x]
}
variable "x" {}
