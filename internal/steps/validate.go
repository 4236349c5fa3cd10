package steps

import (
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/zclconf/go-cty/cty"
)

// checkDuration reports a known duration attribute that does not parse.
func checkDuration(cfg cty.Value, name string) []runbook.ConfigError {
	v := cfg.GetAttr(name)
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	if _, err := ParseDuration(v.AsString()); err != nil {
		return []runbook.ConfigError{{Attr: name, Summary: "Invalid duration", Detail: err.Error() + "."}}
	}
	return nil
}

// ValidateConfig implements runbook.ConfigValidator.
func (Wait) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	return checkDuration(cfg, "duration")
}

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

// ValidateConfig implements runbook.ConfigValidator.
func (HTTPCheck) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	var errs []runbook.ConfigError
	probe := func(name string) cty.Value {
		// Check one attribute at a time so each error points at its own.
		attrs := map[string]cty.Value{
			"url":           cty.UnknownVal(cty.String),
			"expect_status": cty.NullVal(cty.Number),
			"within":        cty.NullVal(cty.String),
			"interval":      cty.NullVal(cty.String),
		}
		attrs[name] = cfg.GetAttr(name)
		return cty.ObjectVal(attrs)
	}
	for _, name := range []string{"url", "expect_status", "within", "interval"} {
		if _, err := decodeHTTPCheck(probe(name)); err != nil {
			errs = append(errs, runbook.ConfigError{Attr: name, Summary: "Invalid " + name, Detail: err.Error() + "."})
		}
	}
	return errs
}
