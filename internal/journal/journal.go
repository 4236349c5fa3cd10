// Package journal records runs on disk: one directory per run under a state
// directory, holding an append-only JSONL file with every event of the run,
// synced before the action it announces. A journal is enough to list past
// runs and to resume one that crashed or was cancelled.
package journal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// FileName is the journal's name inside a run directory.
const FileName = "journal.jsonl"

// Permissions: a journal names hosts, operators and resources, so only its
// owner reads it.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// runIDLayout is the time prefix of a run id: UTC, to the second, sortable
// as text.
const runIDLayout = "20060102T150405Z"

var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4,32}$`)

// NewRunID returns a run id such as 20261122T164500Z-3f9a1c: the start time
// in UTC, so ids sort by time, and random hex so two runs started in the
// same second differ. random is crypto/rand.Reader when nil.
func NewRunID(now time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [3]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("new run id: %w", err)
	}
	return now.UTC().Format(runIDLayout) + "-" + hex.EncodeToString(b[:]), nil
}

// ValidRunID reports whether id has the shape NewRunID produces, so a
// user-supplied id can never name a path outside the state directory.
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// DefaultStateDir returns $XDG_STATE_HOME/drconsole, or
// ~/.local/state/drconsole when XDG_STATE_HOME is unset, following the XDG
// base directory specification. getenv is os.Getenv when nil.
func DefaultStateDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "drconsole"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("state directory: %w (set --state-dir or XDG_STATE_HOME)", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "drconsole"), nil
}

// Store is a state directory holding one directory per run.
type Store struct {
	Dir string
	// Warning says why the state directory is unsafe to keep journals in
	// (others may write to it, or it belongs to another user), "" when it
	// is not; OpenStore sets it, for the front ends to show.
	Warning string
}

// OpenStore returns the state directory dir. It does not create it: the
// first run's journal does, so a command refused before it runs leaves
// no directory behind. An existing dir that others may write to, or that
// another user owns, is used (the run directories inside are the
// owner's alone) but earns a Warning: whoever can write to it can
// remove, rename or plant runs there, which listings and resumes trust.
// It is not tightened behind the user's back.
func OpenStore(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open state directory: no path")
	}
	s := &Store{Dir: dir}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("open state directory: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("open state directory %s: not a directory", dir)
	}
	s.Warning = unsafeDir(dir, st)
	return s, nil
}

// unsafeDir says what makes the directory dir unsafe for journals, or "".
func unsafeDir(dir string, st os.FileInfo) string {
	var why []string
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		who := "others"
		if perm&0o002 == 0 {
			who = "its group"
		}
		why = append(why, fmt.Sprintf("is writable by %s (mode %04o)", who, perm))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		why = append(why, fmt.Sprintf("belongs to uid %d, not to you (uid %d)", sys.Uid, os.Getuid()))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("state directory %s %s: others can remove, rename or plant runs in it; chmod 700 it, or use --state-dir",
		dir, strings.Join(why, " and "))
}

// RunDir returns the directory of run id.
func (s *Store) RunDir(id string) string { return filepath.Join(s.Dir, id) }

// Path returns the journal file of run id.
func (s *Store) Path(id string) string { return filepath.Join(s.Dir, id, FileName) }

// Create makes the directory and the journal of a new run, and the state
// directory when it does not exist yet. It fails if the run already
// exists. A run whose writer is closed before any record was written
// leaves nothing behind: Close removes the journal and its directory.
func (s *Store) Create(id string, r *Redactor) (*Writer, error) {
	if !ValidRunID(id) {
		return nil, fmt.Errorf("create run: invalid run id %q", id)
	}
	if err := os.MkdirAll(s.Dir, dirMode); err != nil {
		return nil, fmt.Errorf("create run %s: state directory: %w", id, err)
	}
	dir := s.RunDir(id)
	if err := os.Mkdir(dir, dirMode); err != nil {
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}
	f, err := os.OpenFile(s.Path(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, fileMode)
	if err != nil {
		_ = os.Remove(dir)
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}
	w, err := newWriter(f, r)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		_ = os.Remove(dir)
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}
	w.newDir = dir
	// The new directory entries must survive a crash too.
	syncDir(dir)
	syncDir(s.Dir)
	return w, nil
}

// Append reopens the journal of an existing run for more events, as resume
// does. A torn last line, left by a crash in the middle of a write, is cut
// off first so the next record starts on a line of its own.
func (s *Store) Append(id string, r *Redactor) (*Writer, error) {
	if !ValidRunID(id) {
		return nil, fmt.Errorf("open run: invalid run id %q", id)
	}
	f, err := os.OpenFile(s.Path(id), os.O_RDWR|os.O_APPEND, fileMode)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open run %s: no such run in %s", id, s.Dir)
		}
		return nil, fmt.Errorf("open run %s: %w", id, err)
	}
	w, err := newWriter(f, r)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open run %s: %w", id, err)
	}
	if err := cutTornTail(f); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open run %s: %w", id, err)
	}
	return w, nil
}

// cutTornTail truncates f after its last newline.
func cutTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Read backwards in blocks until a newline turns up.
	const block = 4096
	buf := make([]byte, block)
	end := size
	for end > 0 {
		start := max(0, end-block)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read journal: %w", err)
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				keep := start + int64(i) + 1
				if keep == size {
					return nil
				}
				return truncate(f, keep)
			}
		}
		end = start
	}
	return truncate(f, 0)
}

func truncate(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("cut torn journal line: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("cut torn journal line: %w", err)
	}
	return f.Sync()
}

// syncDir makes a directory's entries durable. Errors are ignored: some
// file systems cannot sync directories, and the journal's own sync still
// holds the records.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
