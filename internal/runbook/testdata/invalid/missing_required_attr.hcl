# want: Missing required argument at 3:19
# detail: The argument "bucket" is required
step "danger" "d" {
}
