# Four exec steps in a chain, each appending its name to $dir/log, so a test
# can tell which ran and how often. "block" prints "waiting" once it has
# logged, then waits until $dir/go exists.

variable "dir" {
  type = string
}

step "exec" "first" {
  command = ["sh", "-c", "echo first >> \"$0/log\"", var.dir]
}

step "exec" "second" {
  command    = ["sh", "-c", "echo second >> \"$0/log\"", var.dir]
  depends_on = [step.exec.first]
}

step "exec" "block" {
  command    = ["sh", "-c", "echo block >> \"$0/log\"; echo waiting; while [ ! -e \"$0/go\" ]; do sleep 0.05; done", var.dir]
  depends_on = [step.exec.second]
}

step "exec" "last" {
  command    = ["sh", "-c", "echo last >> \"$0/log\"", var.dir]
  depends_on = [step.exec.block]
}

output "first_exit" {
  value = step.exec.first.exit_code
}
