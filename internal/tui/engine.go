package tui

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

// RunService is what the Runbooks and Runs views need from the engine and
// the journal.
type RunService interface {
	// Load decodes a runbook file.
	Load(path string) (*runbook.Runbook, error)
	// Start runs rb (a plan when dryRun) with vars as name=value pairs.
	// It returns the run id at once; the run goes on in the background,
	// its events go to sink and its gates to ap, and done delivers the
	// result.
	Start(ctx context.Context, rb *runbook.Runbook, vars []string, dryRun bool, sink func(runID string) runbook.Sink, ap runbook.Approver) (runID string, done <-chan *runbook.Result, err error)
	// Resume continues an unfinished run with the variables it recorded;
	// vars (name=value) give those it could not record (sensitive ones)
	// and override the others.
	Resume(ctx context.Context, runID string, vars []string, sink func(runID string) runbook.Sink, ap runbook.Approver) (rb *runbook.Runbook, done <-chan *runbook.Result, err error)
	// History lists the journal's runs, newest first.
	History() ([]journal.Summary, error)
	// Events reads one run's journal.
	Events(runID string) ([]runbook.Event, error)
}

// EngineRuns runs runbooks in-process with the engine and journals them
// in a state directory.
type EngineRuns struct {
	Registry runbook.Registry
	// DryRegistry serves plans; its AWS clients refuse every write. Nil:
	// Registry.
	DryRegistry runbook.Registry
	Store       *journal.Store
	Target      string
	Operator    string
	Host        string
	Now         func() time.Time
	// Injector reaches the embedded sandbox for a drill's faults; nil
	// refuses faults (the target is AWS).
	Injector drill.Injector
}

// Load decodes a runbook, turning diagnostics into one error.
func (s *EngineRuns) Load(path string) (*runbook.Runbook, error) {
	rb, diags := runbook.Load(path, s.Registry)
	if diags.HasErrors() {
		return rb, fmt.Errorf("load %s: %s", path, joinErrs(diags))
	}
	return rb, nil
}

// joinErrs puts a set of diagnostics' errors on one line.
func joinErrs(diags hcl.Diagnostics) string {
	var msgs []string
	for _, d := range diags.Errs() {
		msgs = append(msgs, d.Error())
	}
	return strings.Join(msgs, "; ")
}

func (s *EngineRuns) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Start implements RunService.
func (s *EngineRuns) Start(ctx context.Context, rb *runbook.Runbook, vars []string, dryRun bool, sink func(string) runbook.Sink, ap runbook.Approver) (string, <-chan *runbook.Result, error) {
	o, w, err := s.create(rb, vars, dryRun, "run")
	if err != nil {
		return "", nil, err
	}
	return o.RunID, s.execute(ctx, rb, o, w, sink(o.RunID), ap), nil
}

// create resolves vars for a new run of rb and opens its journal; what
// names the run in errors.
func (s *EngineRuns) create(rb *runbook.Runbook, vars []string, dryRun bool, what string) (runbook.Options, *journal.Writer, error) {
	vals, diags := rb.ResolveVars(runbook.VarInputs{Flags: vars})
	if diags.HasErrors() {
		return runbook.Options{}, nil, fmt.Errorf("variables: %s", joinErrs(diags))
	}
	id, err := journal.NewRunID(s.now(), rand.Reader)
	if err != nil {
		return runbook.Options{}, nil, fmt.Errorf("start %s: %w", what, err)
	}
	w, err := s.Store.Create(id, journal.NewRedactor(os.Environ()))
	if err != nil {
		return runbook.Options{}, nil, fmt.Errorf("start %s: %w", what, err)
	}
	return runbook.Options{RunID: id, DryRun: dryRun, Vars: vals}, w, nil
}

