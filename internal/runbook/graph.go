package runbook

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// gateType is the value of gate.NAME in expressions.
var gateType = cty.Object(map[string]cty.Type{"approved": cty.Bool, "by": cty.String})

// runType is the value of run in expressions.
var runType = cty.Object(map[string]cty.Type{"id": cty.String, "dry_run": cty.Bool})

// metaExprs returns every expression of a node that is evaluated at run
// time, besides the step type's own attributes.
func (n *Node) metaExprs() []hcl.Expression {
	var out []hcl.Expression
	for _, e := range []hcl.Expression{n.when, n.timeout, n.attempts, n.backoff, n.prompt, n.unavailable} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// link checks every reference, derives the dependency edges, and orders
// the graph.
func (p *parser) link() hcl.Diagnostics {
	var diags hcl.Diagnostics
	rb := p.rb

	// Locals: references, then their own dependency order.
	for _, l := range rb.Locals {
		for _, tr := range l.Expr.Variables() {
			if p.checkRef(tr, &diags) {
				l.refs = append(l.refs, tr)
			}
		}
	}
	localOrder, d := p.orderLocals()
	diags = append(diags, d...)
	rb.localOrder = localOrder

	for _, n := range rb.Nodes {
		var refs []hcl.Traversal
		if n.body != nil && n.spec != nil {
			refs = append(refs, hcldec.Variables(n.body, n.spec)...)
		}
		for _, e := range n.metaExprs() {
			refs = append(refs, e.Variables()...)
		}
		depSet := map[*Node]bool{}
		scopeNodes := map[*Node]bool{}
		scopeLocals := map[*Local]bool{}
		for _, tr := range refs {
			if !p.checkRef(tr, &diags) {
				continue
			}
			n.refs = append(n.refs, tr)
			if dep := rb.refNode(tr); dep != nil {
				depSet[dep] = true
				scopeNodes[dep] = true
			}
			if l := rb.refLocal(tr); l != nil {
				p.addLocalScope(l, scopeLocals, scopeNodes, depSet)
			}
		}
		for _, tr := range p.explicit[n] {
			if !p.checkRef(tr, &diags) {
				continue
			}
			if dep := rb.refNode(tr); dep != nil {
				depSet[dep] = true
			}
		}
		for dep := range depSet {
			n.deps = append(n.deps, dep)
		}
		sort.Slice(n.deps, func(i, j int) bool { return n.deps[i].index < n.deps[j].index })
		for _, dep := range n.deps {
			n.Deps = append(n.Deps, dep.Addr)
			dep.dependents = append(dep.dependents, n)
		}
		sort.Strings(n.Deps)
		for dep := range scopeNodes {
			n.scopeNodes = append(n.scopeNodes, dep)
		}
		sort.Slice(n.scopeNodes, func(i, j int) bool { return n.scopeNodes[i].index < n.scopeNodes[j].index })
		for _, l := range localOrder {
			if scopeLocals[l] {
				n.scopeLocals = append(n.scopeLocals, l)
			}
		}
	}
	for _, o := range rb.Outputs {
		if o.expr == nil {
			continue
		}
		for _, tr := range o.expr.Variables() {
			p.checkRef(tr, &diags)
		}
	}
	for _, n := range rb.Nodes {
		sort.Slice(n.dependents, func(i, j int) bool { return n.dependents[i].index < n.dependents[j].index })
	}

	cyc := findCycles(rb.Nodes)
	diags = append(diags, cyc...)
	if len(cyc) == 0 {
		rb.order = topoOrder(rb.Nodes)
		diags = append(diags, p.checkGuards()...)
		linkCovers(rb.Nodes)
	}
	return diags
}

// linkCovers finds, for each gate, the steps it decides for: a destructive
// or confirmed step that depends on the gate directly, and whose other
// dependencies are all upstream of the gate. When such a gate opens,
// everything the step reads has finished, so the gate can plan the step
// and show its changes; approving the gate then is the step's
// confirmation, and the operator is asked once for one decision.
func linkCovers(nodes []*Node) {
	for _, n := range nodes {
		if n.Kind != KindStep || n.StepType == nil || !(n.Confirm || n.StepType.Destructive()) {
			continue
		}
		for _, g := range n.deps {
			if g.Kind != KindGate {
				continue
			}
			up := upstream(g)
			all := true
			for _, d := range n.deps {
				if d != g && !up[d] {
					all = false
					break
				}
			}
			if all {
				n.coveredBy = g
				g.covers = append(g.covers, n)
				break
			}
		}
	}
}

// upstream is every node n waits for, directly or not.
func upstream(n *Node) map[*Node]bool {
	seen := map[*Node]bool{}
	stack := append([]*Node(nil), n.deps...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, x.deps...)
	}
	return seen
}

