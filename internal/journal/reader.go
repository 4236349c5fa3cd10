package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

// StatusInterrupted is the status of a run whose journal ends without
// run_finished: the process crashed or was killed.
const StatusInterrupted runbook.RunStatus = "interrupted"

// Run is what a journal tells about one run, across its resumptions.
type Run struct {
	ID string
	// Info is the first run_started record: the runbook path and hash,
	// variables (redacted), operator, host.
	Info    runbook.RunInfo
	Started time.Time
	// Status is how the latest attempt ended, or StatusInterrupted.
	Status runbook.RunStatus
	// Error is run_finished's error of the latest attempt.
	Error string
	// Last is the last complete record.
	Last runbook.Event
	// Events counts complete records; Resumes counts run_started records
	// after the first.
	Events, Resumes int
	// Torn reports a partial last line, left by a crash mid-write and
	// ignored here.
	Torn bool
	// Resume is what a resumed run needs: finished steps with their
	// outputs, skipped nodes, approved gates.
	Resume runbook.ResumeState
}

// Read loads the journal of run id.
func (s *Store) Read(id string) (*Run, error) {
	f, err := s.open(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", id, err)
	}
	run.ID = id
	return run, nil
}

// open opens the journal of run id for reading.
func (s *Store) open(id string) (*os.File, error) {
	if !ValidRunID(id) {
		return nil, fmt.Errorf("read run: invalid run id %q (ids look like 20261122T164500Z-3f9a1c)", id)
	}
	f, err := os.Open(s.Path(id))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read run %s: no such run in %s", id, s.Dir)
		}
		return nil, fmt.Errorf("read run %s: %w", id, err)
	}
	return f, nil
}

// Decode rebuilds a run from journal text. A torn last line is ignored, as
// records explains.
func Decode(r io.Reader) (*Run, error) {
	run := &Run{}
	var st runbook.RunState
	torn, err := records(r, func(e runbook.Event) {
		run.Last = e
		st.Apply(e)
	})
	if err != nil {
		return nil, err
	}
	run.Torn, run.Events = torn, st.Events
	if run.Events == 0 {
		return nil, errors.New("journal holds no complete record")
	}
	if st.Info != nil {
		run.Info = *st.Info
	}
	run.Started = st.Started
	if run.Info.RunbookHash == "" && run.Info.RunbookPath == "" && run.Started.IsZero() {
		return nil, errors.New("journal does not start with run_started")
	}
	run.Status, run.Error, run.Resumes = st.Status, st.Err, st.Resumes
	if run.Status == "" {
		run.Status = StatusInterrupted
	}
	run.Resume = resumeState(&st, run.Last.RunID)
	return run, nil
}

// resumeState is what a resumption of the folded run needs: the steps
// that finished, with their outputs, the nodes skipped and the approvals
// given. A dry-run has none of them: its outputs and answers are not real.
func resumeState(st *runbook.RunState, from string) runbook.ResumeState {
	rs := runbook.ResumeState{
		From:     from,
		Finished: map[string]json.RawMessage{},
		Skipped:  map[string]string{},
		Approved: map[string]string{},
		Drill:    st.Info != nil && st.Info.Drill != nil,
	}
	dry := st.Info != nil && st.Info.DryRun
	for _, n := range st.Nodes() {
		switch {
		case n.Status == runbook.NodeSkipped:
			rs.Skipped[n.Node] = n.Reason
		case n.Status == runbook.NodeSucceeded && !dry:
			rs.Finished[n.Node] = slices.Clone(n.Outputs)
		}
		if n.Approved && !dry {
			rs.Approved[n.Node] = n.Actor
		}
	}
	return rs
}

