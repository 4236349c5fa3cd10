package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

var t0 = time.Date(2026, 11, 22, 16, 45, 0, 0, time.UTC)

func TestNewRunID(t *testing.T) {
	id, err := NewRunID(t0.In(time.FixedZone("CET", 3600)), bytes.NewReader([]byte{0x3f, 0x9a, 0x1c}))
	if err != nil {
		t.Fatal(err)
	}
	if id != "20261122T164500Z-3f9a1c" {
		t.Errorf("id = %q", id)
	}
	if !ValidRunID(id) {
		t.Error("own id not valid")
	}
	later, _ := NewRunID(t0.Add(time.Second), nil)
	if later <= id {
		t.Errorf("%q does not sort after %q", later, id)
	}
	if _, err := NewRunID(t0, bytes.NewReader(nil)); err == nil {
		t.Error("want an error when randomness runs out")
	}
	for _, bad := range []string{"", "../etc", "20261122T164500Z-", "20261122T164500Z-3f9a/..", "x20261122T164500Z-3f9a"} {
		if ValidRunID(bad) {
			t.Errorf("ValidRunID(%q) = true", bad)
		}
	}
}

func TestDefaultStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/var/state", "HOME": "/home/op"}, "/var/state/drconsole"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/op"}, "/home/op/.local/state/drconsole"},
		{map[string]string{"HOME": "/home/op"}, "/home/op/.local/state/drconsole"},
	} {
		got, err := DefaultStateDir(env(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("DefaultStateDir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func event(kind runbook.EventKind, node string, f func(*runbook.Event)) runbook.Event {
	e := runbook.Event{Time: t0, RunID: "20261122T164500Z-3f9a1c", Kind: kind, Node: node}
	if f != nil {
		f(&e)
	}
	return e
}

func started(resumedFrom string) runbook.Event {
	return event(runbook.RunStarted, "", func(e *runbook.Event) {
		e.Run = &runbook.RunInfo{RunbookPath: "runbooks/smoke.hcl", RunbookHash: "abc123", Operator: "op", Host: "h", Parallelism: 2, ResumedFrom: resumedFrom}
	})
}

func TestCreateEmitRead(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "20261122T164500Z-3f9a1c"
	w, err := s.Create(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := []runbook.Event{
		started(""),
		event(runbook.StepStarted, "step.exec.a", nil),
		event(runbook.StepLog, "step.exec.a", func(e *runbook.Event) { e.Line = "stdout: hi" }),
		event(runbook.StepFinished, "step.exec.a", func(e *runbook.Event) { e.Outputs = json.RawMessage(`{"exit_code":0}`) }),
		event(runbook.StepSkipped, "step.wait.b", func(e *runbook.Event) { e.Reason = runbook.SkipReasonWhen }),
		event(runbook.GateApproved, "gate.go", func(e *runbook.Event) { e.Actor = "alice" }),
		event(runbook.StepStarted, "step.exec.c", nil),
	}
	for _, e := range events {
		if err := w.Emit(e); err != nil {
			t.Fatal(err)
		}
	}

	// A second writer on the same run is refused while the first holds it.
	if _, err := s.Append(id, nil); !errors.Is(err, ErrRunInUse) {
		t.Errorf("second writer: err = %v, want ErrRunInUse", err)
	}
	if _, err := s.Create(id, nil); err == nil {
		t.Error("Create of an existing run succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Emit(events[0]); err == nil {
		t.Error("Emit after Close succeeded")
	}

	for path, want := range map[string]os.FileMode{s.RunDir(id): 0o700, s.Path(id): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", path, st.Mode().Perm(), want)
		}
	}

	run, err := s.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Info.RunbookHash != "abc123" || run.Status != StatusInterrupted || run.Events != len(events) || run.Torn {
		t.Errorf("run = %+v", run)
	}
	if got := string(run.Resume.Finished["step.exec.a"]); got != `{"exit_code":0}` {
		t.Errorf("finished outputs = %q", got)
	}
	if _, ok := run.Resume.Finished["step.exec.c"]; ok {
		t.Error("a started step counts as finished")
	}
	if run.Resume.Skipped["step.wait.b"] != runbook.SkipReasonWhen || run.Resume.Approved["gate.go"] != "alice" {
		t.Errorf("resume = %+v", run.Resume)
	}
	if run.Resume.From != id || run.Last.Node != "step.exec.c" {
		t.Errorf("from %q, last %+v", run.Resume.From, run.Last)
	}

	// Resuming appends to the same journal.
	w, err = s.Append(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []runbook.Event{
		started(id),
		event(runbook.StepFinished, "step.exec.a", func(e *runbook.Event) { e.Outputs = json.RawMessage(`{"exit_code":0}`) }),
		event(runbook.StepStarted, "step.exec.c", nil),
		event(runbook.StepFinished, "step.exec.c", func(e *runbook.Event) { e.Outputs = json.RawMessage(`{}`) }),
		event(runbook.RunFinished, "", func(e *runbook.Event) { e.Status = runbook.StatusSucceeded }),
	} {
		if err := w.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	run, err = s.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != runbook.StatusSucceeded || run.Resumes != 1 || len(run.Resume.Finished) != 2 {
		t.Errorf("after resume: status %s, resumes %d, finished %v", run.Status, run.Resumes, run.Resume.Finished)
	}
}

func TestTornLastLine(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	const id = "20261122T164500Z-0000aa"
	w, err := s.Create(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(started(""))
	_ = w.Emit(event(runbook.StepFinished, "step.exec.a", func(e *runbook.Event) { e.Outputs = json.RawMessage(`{"x":1}`) }))
	_ = w.Close()
	// A crash in the middle of writing the next record.
	f, _ := os.OpenFile(s.Path(id), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"time":"2026-11-22T16:45:00Z","kind":"step_fin`)
	_ = f.Close()

	run, err := s.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Torn || run.Events != 2 || string(run.Resume.Finished["step.exec.a"]) != `{"x":1}` {
		t.Errorf("run = %+v", run)
	}

	// Appending cuts the torn line so the journal stays valid.
	w, err = s.Append(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(event(runbook.RunFinished, "", func(e *runbook.Event) { e.Status = runbook.StatusFailed; e.Error = "boom" }))
	_ = w.Close()
	run, err = s.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Torn || run.Events != 3 || run.Status != runbook.StatusFailed || run.Error != "boom" {
		t.Errorf("after append: %+v", run)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, text := range map[string]string{
		"empty":        "",
		"garbage only": "not json",
		"bad middle":   `{"kind":"run_started","run":{"runbook_path":"a","runbook_hash":"h"}}` + "\nnot json\n" + `{"kind":"run_finished"}` + "\n",
		"no start":     `{"kind":"step_started","node":"step.wait.a"}` + "\n",
	} {
		if _, err := Decode(strings.NewReader(text)); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
}

func TestDryRunIsNotResumable(t *testing.T) {
	text := `{"kind":"run_started","run":{"runbook_path":"a","runbook_hash":"h","dry_run":true}}
{"kind":"step_finished","node":"step.exec.a","outputs":null}
{"kind":"gate_approved","node":"gate.g","actor":"x"}
`
	run, err := Decode(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if !run.Info.DryRun || len(run.Resume.Finished) != 0 || len(run.Resume.Approved) != 0 {
		t.Errorf("run = %+v", run)
	}
}

func TestConcurrentEmit(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	const id = "20261122T164500Z-0000bb"
	w, err := s.Create(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(started(""))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				_ = w.Emit(event(runbook.StepLog, fmt.Sprintf("step.exec.s%d", i), func(e *runbook.Event) { e.Line = strings.Repeat("x", j*100) }))
			}
		})
	}
	wg.Wait()
	_ = w.Close()
	run, err := s.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Events != 161 || run.Torn {
		t.Errorf("events %d, torn %v", run.Events, run.Torn)
	}
}

func TestList(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	for _, id := range []string{"20261122T164500Z-0000aa", "20261123T080000Z-0000bb", "20261121T000000Z-0000cc"} {
		w, err := s.Create(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Emit(started(""))
		_ = w.Close()
	}
	_ = os.Mkdir(filepath.Join(s.Dir, "not-a-run"), 0o700)
	_ = os.Mkdir(filepath.Join(s.Dir, "20261120T000000Z-0000dd"), 0o700) // no journal

	runs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if got := strings.Join(ids, " "); got != "20261123T080000Z-0000bb 20261122T164500Z-0000aa 20261121T000000Z-0000cc 20261120T000000Z-0000dd" {
		t.Errorf("ids = %s", got)
	}
	if runs[0].RunbookPath != "runbooks/smoke.hcl" || runs[0].Status != StatusInterrupted || runs[3].Err == nil {
		t.Errorf("runs = %+v", runs)
	}
}

func TestReadBadID(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	if _, err := s.Read("../../etc/passwd"); err == nil || !strings.Contains(err.Error(), "invalid run id") {
		t.Errorf("err = %v", err)
	}
	if _, err := s.Read("20261122T164500Z-0000aa"); err == nil || !strings.Contains(err.Error(), "no such run") {
		t.Errorf("err = %v", err)
	}
	if _, err := s.Append("20261122T164500Z-0000aa", nil); err == nil || !strings.Contains(err.Error(), "no such run") {
		t.Errorf("err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"kind":"run_started","run":{"runbook_path":"a","runbook_hash":"h"}}` + "\n" + `{"kind":"step_finished","node":"step.exec.a","outputs":{"x":1}}` + "\n")
	f.Add(`{"kind":"run_started"}` + "\n" + `{"kind":"step_fin`)
	f.Add("\n\n{}\n")
	f.Fuzz(func(t *testing.T, text string) {
		run, err := Decode(strings.NewReader(text))
		if err == nil && run.Events == 0 {
			t.Error("a run without records")
		}
	})
}

func TestWriteFailureIsSticky(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	w, err := s.Create("20261122T164500Z-0000aa", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(started(""))
	// Take the file away under the writer, as a failing disk would.
	_ = w.f.Close()
	if err := w.Emit(started("")); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	if err := w.Emit(started("")); err == nil || !strings.Contains(err.Error(), "an earlier write failed") {
		t.Errorf("err = %v", err)
	}
}

// The state directory is created with the first run, not when opened: a
// command refused before it runs leaves no directory behind.
func TestOpenStoreCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "nested")
	s, err := OpenStore(dir)
	if err != nil || s.Warning != "" {
		t.Fatalf("open: %v, warning %q", err, s.Warning)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenStore made the directory: %v", err)
	}
	if runs, err := s.List(); err != nil || len(runs) != 0 {
		t.Fatalf("list of a state directory not made yet: %v %v", runs, err)
	}
	w, err := s.Create("20261122T164500Z-0000aa", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Emit(started("")); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != dirMode {
		t.Fatalf("state directory made by the first run: %v %v", st.Mode(), err)
	}

	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, nil, 0o600)
	if _, err := OpenStore(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as state directory: %v", err)
	}
}

// A state directory others may write to is used, with a warning that
// says why and what to do; the directory is left as the user made it.
func TestOpenStoreWarnsOfWritableDir(t *testing.T) {
	for _, tt := range []struct {
		mode os.FileMode
		want string // "" no warning
	}{
		{0o700, ""},
		{0o755, ""},
		{0o750, ""},
		{0o777, "writable by others (mode 0777)"},
		{0o1777, "writable by others (mode 0777)"},
		{0o770, "writable by its group (mode 0770)"},
		{0o702, "writable by others (mode 0702)"},
	} {
		dir := filepath.Join(t.TempDir(), "state")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		mode := tt.mode.Perm()
		if tt.mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		s, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tt.want == "" && s.Warning != "":
			t.Errorf("mode %04o: warning %q", tt.mode, s.Warning)
		case tt.want != "" && (!strings.Contains(s.Warning, tt.want) || !strings.Contains(s.Warning, dir) || !strings.Contains(s.Warning, "chmod 700")):
			t.Errorf("mode %04o: warning %q, want one with %q, the directory and the fix", tt.mode, s.Warning, tt.want)
		}
		if st, _ := os.Stat(dir); st.Mode().Perm() != tt.mode.Perm() {
			t.Errorf("mode %04o: OpenStore changed it to %04o", tt.mode, st.Mode().Perm())
		}
	}
}

// A run closed before anything was recorded (its start failed) leaves
// no directory behind; one with a record keeps it.
func TestCreateWithoutRecordsLeavesNothing(t *testing.T) {
	s, _ := OpenStore(t.TempDir())
	w, err := s.Create("20261122T164500Z-0000aa", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(s.Dir); len(entries) != 0 {
		t.Fatalf("a run that recorded nothing left %v", entries)
	}
	w, _ = s.Create("20261122T164500Z-0000bb", nil)
	_ = w.Emit(started(""))
	_ = w.Close()
	if runs, err := s.List(); err != nil || len(runs) != 1 || runs[0].Err != nil {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	// A resumed run that records nothing more keeps its journal.
	w, err = s.Append("20261122T164500Z-0000bb", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if runs, _ := s.List(); len(runs) != 1 {
		t.Fatalf("runs after an empty resume: %+v", runs)
	}
}

// EarlierLogs streams a node's lines of the attempts before its latest,
// across a resume, and nothing of other nodes or of the latest attempt.
func TestEarlierLogs(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	const id, node = "20261122T164500Z-3f9a1c", "step.s3_restore.models"
	log := func(n, line string) runbook.Event {
		return event(runbook.StepLog, n, func(e *runbook.Event) { e.Line = line })
	}
	emit := func(w *Writer, events ...runbook.Event) {
		t.Helper()
		for _, e := range events {
			if err := w.Emit(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	earlier := func() []string {
		t.Helper()
		var got []string
		if err := s.EarlierLogs(id, node, func(l string) error { got = append(got, l); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	w, err := s.Create(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	emit(w, started(""),
		event(runbook.StepStarted, node, nil), log(node, "attempt 1"), log("step.exec.other", "not mine"),
		event(runbook.StepRetried, node, nil),
		event(runbook.StepStarted, node, nil), log(node, "attempt 2: a"), log(node, "attempt 2: b"))
	if got := earlier(); !slices.Equal(got, []string{"attempt 1"}) {
		t.Errorf("during attempt 2: %q", got)
	}
	_ = w.Close()
	w, err = s.Append(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	emit(w, started(id), event(runbook.StepStarted, node, nil), log(node, "resumed"))
	if got, want := earlier(), []string{"attempt 1", "attempt 2: a", "attempt 2: b"}; !slices.Equal(got, want) {
		t.Errorf("in the resumed run: %q, want %q", got, want)
	}
	_ = w.Close()
}
