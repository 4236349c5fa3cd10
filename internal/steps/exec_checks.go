package steps

import (
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/zclconf/go-cty/cty"
)

// ValidateConfig implements runbook.ConfigValidator.
func (Exec) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	cmd := cfg.GetAttr("command")
	if cmd.IsNull() || !cmd.IsKnown() {
		return nil
	}
	if cmd.LengthInt() == 0 {
		return []runbook.ConfigError{{Attr: "command", Summary: "Empty command", Detail: `command is the program and its arguments, e.g. ["echo", "hello"].`}}
	}
	first := cmd.Index(cty.NumberIntVal(0))
	if first.IsKnown() && !first.IsNull() && first.AsString() == "" {
		return []runbook.ConfigError{{Attr: "command", Summary: "Empty program name", Detail: "The first element of command names the program to run."}}
	}
	return nil
}

// DrillRefusal implements runbook.DrillRefuser: a command can reach
// anything, and nothing tells a drill what it would touch.
func (Exec) DrillRefusal() string {
	return "a command can act on production, and nothing tells the drill what it touches"
}
