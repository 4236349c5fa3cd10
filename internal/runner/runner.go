// Package runner is the one place that runs runbooks for every front end:
// the headless commands (cmd/drconsole) and the console (internal/tui) call
// it to start a run, a plan or a drill, to resume a run, to tear a drill
// down and to read and write drill reports. It owns the run id, the
// journal and its redactor, variable resolution and the merge of recorded
// variables on resume, every rule that refuses a run, fault injection and
// removal, and the drill report. The front ends keep only what is theirs:
// flags and printing, views and keys.
//
// The shape follows Terraform's split of internal/command (flags, views)
// from internal/backend/local (operations): a front end builds a request,
// the service checks it and returns a prepared run whose id is known at
// once, and the front end executes it in the foreground or in the
// background.
//
// Every refusal happens before anything is journalled or any AWS call is
// made, and says the same words whichever front end asked.
package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
)

// Service runs runbooks against one target and journals them in one
// state directory. Its fields are set once by the front end; a Service is
// safe for concurrent use.
type Service struct {
	// Registry holds the step types with clients that may write.
	Registry runbook.Registry
	// DryRegistry serves plans; its AWS clients refuse every write. Nil:
	// Registry.
	DryRegistry runbook.Registry
	Store       *journal.Store
	// Target names where runs act ("sandbox" or "aws"), for journals and
	// reports.
	Target         string
	Operator, Host string
	// Env is the process environment: DRCONSOLE_VAR_NAME variables, and the
	// values of secret-looking variables, which the redactor keeps out of
	// journals and output.
	Env []string
	// Defaults are variable values below the environment, files and flags
	// and above a runbook's own defaults: the estate's names when the
	// target is a sandbox the front end started. Variables a runbook does
	// not declare are ignored.
	Defaults map[string]string
	Now      func() time.Time
	// Injector reaches the sandbox for a drill's faults; nil refuses faults
	// (the target is AWS, or a sandbox the service cannot steer).
	Injector drill.Injector
	// Preflight, when set, is asked before a run that calls AWS: it fails
	// fast when the target cannot be reached (nothing listens at the
	// sandbox's address), instead of the SDK retrying for a minute.
	Preflight func(ctx context.Context) error
}

// Vars are the variables a front end was given.
type Vars struct {
	Flags []string // name=value, in order; later ones win
	Files []string // variable files, in order
	// FlagName names where Flags came from in diagnostics: "--var" when
	// empty; the console's form says "field".
	FlagName string
}

// Request is a run or a plan of one runbook.
type Request struct {
	Runbook *runbook.Runbook
	Vars    Vars
	// DryRun plans every step and applies none, on clients that refuse
	// writes.
	DryRun bool
	// NoJournal runs without a journal: `drconsole plan`, and the plan a
	// drill shows before it starts. Only a dry run goes unjournalled.
	NoJournal   bool
	Parallelism int
	AutoApprove bool
	Approver    runbook.Approver
	// Sink is the front end's: it sees every event after the journal has
	// it, redacted. Its errors never stop a run.
	Sink runbook.Sink
}

// Prepared is a run that passed every check and has its id. Execute runs
// it; the journal is created then, so a prepared run that is never
// executed leaves nothing behind.
type Prepared struct {
	// ID is the run's id: new, or the resumed run's.
	ID      string
	Runbook *runbook.Runbook
	// Warnings are the variables' non-fatal diagnostics.
	Warnings hcl.Diagnostics
	// Sink receives the run's events, as Request.Sink; a front end that
	// keys its consumer by run id sets it once ID is known.
	Sink runbook.Sink

	svc      *Service
	opts     runbook.Options
	redactor *journal.Redactor
	resume   bool // append to the journal of ID
	journal  bool
}

// JournalPath is where the run's journal is (or will be) written; empty
// for an unjournalled plan.
func (p *Prepared) JournalPath() string {
	if !p.journal {
		return ""
	}
	return p.svc.Store.Path(p.ID)
}