// Resume implements RunService.
func (s *EngineRuns) Resume(ctx context.Context, runID string, vars []string, sink func(string) runbook.Sink, ap runbook.Approver) (*runbook.Runbook, <-chan *runbook.Result, error) {
	prev, err := s.Store.Read(runID)
	if err != nil {
		return nil, nil, err
	}
	if prev.Status == runbook.StatusSucceeded {
		return nil, nil, fmt.Errorf("resume %s: the run already succeeded", runID)
	}
	if prev.Info.Drill != nil {
		return nil, nil, fmt.Errorf("resume %s: a drill is not resumed; finish its teardown instead", runID)
	}
	rb, err := s.Load(prev.Info.RunbookPath)
	if err != nil {
		return nil, nil, fmt.Errorf("resume %s: %w", runID, err)
	}
	flags, missing := ResumeVars(rb, prev.Info.Variables, vars)
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("resume %s: sensitive %s %s not recorded: give %s again",
			runID, plural(len(missing), "variable", "variables"), strings.Join(missing, ", "), plural(len(missing), "it", "them"))
	}
	vals, diags := rb.ResolveVars(runbook.VarInputs{Flags: flags})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("resume %s: variables: %s", runID, diags.Error())
	}
	w, err := s.Store.Append(runID, journal.NewRedactor(os.Environ()))
	if err != nil {
		return nil, nil, fmt.Errorf("resume %s: %w", runID, err)
	}
	rs := prev.Resume
	rs.From = runID
	return rb, s.execute(ctx, rb, runbook.Options{RunID: runID, Vars: vals, Resume: &rs}, w, sink(runID), ap), nil
}

func (s *EngineRuns) execute(ctx context.Context, rb *runbook.Runbook, o runbook.Options, w *journal.Writer, sink runbook.Sink, ap runbook.Approver) <-chan *runbook.Result {
	o = s.options(o, w, sink, ap)
	done := make(chan *runbook.Result, 1)
	go func() {
		res := runbook.Execute(ctx, rb, o)
		_ = w.Close()
		done <- res
	}()
	return done
}

// options completes o with the service's registries and identity, ap
// for its gates, and its events journalled before they reach sink.
func (s *EngineRuns) options(o runbook.Options, w *journal.Writer, sink runbook.Sink, ap runbook.Approver) runbook.Options {
	o.Registry, o.Approver, o.Now = s.Registry, ap, s.Now
	if o.DryRun && s.DryRegistry != nil {
		o.Registry = s.DryRegistry
	}
	o.Target, o.Operator, o.Host = s.Target, s.Operator, s.Host
	o.Sink = journalFirst(w, sink)
	return o
}

// journalFirst tees events to the journal and then to sink (if any): the
// journal's Emit syncs before the action starts.
func journalFirst(w *journal.Writer, sink runbook.Sink) runbook.Sink {
	return runbook.SinkFunc(func(e runbook.Event) error {
		if err := w.Emit(e); err != nil {
			return err
		}
		if sink != nil {
			return sink.Emit(e)
		}
		return nil
	})
}

// sensitiveMark is what the journal records for a sensitive variable.
const sensitiveMark = "(sensitive)"

// ResumeVars merges a run's recorded variables with those given again
// (name=value, given ones win). A sensitive variable is recorded only as
// a mark, never its value: missing lists those not given again, which a
// resume must ask for rather than pass the mark on as a value.
func ResumeVars(rb *runbook.Runbook, recorded map[string]string, given []string) (flags, missing []string) {
	have := map[string]bool{}
	for _, g := range given {
		name, _, _ := strings.Cut(g, "=")
		have[name] = true
	}
	sensitive := map[string]bool{}
	if rb != nil {
		for _, v := range rb.Variables {
			sensitive[v.Name] = v.Sensitive
		}
	}
	names := make([]string, 0, len(recorded))
	for k := range recorded {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := recorded[k]
		switch {
		case have[k]:
		case sensitive[k] || v == sensitiveMark:
			missing = append(missing, k)
		default:
			flags = append(flags, k+"="+v)
		}
	}
	return append(flags, given...), missing
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// History implements RunService.
func (s *EngineRuns) History() ([]journal.Summary, error) { return s.Store.List() }

// Events implements RunService.
func (s *EngineRuns) Events(runID string) ([]runbook.Event, error) { return s.Store.Events(runID) }
