# want: Duplicate local value at 7:3
# detail: "a" was already declared
locals {
  a = 1
}
locals {
  a = 2
}
