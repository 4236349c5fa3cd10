package output

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/drconsole/drconsole/internal/runbook"
)

// PlanNode is a step or gate as the plan shows it.
type PlanNode struct {
	Addr        string
	Deps        []string // addresses it waits for
	Description string
	Confirm     bool // a confirmation gate guards the step
	Gate        bool
}

// Plan collects a dry-run and prints, when it ends, the graph in execution
// order with each step's changes, like `terraform plan`.
type Plan struct {
	mu sync.Mutex
	w  io.Writer
	palette
	nodes []PlanNode
	info  map[string]*planInfo
	path  string
	runID string
}

type planInfo struct {
	changes []runbook.Change
	planned bool
	prompt  string
	skipped string
	failed  string
	drill   []runbook.Change // what a drill redirects
}

// NewPlan returns a plan printer for nodes in execution order.
func NewPlan(w io.Writer, nodes []PlanNode, color bool) *Plan {
	p := &Plan{w: w, palette: palette(color), nodes: nodes, info: map[string]*planInfo{}}
	for _, n := range nodes {
		p.info[n.Addr] = &planInfo{}
	}
	return p
}

// Emit implements runbook.Sink; the plan is printed on run_finished.
func (p *Plan) Emit(e runbook.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.info[e.Node]
	if in == nil && e.Node != "" {
		in = &planInfo{}
		p.info[e.Node] = in
		p.nodes = append(p.nodes, PlanNode{Addr: e.Node})
	}
	switch e.Kind {
	case runbook.RunStarted:
		p.runID = e.RunID
		if e.Run != nil {
			p.path = e.Run.RunbookPath
		}
	case runbook.StepDrilled:
		in.drill = append(in.drill, e.Changes...)
	case runbook.StepPlanned:
		in.planned = true
		in.changes = append(in.changes, e.Changes...)
	case runbook.GateAsked:
		in.prompt = e.Line
	case runbook.StepSkipped:
		in.skipped = e.Reason
	case runbook.StepFailed:
		in.failed = e.Error
	case runbook.RunFinished:
		return p.print(e)
	}
	return nil
}

func (p *Plan) print(fin runbook.Event) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s:\n\n", p.paint(ansiBold, p.path))
	var steps, gates, changes, skipped, failed int
	width := len(fmt.Sprint(len(p.nodes)))
	for i, n := range p.nodes {
		in := p.info[n.Addr]
		head := fmt.Sprintf("%*d. %s", width, i+1, p.paint(ansiBold, n.Addr))
		if len(n.Deps) > 0 {
			head += p.paint(ansiDim, "  (after "+strings.Join(n.Deps, ", ")+")")
		}
		b.WriteString(head + "\n")
		indent := strings.Repeat(" ", width+2)
		if n.Description != "" {
			fmt.Fprintf(&b, "%s%s\n", indent, p.paint(ansiDim, n.Description))
		}
		if n.Gate {
			gates++
		} else {
			steps++
		}
		for _, c := range in.drill {
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiCyan, "⇢ drill:"), c)
		}
		switch {
		case in.failed != "":
			failed++
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiRed, "✗ cannot plan:"), in.failed)
		case in.skipped != "":
			skipped++
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiDim, "- skipped:"), in.skipped)
		case n.Gate:
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiYellow, "? asks:"), orDefault(in.prompt, "continue?"))
		default:
			if n.Confirm {
				fmt.Fprintf(&b, "%s%s\n", indent, p.paint(ansiYellow, "? asks for confirmation before it acts"))
			}
			if in.planned && len(in.changes) == 0 {
				fmt.Fprintf(&b, "%s%s\n", indent, p.paint(ansiDim, "no changes"))
			}
			for _, c := range in.changes {
				changes++
				fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiGreen, "+"), c)
			}
		}
	}
	fmt.Fprintf(&b, "\nPlan: %d %s, %d %s, %d %s", steps, plural(steps, "step"), gates, plural(gates, "gate"), changes, plural(changes, "change"))
	if skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", skipped)
	}
	if failed > 0 {
		fmt.Fprintf(&b, ", %d could not be planned", failed)
	}
	b.WriteString(".\n")
	if fin.Error != "" {
		fmt.Fprintf(&b, "%s %s\n", p.paint(ansiRed, "Error:"), fin.Error)
	}
	if _, err := io.WriteString(p.w, b.String()); err != nil {
		return fmt.Errorf("print plan: %w", err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
