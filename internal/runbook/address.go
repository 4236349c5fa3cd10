package runbook

import "strings"

// Address names a node of the graph: a step ("step.TYPE.NAME") or a gate
// ("gate.NAME"). Events, journals and reports carry the string form; code
// outside this package reads it back through ParseAddress rather than
// splitting strings, so the address grammar lives in one place.
type Address struct {
	Kind NodeKind
	Type string // the step type; "" for a gate
	Name string
}

// StepAddress is the address of the step `step "typ" "name"`.
func StepAddress(typ, name string) Address { return Address{Kind: KindStep, Type: typ, Name: name} }

// GateAddress is the address of the gate `gate "name"`.
func GateAddress(name string) Address { return Address{Kind: KindGate, Name: name} }

// String renders the address as runbooks and events write it.
func (a Address) String() string {
	if a.Kind == KindGate {
		return "gate." + a.Name
	}
	return "step." + a.Type + "." + a.Name
}

// ParseAddress reads "step.TYPE.NAME" or "gate.NAME". ok is false for
// anything else, including empty parts.
func ParseAddress(s string) (a Address, ok bool) {
	kind, rest, found := strings.Cut(s, ".")
	if !found || rest == "" {
		return Address{}, false
	}
	switch kind {
	case "gate":
		if strings.Contains(rest, ".") {
			return Address{}, false
		}
		return GateAddress(rest), true
	case "step":
		typ, name, found := strings.Cut(rest, ".")
		if !found || typ == "" || name == "" || strings.Contains(name, ".") {
			return Address{}, false
		}
		return StepAddress(typ, name), true
	}
	return Address{}, false
}

// Address is the node's address in typed form.
func (n *Node) Address() Address {
	return Address{Kind: n.Kind, Type: n.Type, Name: n.Name}
}
