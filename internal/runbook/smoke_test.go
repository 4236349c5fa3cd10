package runbook

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	reg, rec, _ := testRegistry()
	rb, diags := Parse(map[string][]byte{"main.hcl": []byte(`
runbook {
  description = "smoke"
  parallelism = 2
}
variable "v" {
  type = string
  default = "hi"
}
locals {
  greeting = "${var.v}!"
}
step "echo" "a" {
  value = local.greeting
}
step "echo" "b" {
  value = "${step.echo.a.value} again"
}
gate "g" {
  prompt = "ok ${step.echo.b.value}?"
}
step "danger" "d" {
  bucket = "models"
  depends_on = [gate.g]
}
output "b" { value = step.echo.b.value }
`)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vars, diags := rb.ResolveVars(VarInputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ev := &events{}
	res := Execute(context.Background(), rb, Options{RunID: "r1", Vars: vars, Sink: ev, AutoApprove: true})
	if res.Status != StatusSucceeded {
		t.Fatal(res.Err)
	}
	for _, e := range ev.list() {
		t.Logf("%s %s %s %s %s", e.Kind, e.Node, e.Outputs, e.Reason, e.Line)
	}
	t.Log(rec.appliedList(), res.Outputs)
}
