# want: Unsupported argument at 4:3
# detail: An argument named "durration" is not expected here
step "wait" "a" {
  durration = "1s"
}
