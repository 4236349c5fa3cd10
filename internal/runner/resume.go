package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
)

// ResumeRequest continues an unfinished run.
type ResumeRequest struct {
	RunID string
	// Path is the runbook to resume with; "" takes the path the journal
	// recorded. Either way its content must hash as it did.
	Path string
	// Vars give the variables the journal could not keep (sensitive ones)
	// and override the recorded others.
	Vars Vars
	// DryRun is refused: a resume acts. It is here so that every front
	// end's flag meets the same rule.
	DryRun      bool
	Parallelism int
	AutoApprove bool
	Approver    runbook.Approver
	Sink        runbook.Sink
}

// Resumable is an unfinished run that may be resumed: its runbook, loaded
// and checked against the recorded hash, and the variables it recorded.
type Resumable struct {
	Run     *journal.Run
	Runbook *runbook.Runbook
	// Recorded are the variables as the journal has them.
	Recorded map[string]string
	// Missing are the sensitive variables the journal could not keep and
	// that must be given again.
	Missing []string
}

// CheckResume applies every rule that refuses a resume of run id, without
// variables: a front end that must ask for the sensitive ones (the
// console's form) calls it first. path is as in ResumeRequest.
func (s *Service) CheckResume(id, path string) (*Resumable, error) {
	if s.Store == nil {
		return nil, fmt.Errorf("resume %s: no state directory is configured", id)
	}
	prev, err := s.Store.Read(id)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	switch {
	case prev.Info.Drill != nil:
		// Its remaining steps would act on production.
		return nil, fmt.Errorf("resume: run %s was a drill, and drills are not resumed: "+
			"finish it with drconsole drill --teardown %s, or T in the console's Runs view", prev.ID, prev.ID)
	case prev.Info.DryRun:
		return nil, fmt.Errorf("resume: run %s was a dry run; there is nothing to resume", prev.ID)
	case prev.Status == runbook.StatusSucceeded:
		return nil, fmt.Errorf("resume: run %s already succeeded; there is nothing to resume", prev.ID)
	}
	if path == "" {
		path = prev.Info.RunbookPath
	} else if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	rb, _, err := s.Load(path)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", prev.ID, err)
	}
	if rb.Hash != prev.Info.RunbookHash {
		return nil, fmt.Errorf("resume: runbook %s has changed since run %s started (content hash %.12s, recorded %.12s); "+
			"a resumed run must use the runbook it started with: restore that version, or start a new run",
			path, prev.ID, rb.Hash, prev.Info.RunbookHash)
	}
	_, missing := ResumeVars(rb, prev.Info.Variables, nil)
	return &Resumable{Run: prev, Runbook: rb, Recorded: prev.Info.Variables, Missing: missing}, nil
}

// PrepareResume checks a resume of req.RunID and prepares it: the same
// journal, the recorded variables merged with those given, finished steps
// kept.
func (s *Service) PrepareResume(ctx context.Context, req ResumeRequest) (*Prepared, error) {
	if req.DryRun {
		return nil, fmt.Errorf("resume: --resume and --dry-run do not go together: plan the runbook instead")
	}
	r, err := s.CheckResume(req.RunID, req.Path)
	if err != nil {
		return nil, err
	}
	recorded, missing := ResumeVars(r.Runbook, r.Recorded, req.Vars.Flags)
	if len(missing) > 0 {
		return nil, fmt.Errorf("resume %s: sensitive %s %s not recorded: give %s again",
			r.Run.ID, plural(len(missing), "variable", "variables"), strings.Join(missing, ", "), plural(len(missing), "it", "them"))
	}
	p, err := s.prepare(ctx, Request{
		Runbook: r.Runbook, Vars: Vars{Files: req.Vars.Files, FlagName: req.Vars.FlagName}, Parallelism: req.Parallelism,
		AutoApprove: req.AutoApprove, Approver: req.Approver, Sink: req.Sink,
	}, recorded, r.Run.ID)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", r.Run.ID, err)
	}
	rs := r.Run.Resume
	rs.From = r.Run.ID
	p.opts.Resume = &rs
	return p, nil
}

// ResumeVars merges a run's recorded variables with those given again
// (name=value; given ones win and come last). A sensitive variable is
// recorded only as a mark, never its value: missing lists those not given
// again, which a resume must ask for rather than pass the mark on as a
// value. An unset optional variable was recorded as "null": its default
// applies again without help.
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
		case sensitive[k] || v == redact.Marker:
			missing = append(missing, k)
		case v == "null":
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