// Execute runs the prepared run to its end. err is set only when the
// journal could not be opened (nothing ran, res is nil) or closed (the
// run's last records may be missing).
func (p *Prepared) Execute(ctx context.Context) (res *runbook.Result, err error) {
	w, err := p.open()
	if err != nil {
		return nil, err
	}
	p.opts.Sink = p.svc.sink(w, p.redactor, p.Sink)
	res = runbook.Execute(ctx, p.Runbook, p.opts)
	if w != nil {
		if cerr := w.Close(); cerr != nil {
			err = fmt.Errorf("close journal of run %s: %w", p.ID, cerr)
		}
	}
	return res, err
}

// open opens the run's journal, or returns nil for an unjournalled plan.
func (p *Prepared) open() (*journal.Writer, error) {
	if !p.journal {
		return nil, nil
	}
	if p.svc.Store == nil {
		return nil, errors.New("no state directory is configured for the journal")
	}
	if p.resume {
		return p.svc.Store.Append(p.ID, p.redactor)
	}
	return p.svc.Store.Create(p.ID, p.redactor)
}

// sink journals each event first (if it cannot, the run stops), then
// hands it redacted to the front end's sink, whose failures never stop
// a recovery.
func (s *Service) sink(w *journal.Writer, r *journal.Redactor, front runbook.Sink) runbook.Sink {
	var printed runbook.Sink
	if front != nil {
		printed = output.Filter(output.BestEffort(front), r.Event)
	}
	if w == nil {
		return printed
	}
	return output.Multi(w, printed)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) dryRegistry() runbook.Registry {
	if s.DryRegistry != nil {
		return s.DryRegistry
	}
	return s.Registry
}

// Load decodes the runbook at path with the service's step types. The
// error, when the runbook is not valid, is a *runbook.DiagError; the
// diagnostics returned alongside a valid runbook are its warnings.
func (s *Service) Load(path string) (*runbook.Runbook, hcl.Diagnostics, error) {
	rb, diags := runbook.Load(path, s.Registry)
	if diags.HasErrors() {
		return rb, diags, &runbook.DiagError{What: path + " is not a valid runbook", Diags: diags, Sources: sources(rb)}
	}
	if rb == nil {
		return nil, diags, fmt.Errorf("%s is not a valid runbook", path)
	}
	return rb, diags, nil
}

// Prepare checks a new run (or plan) of req.Runbook and gives it an id.
func (s *Service) Prepare(ctx context.Context, req Request) (*Prepared, error) {
	if req.Runbook == nil {
		return nil, errors.New("no runbook to run")
	}
	return s.prepare(ctx, req, nil, "")
}

// prepare resolves the variables (recorded ones of a resumed run first,
// then those given), runs the preflight and builds the engine's options.
// resumeOf is the run being resumed, "" for a new one.
func (s *Service) prepare(ctx context.Context, req Request, recorded []string, resumeOf string) (*Prepared, error) {
	if req.NoJournal && !req.DryRun {
		return nil, errors.New("only a dry run may go unjournalled")
	}
	rb := req.Runbook
	vals, warnings, err := s.Resolve(rb, req.Vars, recorded)
	if err != nil {
		return nil, err
	}
	if err := s.preflight(ctx, rb); err != nil {
		return nil, err
	}
	id := resumeOf
	if id == "" {
		if id, err = journal.NewRunID(s.now(), nil); err != nil {
			return nil, fmt.Errorf("start run: %w", err)
		}
	}
	p := &Prepared{
		ID: id, Runbook: rb, Warnings: warnings, svc: s,
		redactor: journal.NewRedactor(s.Env, sensitiveValues(rb, vals)...),
		resume:   resumeOf != "", journal: !req.NoJournal, Sink: req.Sink,
	}
	p.opts = runbook.Options{
		RunID: id, DryRun: req.DryRun, Parallelism: req.Parallelism, Vars: vals,
		Registry: s.Registry, Approver: req.Approver, AutoApprove: req.AutoApprove, Now: s.Now,
		Target: s.Target, Operator: s.Operator, Host: s.Host,
		// Every step's AWS calls are watched: a region that stops
		// answering fails the step within its unavailable_after, and the
		// SDK's retries show.
		CallWatch: awsx.WatchCalls,
	}
	if req.DryRun {
		p.opts.Registry = s.dryRegistry()
	}
	if p.journal && s.Store != nil {
		// A retried or resumed step reads its earlier attempts back from
		// the journal, so outputs such as a restore's counts cover the
		// whole run.
		p.opts.EarlierLogs = func(node string, fn func(string) error) error { return s.Store.EarlierLogs(id, node, fn) }
	}
	return p, nil
}

