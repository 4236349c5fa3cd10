# want: Incorrect attribute value type at 7:11
# detail: string required
variable "zones" {
  type = list(string)
}
step "echo" "a" {
  value = var.zones
}