func (p *parser) addLocalScope(l *Local, locals map[*Local]bool, nodes, deps map[*Node]bool) {
	if locals[l] {
		return
	}
	locals[l] = true
	for _, tr := range l.refs {
		if dep := p.rb.refNode(tr); dep != nil {
			nodes[dep] = true
			deps[dep] = true
		}
		if l2 := p.rb.refLocal(tr); l2 != nil {
			p.addLocalScope(l2, locals, nodes, deps)
		}
	}
}

// orderLocals sorts locals so each comes after the locals it uses, and
// reports cycles among them.
func (p *parser) orderLocals() ([]*Local, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	state := map[*Local]int{} // 0 new, 1 visiting, 2 done
	var order []*Local
	var visit func(l *Local, path []*Local)
	visit = func(l *Local, path []*Local) {
		switch state[l] {
		case 2:
			return
		case 1:
			var names []string
			start := 0
			for i, x := range path {
				if x == l {
					start = i
				}
			}
			for _, x := range path[start:] {
				names = append(names, "local."+x.Name)
			}
			names = append(names, "local."+l.Name)
			rng := l.DeclRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Local value cycle",
				Detail:  "These local values refer to each other: " + strings.Join(names, " -> ") + ".",
				Subject: &rng,
			})
			return
		}
		state[l] = 1
		for _, tr := range l.refs {
			if l2 := p.rb.refLocal(tr); l2 != nil {
				visit(l2, append(path, l))
			}
		}
		state[l] = 2
		order = append(order, l)
	}
	for _, l := range p.rb.Locals {
		visit(l, nil)
	}
	return order, diags
}

func (rb *Runbook) refNode(tr hcl.Traversal) *Node {
	switch tr.RootName() {
	case "step":
		if len(tr) >= 3 {
			t, ok1 := tr[1].(hcl.TraverseAttr)
			n, ok2 := tr[2].(hcl.TraverseAttr)
			if ok1 && ok2 {
				return rb.nodeByAddr[StepAddress(t.Name, n.Name).String()]
			}
		}
	case "gate":
		if len(tr) >= 2 {
			if n, ok := tr[1].(hcl.TraverseAttr); ok {
				return rb.nodeByAddr[GateAddress(n.Name).String()]
			}
		}
	}
	return nil
}

func (rb *Runbook) refLocal(tr hcl.Traversal) *Local {
	if tr.RootName() == "local" && len(tr) >= 2 {
		if n, ok := tr[1].(hcl.TraverseAttr); ok {
			return rb.localByName[n.Name]
		}
	}
	return nil
}

