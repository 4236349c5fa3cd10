# want: Invalid type specification at 3:10
variable "x" {
  type = strin
}
