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
	graph map[string]PlanNode
	run   runbook.RunState
}

// NewPlan returns a plan printer for nodes in execution order.
func NewPlan(w io.Writer, nodes []PlanNode, color bool) *Plan {
	p := &Plan{w: w, palette: palette(color), graph: map[string]PlanNode{}}
	for _, n := range nodes {
		p.graph[n.Addr] = n
		p.run.Node(n.Addr)
	}
	return p
}

// Emit implements runbook.Sink; the plan is printed on run_finished.
func (p *Plan) Emit(e runbook.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run.Apply(e)
	if e.Kind == runbook.RunFinished {
		return p.print(e)
	}
	return nil
}

func (p *Plan) print(fin runbook.Event) error {
	var b strings.Builder
	path := ""
	if p.run.Info != nil {
		path = p.run.Info.RunbookPath
	}
	fmt.Fprintf(&b, "Plan for %s:\n\n", p.paint(ansiBold, path))
	var steps, gates, changes, skipped, failed int
	nodes := p.run.Nodes()
	width := len(fmt.Sprint(len(nodes)))
	for i, st := range nodes {
		n, ok := p.graph[st.Node]
		if !ok {
			n = PlanNode{Addr: st.Node}
		}
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
		for _, c := range st.Redirects {
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiCyan, "⇢ drill:"), c)
		}
		switch {
		case st.Status == runbook.NodeFailed:
			failed++
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiRed, "✗ cannot plan:"), st.Error)
		case st.Status == runbook.NodeSkipped:
			skipped++
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiDim, "- skipped:"), st.Reason)
		case n.Gate:
			fmt.Fprintf(&b, "%s%s %s\n", indent, p.paint(ansiYellow, "? asks:"), orDefault(st.Prompt, "continue?"))
		default:
			if n.Confirm {
				fmt.Fprintf(&b, "%s%s\n", indent, p.paint(ansiYellow, "? asks for confirmation before it acts"))
			}
			if st.Status == runbook.NodePlanned && len(st.Changes) == 0 {
				fmt.Fprintf(&b, "%s%s\n", indent, p.paint(ansiDim, "no changes"))
			}
			for _, c := range st.Changes {
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