// checkRef reports a reference that names nothing declared; it returns
// whether the reference is valid.
func (p *parser) checkRef(tr hcl.Traversal, diags *hcl.Diagnostics) bool {
	rb := p.rb
	rng := tr.SourceRange()
	fail := func(summary, detail string) bool {
		*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng})
		return false
	}
	attrAt := func(i int) (string, bool) {
		if len(tr) <= i {
			return "", false
		}
		switch t := tr[i].(type) {
		case hcl.TraverseAttr:
			return t.Name, true
		case hcl.TraverseIndex:
			if t.Key.Type() == cty.String && t.Key.IsKnown() && !t.Key.IsNull() {
				return t.Key.AsString(), true
			}
		}
		return "", false
	}
	root := tr.RootName()
	switch root {
	case "var":
		name, ok := attrAt(1)
		if !ok {
			return fail("Invalid reference", "A variable is referenced as var.NAME.")
		}
		if rb.varByName[name] == nil {
			return fail("Reference to undeclared input variable", fmt.Sprintf("An input variable named %q is not declared.%s", name, didYouMean(name, keys(rb.varByName))))
		}
	case "local":
		name, ok := attrAt(1)
		if !ok {
			return fail("Invalid reference", "A local value is referenced as local.NAME.")
		}
		if rb.localByName[name] == nil {
			return fail("Reference to undeclared local value", fmt.Sprintf("A local value named %q is not declared.%s", name, didYouMean(name, keys(rb.localByName))))
		}
	case "step":
		typ, ok1 := attrAt(1)
		name, ok2 := attrAt(2)
		if !ok1 || !ok2 {
			return fail("Invalid reference", "A step is referenced as step.TYPE.NAME, and its outputs as step.TYPE.NAME.OUTPUT.")
		}
		addr := StepAddress(typ, name).String()
		n := rb.nodeByAddr[addr]
		if n == nil {
			var steps []string
			for a, x := range rb.nodeByAddr {
				if x.Kind == KindStep {
					steps = append(steps, a)
				}
			}
			return fail("Reference to undeclared step", fmt.Sprintf("No step %q %q is declared.%s", typ, name, didYouMean(addr, steps)))
		}
		if out, ok := attrAt(3); ok && n.StepType != nil {
			ty := n.StepType.Outputs()
			if ty.IsObjectType() && !ty.HasAttribute(out) {
				return fail("Unsupported attribute", fmt.Sprintf("%s has no output %q; its outputs are: %s.", addr, out, strings.Join(attrNames(ty), ", ")))
			}
		}
	case "gate":
		name, ok := attrAt(1)
		if !ok {
			return fail("Invalid reference", "A gate is referenced as gate.NAME.")
		}
		addr := GateAddress(name).String()
		if rb.nodeByAddr[addr] == nil {
			var gates []string
			for _, x := range rb.nodeByAddr {
				if x.Kind == KindGate {
					gates = append(gates, x.Name)
				}
			}
			return fail("Reference to undeclared gate", fmt.Sprintf("No gate %q is declared.%s", name, didYouMean(name, gates)))
		}
		if a, ok := attrAt(2); ok && !gateType.HasAttribute(a) {
			return fail("Unsupported attribute", fmt.Sprintf("%s has no attribute %q; a gate has: approved, by.", addr, a))
		}
	case "run":
		if a, ok := attrAt(1); ok && !runType.HasAttribute(a) {
			return fail("Unsupported attribute", fmt.Sprintf("run has no attribute %q; it has: dry_run, id.", a))
		}
	default:
		return fail("Unknown reference", fmt.Sprintf("There is no %q here: expressions refer to var.NAME, local.NAME, step.TYPE.NAME, gate.NAME and run.", root))
	}
	return true
}

func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func attrNames(ty cty.Type) []string {
	names := keys(ty.AttributeTypes())
	sort.Strings(names)
	return names
}

