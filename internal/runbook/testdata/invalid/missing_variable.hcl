# want: Reference to undeclared input variable at 4:11
# detail: Did you mean "region"?
step "echo" "a" {
  value = var.regoin
}
variable "region" {
  default = "us-east-1"
}
