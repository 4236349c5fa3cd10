# want: Invalid default value for variable at 5:13
# detail: a number is required
variable "n" {
  type    = number
  default = "many"
}
