package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/redact"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/zclconf/go-cty/cty"
)

// cutSecret shares no character with the filler or the marker, so any
// piece of it in a text is a leak.
const cutSecret = "Qz7#Kp9@Lm2$Vw5&Rt8!Hx4%"

// secretPiece returns a piece of cutSecret of redact.MinLiteral bytes or
// more found in s, or "".
func secretPiece(s string) string {
	for i := 0; i+redact.MinLiteral <= len(cutSecret); i++ {
		if p := cutSecret[i : i+redact.MinLiteral]; strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// cutOffsets are where the secret starts in a line: across the line cut
// and across the cuts between later pieces of a long line.
func cutOffsets() []int {
	var out []int
	for _, cut := range []int{maxLineBytes, 2 * maxLineBytes, 3 * maxLineBytes} {
		for at := cut - len(cutSecret) - 1; at <= cut+1; at++ {
			out = append(out, at)
		}
	}
	return append(out, 0, 1)
}

// A run's sensitive value that a command prints is masked whole before the
// line is cut, wherever it falls against the cut: not a piece of it reaches
// the step's log lines or its stdout output, in one write or in many.
func TestStreamMasksSensitiveAcrossEveryCut(t *testing.T) {
	m := newMasker(outputSecrets(nil, []string{cutSecret}, nil))
	for _, at := range cutOffsets() {
		line := strings.Repeat("x", at) + cutSecret + strings.Repeat("y", 4*maxLineBytes-at)
		text := line + "\n" + line
		for _, size := range []int{1, 5, 97, maxLineBytes - 1, maxLineBytes + 1, len(text)} {
			var got []string
			var mu sync.Mutex
			s := newStream("stdout", m, func(l string) { got = append(got, l) }, &mu)
			for rest := text; rest != ""; {
				n := min(size, len(rest))
				_, _ = s.Write([]byte(rest[:n]))
				rest = rest[n:]
			}
			s.flush()
			all := strings.Join(got, "\n")
			if p := secretPiece(all); p != "" {
				t.Errorf("secret at %d, writes of %d: %q in the log lines", at, size, p)
			}
			// A line that arrives whole is cut at maxLineBytes, one that
			// arrives in pieces is logged in pieces: either way a secret
			// starting in the first piece shows as the marker.
			if at+len(redact.Marker) <= maxLineBytes && !strings.Contains(all, "x"+redact.Marker) && !strings.Contains(all, ": "+redact.Marker) {
				t.Errorf("secret at %d, writes of %d: no marker where the secret was", at, size)
			}
			if tail := s.tail(); secretPiece(tail) != "" || strings.Count(tail, redact.Marker) != 2 {
				t.Errorf("secret at %d, writes of %d: tail holds %q and %d markers", at, size, secretPiece(tail), strings.Count(tail, redact.Marker))
			}
		}
	}
}

// The same through the engine: a sensitive variable given to the command
// as an argument (so exec has no secret-looking name to go by) and printed
// across every cut, one line per offset, stays out of the events, the
// journal and the outputs.
func TestExecSensitiveAcrossCutStaysOutOfEventsAndJournal(t *testing.T) {
	const src = `
variable "token" {
  type      = string
  sensitive = true
}
variable "offsets" { type = list(string) }
step "exec" "echo" {
  command = concat(["sh", "-c", <<-EOT
    token=$1; shift
    for at in "$@"; do
      head -c "$at" /dev/zero | tr '\0' x; printf '%s' "$token"; head -c 9000 /dev/zero | tr '\0' y; echo
    done
    EOT
  , "sh", var.token], var.offsets)
}
`
	rb, diags := runbook.Parse(map[string][]byte{"cut.hcl": []byte(src)}, Registry(Deps{}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	store, err := journal.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const id = "20261204T000000Z-0c0c0c"
	w, err := store.Create(id, journal.NewRedactor(nil))
	if err != nil {
		t.Fatal(err)
	}
	var offsets []cty.Value
	for _, at := range cutOffsets() {
		offsets = append(offsets, cty.StringVal(fmt.Sprint(at)))
	}
	var events []runbook.Event
	sink := runbook.SinkFunc(func(e runbook.Event) error {
		events = append(events, e)
		return w.Emit(e)
	})
	res := runbook.Execute(t.Context(), rb, runbook.Options{RunID: id, AutoApprove: true, Sink: sink,
		Vars: map[string]cty.Value{"token": cty.StringVal(cutSecret), "offsets": cty.ListVal(offsets)}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var lines int
	for _, e := range events {
		if e.Kind != runbook.StepLog {
			continue
		}
		lines++
		if p := secretPiece(e.Line); p != "" {
			t.Errorf("%q in the log line %.20q…%q", p, e.Line, e.Line[max(0, len(e.Line)-40):])
		}
	}
	if lines < len(offsets) {
		t.Errorf("%d log lines for %d printed", lines, len(offsets))
	}
	printed, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	if p := secretPiece(string(printed)); p != "" {
		t.Errorf("%q in the events", p)
	}
	if !strings.Contains(string(printed), "x"+redact.Marker) {
		t.Error("no marker where the secret was")
	}
	raw, err := os.ReadFile(store.Path(id))
	if err != nil {
		t.Fatal(err)
	}
	if p := secretPiece(string(raw)); p != "" {
		t.Errorf("%q in the journal", p)
	}
}
