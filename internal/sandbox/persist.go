package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// saveDebounce is how long after a change the estate is written, so a burst
// of writes costs one save.
const saveDebounce = 500 * time.Millisecond

// store keeps each persistent part of the estate in its own file under the
// data directory, written atomically (temp file, fsync, rename).
type store struct {
	dir   string
	parts map[string]persistent

	saveMu sync.Mutex // one save at a time, so close waits for a save in flight

	mu     sync.Mutex
	dirty  bool
	timer  *time.Timer
	closed bool
	err    error // last save error, reported by close
}

func openStore(dir string, parts map[string]persistent) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox data dir %s: %w", dir, err)
	}
	return &store{dir: dir, parts: parts}, nil
}

func (st *store) path(name string) string { return filepath.Join(st.dir, name+".state") }

// load reads every part that has a file. It reports whether any did.
func (st *store) load() (bool, error) {
	loaded := false
	for _, name := range st.names() {
		f, err := os.Open(st.path(name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("load sandbox %s state: %w", name, err)
		}
		err = st.parts[name].loadState(bufio.NewReader(f))
		f.Close()
		if err != nil {
			return false, fmt.Errorf("load sandbox %s state from %s: %w", name, st.path(name), err)
		}
		loaded = true
	}
	return loaded, nil
}

func (st *store) names() []string {
	names := make([]string, 0, len(st.parts))
	for n := range st.parts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// markDirty schedules a save.
func (st *store) markDirty() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dirty = true
	if st.closed || st.timer != nil {
		return
	}
	st.timer = time.AfterFunc(saveDebounce, func() {
		st.mu.Lock()
		st.timer = nil
		st.mu.Unlock()
		if err := st.flush(); err != nil {
			st.mu.Lock()
			st.err = err
			st.mu.Unlock()
		}
	})
}

// flush writes every part if anything changed since the last save.
func (st *store) flush() error {
	st.saveMu.Lock()
	defer st.saveMu.Unlock()
	st.mu.Lock()
	if !st.dirty {
		st.mu.Unlock()
		return nil
	}
	st.dirty = false
	st.mu.Unlock()
	for _, name := range st.names() {
		if err := st.save(name); err != nil {
			st.mu.Lock()
			st.dirty = true
			st.mu.Unlock()
			return err
		}
	}
	return nil
}

func (st *store) save(name string) error {
	if err := st.write(name); err != nil {
		return fmt.Errorf("save sandbox %s state: %w", name, err)
	}
	return nil
}

// write replaces a part's file atomically.
func (st *store) write(name string) error {
	tmp, err := os.CreateTemp(st.dir, name+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := st.parts[name].saveState(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), st.path(name))
}

// close stops the debounce and writes what is pending.
func (st *store) close() error {
	st.mu.Lock()
	st.closed = true
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	st.mu.Unlock()
	if err := st.flush(); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}
