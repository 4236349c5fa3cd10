# want: Local value cycle at 4:3
# detail: local.a -> local.b -> local.a
locals {
  a = local.b
  b = local.a
}
