package output

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/drconsole/drconsole/internal/runbook"
)

// JSON writes one event per line, as the journal does, for programs that
// follow a run.
type JSON struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewJSON returns a JSON printer writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{enc: json.NewEncoder(w)} }

// Emit implements runbook.Sink.
func (j *JSON) Emit(e runbook.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.enc.Encode(e); err != nil {
		return fmt.Errorf("print %s event: %w", e.Kind, err)
	}
	return nil
}