// findCycles reports each dependency cycle once, naming it in order from
// its first-declared node.
func findCycles(nodes []*Node) hcl.Diagnostics {
	// Tarjan's strongly connected components, iteratively over deps.
	idx := make([]int, len(nodes))
	low := make([]int, len(nodes))
	onStack := make([]bool, len(nodes))
	for i := range idx {
		idx[i] = -1
	}
	var stack []*Node
	var sccs [][]*Node
	counter := 0
	type frame struct {
		n *Node
		i int
	}
	for _, start := range nodes {
		if idx[start.index] >= 0 {
			continue
		}
		work := []frame{{n: start}}
		idx[start.index], low[start.index] = counter, counter
		counter++
		stack = append(stack, start)
		onStack[start.index] = true
		for len(work) > 0 {
			f := &work[len(work)-1]
			if f.i < len(f.n.deps) {
				d := f.n.deps[f.i]
				f.i++
				if idx[d.index] < 0 {
					idx[d.index], low[d.index] = counter, counter
					counter++
					stack = append(stack, d)
					onStack[d.index] = true
					work = append(work, frame{n: d})
				} else if onStack[d.index] {
					low[f.n.index] = min(low[f.n.index], idx[d.index])
				}
				continue
			}
			n := f.n
			work = work[:len(work)-1]
			if len(work) > 0 {
				parent := work[len(work)-1].n
				low[parent.index] = min(low[parent.index], low[n.index])
			}
			if low[n.index] == idx[n.index] {
				var scc []*Node
				for {
					x := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[x.index] = false
					scc = append(scc, x)
					if x == n {
						break
					}
				}
				selfLoop := false
				for _, d := range n.deps {
					if d == n {
						selfLoop = true
					}
				}
				if len(scc) > 1 || selfLoop {
					sccs = append(sccs, scc)
				}
			}
		}
	}
	var diags hcl.Diagnostics
	for _, scc := range sccs {
		in := map[*Node]bool{}
		first := scc[0]
		for _, x := range scc {
			in[x] = true
			if x.index < first.index {
				first = x
			}
		}
		path := cyclePath(first, in)
		names := make([]string, len(path))
		for i, x := range path {
			names[i] = x.Addr
		}
		rng := first.DeclRange
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle",
			Detail:   "These nodes wait for each other, so none can start: " + strings.Join(names, " -> ") + ".",
			Subject:  &rng,
		})
	}
	sort.SliceStable(diags, func(i, j int) bool { return posLess(*diags[i].Subject, *diags[j].Subject) })
	return diags
}

// cyclePath finds the shortest path from first back to itself within one
// strongly connected component, following deps in declaration order.
func cyclePath(first *Node, in map[*Node]bool) []*Node {
	prev := map[*Node]*Node{}
	queue := []*Node{first}
	seen := map[*Node]bool{first: true}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, d := range x.deps {
			if !in[d] {
				continue
			}
			if d == first {
				path := []*Node{first}
				for y := x; y != first; y = prev[y] {
					path = append(path, y)
				}
				path = append(path, first)
				// path is first, x, ..., first reversed in the middle.
				mid := path[1 : len(path)-1]
				for i, j := 0, len(mid)-1; i < j; i, j = i+1, j-1 {
					mid[i], mid[j] = mid[j], mid[i]
				}
				return path
			}
			if !seen[d] {
				seen[d] = true
				prev[d] = x
				queue = append(queue, d)
			}
		}
	}
	return []*Node{first, first}
}

type nodeHeap []*Node

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(*Node)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// kahnStart is where Kahn's algorithm starts, for the order and for the
// run alike: how many dependencies each node waits for, by index, and the
// nodes that wait for none, earliest-declared first.
func kahnStart(nodes []*Node) (pending []int, ready *nodeHeap) {
	pending = make([]int, len(nodes))
	ready = &nodeHeap{}
	for _, n := range nodes {
		pending[n.index] = len(n.deps)
		if len(n.deps) == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready)
	return pending, ready
}

// topoOrder is Kahn's algorithm taking the earliest-declared ready node
// first.
func topoOrder(nodes []*Node) []*Node {
	pending, h := kahnStart(nodes)
	order := make([]*Node, 0, len(nodes))
	for h.Len() > 0 {
		n := heap.Pop(h).(*Node)
		order = append(order, n)
		for _, d := range n.dependents {
			pending[d.index]--
			if pending[d.index] == 0 {
				heap.Push(h, d)
			}
		}
	}
	return order
}

// checkGuards reports destructive steps whose confirm was turned off with no
// gate upstream: nothing would stop them.
func (p *parser) checkGuards() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range p.rb.Nodes {
		if n.Kind != KindStep || n.StepType == nil || !n.StepType.Destructive() || n.Confirm || !p.confirmSet[n] {
			continue
		}
		if hasUpstreamGate(n) {
			continue
		}
		rng := n.confirmRng
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Destructive step without a gate",
			Detail: fmt.Sprintf("%s changes state that cannot simply be taken back, and confirm = false removes its confirmation. "+
				"Keep confirm, or make it depend on a gate.", n.Addr),
			Subject: &rng,
		})
	}
	return diags
}

func hasUpstreamGate(n *Node) bool {
	for x := range upstream(n) {
		if x.Kind == KindGate {
			return true
		}
	}
	return false
}
