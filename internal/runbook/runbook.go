package runbook

import (
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// BlastRadiuser is implemented by destructive step types that can name what
// a step would touch in one word (a bucket, an auto-scaling group). The
// operator types that token to approve the step, so approving means reading
// what is at stake, not pressing Enter.
type BlastRadiuser interface {
	BlastRadius(cfg cty.Value) string
}

// ConfigValidator is implemented by step types that check their evaluated
// configuration beyond its type (timestamps, enumerations, ranges). It runs
// when a runbook is decoded, with unknown values wherever the configuration
// depends on variables or other steps, so it must ignore unknown values.
// Each returned error names the attribute it is about; the engine turns it
// into a diagnostic pointing at that attribute in the source.
type ConfigValidator interface {
	ValidateConfig(cfg cty.Value) []ConfigError
}

// ConfigError is one problem a ConfigValidator found.
type ConfigError struct {
	Attr    string // attribute name in the step body; "" for the whole block
	Summary string // e.g. "Invalid timestamp"
	Detail  string
}

// NodeKind says whether a graph node is a step or a gate.
type NodeKind int

// Node kinds.
const (
	KindStep NodeKind = iota
	KindGate
)

func (k NodeKind) String() string {
	if k == KindGate {
		return "gate"
	}
	return "step"
}

// The on_failure policies.
const (
	OnFailureAbort    = "abort"
	OnFailureContinue = "continue"
)

// DefaultParallelism is how many nodes run at once when neither the runbook
// nor the caller says.
const DefaultParallelism = 4

// DefaultUnavailableAfter is how long a step's calls to one service in one
// region may all fail before the step fails, naming them, when neither
// the step nor the runbook says: long enough for the SDK's backoff to ride
// out a blip (several rounds of its 20-second cap), short enough that an
// operator learns of a regional outage in minutes, not at the step's
// timeout.
const DefaultUnavailableAfter = 2 * time.Minute

// Never, as an unavailable_after of "0s", turns the bound off: the step
// waits out an outage until its timeout.
const Never time.Duration = -1

// Runbook is a decoded runbook. It is read-only once Parse returns, so one
// value can be executed many times, also concurrently.
type Runbook struct {
	Path string // as given to Load; "" for Parse
	// Hash is the hex sha256 over the base names and contents of the source
	// files, in name order: the same sources give the same hash wherever
	// they are stored.
	Hash string
	// Files holds the parsed sources by file name, for diagnostic writers.
	Files map[string]*hcl.File

	Description string
	Parallelism int // 0: not set
	// UnavailableAfter is how long one service in one region may fail
	// every call of a step before the step fails (unavailable_after); 0
	// takes DefaultUnavailableAfter, Never turns the bound off.
	UnavailableAfter time.Duration
	Objectives       *Objectives  // nil: not set
	Drill            *DrillTarget // nil: not set

	Variables []*Variable
	Locals    []*Local
	Nodes     []*Node // steps and gates, in declaration order
	Outputs   []*Output

	nodeByAddr  map[string]*Node
	varByName   map[string]*Variable
	localByName map[string]*Local
	order       []*Node
	localOrder  []*Local
	diags       hcl.Diagnostics
}

// Objectives are the recovery objectives a drill is measured against.
type Objectives struct {
	RTO, RPO time.Duration // 0: not set
}

// DrillTarget is where a drill restores to instead of the production
// location.
type DrillTarget struct {
	TargetBucket string
	TargetPrefix string
	// TargetBucketExpr and TargetPrefixExpr are set instead when the
	// runbook says them with variables (target_bucket = var.model_bucket):
	// Resolve evaluates them.
	TargetBucketExpr, TargetPrefixExpr hcl.Expression
	// Faults are injected into the sandbox while the drill runs.
	Faults []DrillFault
}

// DrillFault is a fault a drill injects: a kind as the sandbox's --fault
// flag names it (throttle, error5xx, latency, drop, outage), what it
// matches, and when it starts: at once, After the drill's start, or when
// the step at AtStep ("step.TYPE.NAME") starts. PerSecond makes a throttle
// fault a rate limit per S3 prefix (per operation elsewhere); Every makes a
// fault hit each Nth matching request instead of a random fraction.
type DrillFault struct {
	Kind, Service, Operation, Region string
	Writes                           bool // only requests that change state
	Rate, PerSecond                  float64
	Every                            int // each Nth matching request
	Latency, After                   time.Duration
	AtStep                           string
	DeclRange                        hcl.Range
}

// Variable is a declared input.
type Variable struct {
	Name        string
	Type        cty.Type // cty.DynamicPseudoType for "any" or no type
	Default     cty.Value
	HasDefault  bool
	Description string
	Sensitive   bool
	DeclRange   hcl.Range

	validations []*validation
}

type validation struct {
	condition hcl.Expression
	message   hcl.Expression
	rng       hcl.Range
}

// Local is a named expression from a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range

	refs []hcl.Traversal
}

