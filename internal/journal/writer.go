package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/drconsole/drconsole/internal/runbook"
)

// ErrRunInUse is returned when another process is writing the journal of
// the same run.
var ErrRunInUse = errors.New("the run is in progress in another drconsole process")

// Writer appends a run's events to its journal. It is a runbook.Sink: Emit
// returns only once the record is on disk. Safe for concurrent use.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	redact *Redactor
	closed bool
	broken error // a failed write: later records would follow a torn line
	// newDir is the run directory Create made; wrote reports a record
	// reached the file. A new run closed with nothing written (its start
	// failed) removes newDir, so listings never show an empty run.
	newDir string
	wrote  bool
}

func newWriter(f *os.File, r *Redactor) (*Writer, error) {
	// One writer per run at a time: an exclusive lock, released by the
	// kernel when the process dies, so a crashed run can be resumed.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunInUse
		}
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	return &Writer{f: f, redact: r}, nil
}

// Emit implements runbook.Sink: it writes e as one JSON line, with
// credentials redacted, and syncs it to disk before returning.
func (w *Writer) Emit(e runbook.Event) error {
	line, err := json.Marshal(w.redact.Event(e))
	if err != nil {
		return fmt.Errorf("journal %s: encode: %w", e.Kind, err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("journal %s: closed", e.Kind)
	}
	if w.broken != nil {
		return fmt.Errorf("journal %s: an earlier write failed: %w", e.Kind, w.broken)
	}
	if _, err := w.f.Write(line); err != nil {
		w.broken = err
		return fmt.Errorf("journal %s: write: %w", e.Kind, err)
	}
	w.wrote = true
	if err := w.f.Sync(); err != nil {
		w.broken = err
		return fmt.Errorf("journal %s: sync: %w", e.Kind, err)
	}
	return nil
}

// Path is the journal file's path.
func (w *Writer) Path() string { return w.f.Name() }

// Close releases the journal.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.newDir != "" && !w.wrote {
		// Removed while still locked, so no other process can open the
		// run in between.
		rmErr := errors.Join(os.Remove(w.f.Name()), os.Remove(w.newDir))
		if err := errors.Join(w.f.Close(), rmErr); err != nil {
			return fmt.Errorf("close journal: remove the run that recorded nothing: %w", err)
		}
		return nil
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}