// records calls fn with each complete record of journal text, in order. A
// last line that is not valid JSON is taken as torn by a crash and skipped,
// which torn reports; a bad line anywhere else is an error, since the
// journal can no longer be trusted.
func records(r io.Reader, fn func(runbook.Event)) (torn bool, err error) {
	br := bufio.NewReader(r)
	var pendingErr error
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if pendingErr != nil {
				return false, pendingErr
			}
			var e runbook.Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				// Only fatal if more lines follow.
				pendingErr = fmt.Errorf("journal line %d: %w", lineNo, jerr)
				torn = true
			} else {
				fn(e)
			}
		}
		if errors.Is(err, io.EOF) {
			return torn, nil
		}
		if err != nil {
			return false, fmt.Errorf("read journal: %w", err)
		}
	}
}

// Summary is one line of a run listing.
type Summary struct {
	ID          string
	RunbookPath string
	Status      runbook.RunStatus
	Started     time.Time
	LastEvent   time.Time
	DryRun      bool
	Drill       bool  // the run is a game-day drill (drconsole drill)
	Err         error // the journal could not be read
	// Variables are the run's, as run_started recorded them (sensitive
	// ones redacted).
	Variables map[string]string
}

// List returns the runs in the state directory, newest first.
func (s *Store) List() ([]Summary, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var out []Summary
	for _, de := range entries {
		if !de.IsDir() || !ValidRunID(de.Name()) {
			continue
		}
		sum := Summary{ID: de.Name()}
		if r, err := s.Read(de.Name()); err != nil {
			sum.Err = err
		} else {
			sum.RunbookPath, sum.Status, sum.Started, sum.LastEvent, sum.DryRun = r.Info.RunbookPath, r.Status, r.Started, r.Last.Time, r.Info.DryRun
			sum.Drill, sum.Variables = r.Info.Drill != nil, r.Info.Variables
		}
		out = append(out, sum)
	}
	// Ids start with the UTC start time, so text order is time order.
	slices.SortFunc(out, func(a, b Summary) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// Events returns every complete record of run id's journal, in order. A
// torn last line is ignored, as Read does.
func (s *Store) Events(id string) ([]runbook.Event, error) {
	f, err := s.open(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []runbook.Event
	if _, err := records(f, func(e runbook.Event) { out = append(out, e) }); err != nil {
		return nil, fmt.Errorf("read run %s: %w", id, err)
	}
	return out, nil
}

// EarlierLogs calls fn with each step_log line node recorded in the
// journal of run id before its latest step_started, oldest first: called
// while an attempt of node runs, the lines of its earlier attempts, in
// this run and in those it resumed (a resume continues the same journal).
// It reads the journal twice, once to find that step_started and once to
// stream the lines, so that a restore's thousands of records are never
// held at once. Lines that are not records of node are skipped before
// they are decoded; a torn last line is ignored.
func (s *Store) EarlierLogs(id, node string, fn func(line string) error) error {
	quoted, err := json.Marshal(node)
	if err != nil {
		return fmt.Errorf("read earlier logs of %s: %w", node, err)
	}
	mark := append([]byte(`"node":`), quoted...)
	scan := func(each func(runbook.Event) error) error {
		f, err := s.open(id)
		if err != nil {
			return err
		}
		defer f.Close()
		br := bufio.NewReader(f)
		for {
			line, rerr := br.ReadBytes('\n')
			if bytes.Contains(line, mark) {
				var e runbook.Event
				if json.Unmarshal(line, &e) == nil && e.Node == node {
					if err := each(e); err != nil {
						return err
					}
				}
			}
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			if rerr != nil {
				return fmt.Errorf("read run %s: %w", id, rerr)
			}
		}
	}
	starts := 0
	if err := scan(func(e runbook.Event) error {
		if e.Kind == runbook.StepStarted {
			starts++
		}
		return nil
	}); err != nil {
		return err
	}
	seen := 0
	errDone := errors.New("reached the latest attempt")
	err = scan(func(e runbook.Event) error {
		switch e.Kind {
		case runbook.StepStarted:
			if seen++; seen >= starts {
				return errDone
			}
		case runbook.StepLog:
			return fn(e.Line)
		}
		return nil
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}
