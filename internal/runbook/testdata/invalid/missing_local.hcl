# want: Reference to undeclared local value at 7:11
# detail: A local value named "nmae" is not declared.
locals {
  name = "x"
}
step "echo" "a" {
  value = local.nmae
}
