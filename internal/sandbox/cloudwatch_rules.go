package sandbox

import (
	"fmt"
	"strings"
)

// alarmRule is a parsed composite alarm rule: ALARM(name), OK(name),
// INSUFFICIENT_DATA(name), TRUE, FALSE, combined with AND, OR, NOT and
// parentheses.
type alarmRule struct {
	op          string // "state", "and", "or", "not", "const"
	state, name string
	value       bool
	kids        []*alarmRule
}

func (r *alarmRule) eval(stateOf func(string) string) bool {
	switch r.op {
	case "state":
		return stateOf(r.name) == r.state
	case "and":
		return r.kids[0].eval(stateOf) && r.kids[1].eval(stateOf)
	case "or":
		return r.kids[0].eval(stateOf) || r.kids[1].eval(stateOf)
	case "not":
		return !r.kids[0].eval(stateOf)
	}
	return r.value
}

// names lists the alarms a rule refers to.
func (r *alarmRule) names() []string {
	if r.op == "state" {
		return []string{r.name}
	}
	var out []string
	for _, k := range r.kids {
		out = append(out, k.names()...)
	}
	return out
}

type ruleParser struct {
	toks []string
	pos  int
}

func tokenizeRule(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, string(ch))
			i++
		case ch == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote at %d", i)
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()\"", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseAlarmRule(s string) (*alarmRule, error) {
	toks, err := tokenizeRule(s)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks}
	r, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return r, nil
}

func (p *ruleParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *ruleParser) or() (*alarmRule, error) { return p.binary("or", p.and) }

func (p *ruleParser) and() (*alarmRule, error) { return p.binary("and", p.unary) }

// binary parses operands joined by the keyword op (either case), left to
// right; next parses one operand, which binds tighter.
func (p *ruleParser) binary(op string, next func() (*alarmRule, error)) (*alarmRule, error) {
	l, err := next()
	for err == nil && strings.EqualFold(p.peek(), op) {
		p.pos++
		var r *alarmRule
		if r, err = next(); err == nil {
			l = &alarmRule{op: op, kids: []*alarmRule{l, r}}
		}
	}
	return l, err
}

func (p *ruleParser) unary() (*alarmRule, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("unexpected end of rule")
	case strings.EqualFold(t, "NOT"):
		p.pos++
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &alarmRule{op: "not", kids: []*alarmRule{k}}, nil
	case t == "(":
		p.pos++
		r, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return r, nil
	case strings.EqualFold(t, "TRUE") || strings.EqualFold(t, "FALSE"):
		p.pos++
		return &alarmRule{op: "const", value: strings.EqualFold(t, "TRUE")}, nil
	}
	state := strings.ToUpper(t)
	if !validAlarmState(state) {
		return nil, fmt.Errorf("expected ALARM, OK, INSUFFICIENT_DATA, NOT, TRUE, FALSE or (, got %q", t)
	}
	p.pos++
	if p.peek() != "(" {
		return nil, fmt.Errorf("%s must be followed by (alarm-name)", t)
	}
	p.pos++
	name := strings.Trim(p.peek(), `"`)
	if name == "" || name == ")" {
		return nil, fmt.Errorf("%s() needs an alarm name", t)
	}
	p.pos++
	if p.peek() != ")" {
		return nil, fmt.Errorf("missing ) after %s(%s", t, name)
	}
	p.pos++
	return &alarmRule{op: "state", state: state, name: name}, nil
}
