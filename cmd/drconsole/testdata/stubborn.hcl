# One exec step that ignores SIGTERM and waits until $dir/go exists, so a
# cancelled run cannot stop it cleanly and a second interrupt is needed.

variable "dir" {
  type = string
}

step "exec" "stubborn" {
  command = ["sh", "-c", "trap '' TERM; echo waiting; while [ ! -e \"$0/go\" ]; do sleep 0.05; done", var.dir]
}