// Output is a value the runbook reports when the run ends.
type Output struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range

	expr hcl.Expression
}

// Node is a step or a gate in the runbook's graph.
type Node struct {
	Addr      string // "step.TYPE.NAME" or "gate.NAME"
	Kind      NodeKind
	Type      string // step type; "" for gates
	Name      string
	DeclRange hcl.Range
	// Deps are the addresses this node waits for: depends_on plus the
	// references in its expressions, sorted.
	Deps        []string
	OnFailure   string // OnFailureAbort or OnFailureContinue
	Confirm     bool   // a confirmation gate guards this step
	Description string
	DrillSafe   bool
	// StepType is the implementation from the registry; nil for gates.
	StepType StepType

	index   int
	body    hcl.Body // a step's own attributes, kept unevaluated
	spec    hcldec.ObjectSpec
	when    hcl.Expression
	timeout hcl.Expression
	// unavailable is the step's unavailable_after; nil takes the
	// runbook's.
	unavailable hcl.Expression
	attempts    hcl.Expression
	backoff     hcl.Expression
	prompt      hcl.Expression
	confirmRng  hcl.Range
	refs        []hcl.Traversal
	// scope lists what evaluating this node needs: the nodes and locals its
	// expressions reference, directly or through locals.
	scopeNodes  []*Node
	scopeLocals []*Local
	deps        []*Node
	dependents  []*Node
	// coveredBy is the gate whose approval confirms this step (see
	// linkCovers); covers lists, for a gate, the steps it confirms.
	coveredBy *Node
	covers    []*Node
}

// Diagnostics returns what decoding the runbook found, errors and warnings.
func (rb *Runbook) Diagnostics() hcl.Diagnostics { return rb.diags }

// Node returns the node at addr, or nil.
func (rb *Runbook) Node(addr string) *Node { return rb.nodeByAddr[addr] }

// Order returns the nodes in a topological execution order: every node
// after its dependencies, ties broken by declaration order, so the order is
// the same for the same source. It is nil when the graph has a cycle.
func (rb *Runbook) Order() []*Node {
	return append([]*Node(nil), rb.order...)
}

// NewDiagnosticWriter returns hcl's diagnostic writer over the runbook's
// sources, which prints each diagnostic with file:line:column and the source
// line it points at. width 0 disables wrapping.
func (rb *Runbook) NewDiagnosticWriter(w io.Writer, color bool, width uint) hcl.DiagnosticWriter {
	var files map[string]*hcl.File
	if rb != nil {
		files = rb.Files
	}
	return hcl.NewDiagnosticTextWriter(w, files, width, color)
}

// Resolve returns the drill target's bucket and prefix for a run whose
// variables are vars.
func (dt *DrillTarget) Resolve(vars map[string]cty.Value) (bucket, prefix string, diags hcl.Diagnostics) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}, Functions: functions(nil)}
	eval := func(lit string, expr hcl.Expression, what string) string {
		if expr == nil {
			return lit
		}
		v, d := expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return ""
		}
		v, err := convert.Convert(v, cty.String)
		if err != nil || v.IsNull() || !v.IsKnown() {
			rng := expr.Range()
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid drill target",
				Detail: fmt.Sprintf("The %s must be a string.", what), Subject: &rng})
			return ""
		}
		return v.AsString()
	}
	bucket = eval(dt.TargetBucket, dt.TargetBucketExpr, "drill target_bucket")
	prefix = eval(dt.TargetPrefix, dt.TargetPrefixExpr, "drill target_prefix")
	return bucket, prefix, diags
}
