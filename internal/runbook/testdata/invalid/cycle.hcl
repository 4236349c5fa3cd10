# want: Dependency cycle at 3:1
# detail: step.wait.a -> step.wait.b -> step.wait.a
step "wait" "a" {
  depends_on = [step.wait.b]
}
step "wait" "b" {
  depends_on = [step.wait.a]
}
