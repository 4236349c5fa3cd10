# want: Duplicate variable at 4:1
# detail: "x" was already declared
variable "x" {}
variable "x" {}
