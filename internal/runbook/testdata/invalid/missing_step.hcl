# want: Reference to undeclared step at 4:14
# detail: No step "echo" "b" is declared.
step "echo" "a" {
  value = "${step.echo.b.value}"
}