// Resolve gathers rb's variables from recorded values (a resumed run's),
// the files, the flags, the environment and the service's Defaults. The error is a
// *runbook.DiagError.
func (s *Service) Resolve(rb *runbook.Runbook, v Vars, recorded []string) (map[string]cty.Value, hcl.Diagnostics, error) {
	vals, diags := rb.ResolveVars(runbook.VarInputs{
		Defaults: s.Defaults,
		Flags:    append(append([]string(nil), recorded...), v.Flags...), Files: v.Files, Env: s.Env, FlagName: v.FlagName,
	})
	if diags.HasErrors() {
		return nil, diags, &runbook.DiagError{What: "variables of " + rb.Path + " are not valid", Diags: diags, Sources: rb.Files}
	}
	return vals, diags, nil
}

// Validate checks rb's variables and expressions without running anything
// and without needing a value for every variable: a required one that is
// given none is unknown of its declared type, as a step's outputs are in a
// plan. Values that are given are checked for their types and validation
// blocks, and every expression is evaluated with them. The error is a
// *runbook.DiagError; the diagnostics are its warnings otherwise.
func (s *Service) Validate(rb *runbook.Runbook, v Vars) (hcl.Diagnostics, error) {
	vals, diags := rb.ResolveVars(runbook.VarInputs{
		Defaults: s.Defaults, Flags: v.Flags, Files: v.Files, Env: s.Env, FlagName: v.FlagName, Unknown: true,
	})
	if diags.HasErrors() {
		return diags, &runbook.DiagError{What: "variables of " + rb.Path + " are not valid", Diags: diags, Sources: rb.Files}
	}
	// Only the errors: the expressions' warnings were given when the
	// runbook loaded, with every variable unknown.
	for _, d := range rb.CheckExpressions(vals) {
		if d.Severity == hcl.DiagError {
			diags = append(diags, d)
		}
	}
	if diags.HasErrors() {
		return diags, &runbook.DiagError{What: rb.Path + " is not valid with these variables", Diags: diags, Sources: rb.Files}
	}
	return diags, nil
}

// sources are rb's files, for diagnostics; rb may be nil.
func sources(rb *runbook.Runbook) map[string]*hcl.File {
	if rb == nil {
		return nil
	}
	return rb.Files
}

// preflight asks the service's Preflight when rb calls AWS.
func (s *Service) preflight(ctx context.Context, rb *runbook.Runbook) error {
	if s.Preflight == nil || !usesAWS(rb) {
		return nil
	}
	return s.Preflight(ctx)
}

// usesAWS reports whether any step of rb calls AWS.
func usesAWS(rb *runbook.Runbook) bool {
	for _, n := range rb.Nodes {
		if n.Kind == runbook.KindStep && steps.UsesAWS(n.Type) {
			return true
		}
	}
	return false
}

// sensitiveValues are the string forms of rb's sensitive variables, which
// must never reach the journal or the output.
func sensitiveValues(rb *runbook.Runbook, vals map[string]cty.Value) []string {
	var out []string
	for _, v := range rb.Variables {
		if !v.Sensitive {
			continue
		}
		if val, ok := vals[v.Name]; ok && val.IsKnown() && !val.IsNull() && val.Type() == cty.String {
			out = append(out, val.AsString())
		}
	}
	return out
}

// History lists the journal's runs, newest first.
func (s *Service) History() ([]journal.Summary, error) { return s.Store.List() }

// Events reads one run's journal.
func (s *Service) Events(runID string) ([]runbook.Event, error) { return s.Store.Events(runID) }
