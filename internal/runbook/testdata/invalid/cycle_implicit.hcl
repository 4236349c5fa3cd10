# want: Dependency cycle at 3:1
# detail: step.echo.a -> step.echo.c -> gate.g -> step.echo.a
step "echo" "a" {
  value = step.echo.c.value
}
gate "g" {
  prompt = step.echo.a.value
}
step "echo" "c" {
  when = gate.g.approved
}
