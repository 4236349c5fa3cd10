// Package approve holds the approvers that decide gates outside the
// console: a prompt on the operator's terminal, and the refusal used when
// nobody can be asked.
package approve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
)

// Prompt asks the operator on a terminal. Approving takes typing the gate's
// token exactly, and refusing takes typing "no": an empty line or another
// word only repeats the question, so an Enter pressed out of habit neither
// approves nor ends the run. Lines typed before the prompt appears are
// discarded for the same reason.
type Prompt struct {
	in       io.Reader
	out      io.Writer
	operator string

	once  sync.Once
	lines chan line
	gen   atomic.Int64  // counts questions; a line answers the question current when it was read
	done  chan struct{} // closed when in is exhausted
	err   error         // why in ended; read after done is closed
	ask   sync.Mutex    // one question on the terminal at a time
}

// NewPrompt returns a Prompt reading answers from in and writing questions
// to out. operator is recorded as who approved.
func NewPrompt(in io.Reader, out io.Writer, operator string) *Prompt {
	return &Prompt{in: in, out: out, operator: operator, lines: make(chan line), done: make(chan struct{})}
}

type line struct {
	text string
	gen  int64
}

// read feeds lines from in to p.lines until in ends. It runs for the life
// of the Prompt: a read on a terminal cannot be interrupted, so one reader
// serves every question instead of one abandoned reader per question.
func (p *Prompt) read() {
	br := bufio.NewReader(p.in)
	for {
		text, err := br.ReadString('\n')
		if text != "" || err == nil {
			p.lines <- line{text: strings.TrimRight(text, "\r\n"), gen: p.gen.Load()}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("input closed")
			}
			p.err = err
			close(p.done)
			return
		}
	}
}

// Approve implements runbook.Approver.
func (p *Prompt) Approve(ctx context.Context, req runbook.GateRequest) (runbook.Decision, error) {
	p.ask.Lock()
	defer p.ask.Unlock()
	// Lines read before this question was asked are type-ahead: dropped.
	gen := p.gen.Add(1)
	p.once.Do(func() { go p.read() })

	var b strings.Builder
	fmt.Fprintf(&b, "\n%s needs approval", req.Node)
	if req.RunID != "" {
		fmt.Fprintf(&b, " (run %s)", req.RunID)
	}
	b.WriteString(":\n")
	if req.Prompt != "" {
		fmt.Fprintf(&b, "  %s\n", req.Prompt)
	}
	if len(req.Covers) > 0 {
		fmt.Fprintf(&b, "  %s\n", runbook.CoversLine(req.Covers))
	}
	if len(req.Changes) > 0 {
		b.WriteString("  Planned changes:\n")
		for _, c := range req.Changes {
			fmt.Fprintf(&b, "    - %s\n", c)
		}
	}
	if req.Timeout > 0 {
		fmt.Fprintf(&b, "  Refused automatically after %s.\n", req.Timeout)
	}
	hint := fmt.Sprintf("Type %q to approve, or %q to refuse: ", req.Token, refuseWord)
	b.WriteString(hint)
	if _, err := io.WriteString(p.out, b.String()); err != nil {
		return runbook.Decision{}, fmt.Errorf("ask for %s: %w", req.Node, err)
	}

	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	timedOut := func() (runbook.Decision, error) {
		fmt.Fprintln(p.out, "\nNo answer: refused.")
		return runbook.Decision{Reason: fmt.Sprintf("timed out after %s", req.Timeout)}, nil
	}
	for {
		answer, expired, err := p.next(ctx, gen, timeout)
		switch {
		case expired || (err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Timeout > 0):
			return timedOut()
		case err != nil:
			fmt.Fprintln(p.out)
			return runbook.Decision{}, fmt.Errorf("ask for %s: %w", req.Node, err)
		}
		switch got := strings.TrimSpace(answer); {
		case got == req.Token && req.Token != "":
			fmt.Fprintf(p.out, "Approved by %s.\n", p.operator)
			return runbook.Decision{Approved: true, By: p.operator}, nil
		case got == refuseWord:
			fmt.Fprintln(p.out, "Refused.")
			return runbook.Decision{By: p.operator, Reason: "refused by the operator"}, nil
		case got == "":
			fmt.Fprint(p.out, hint)
		default:
			fmt.Fprintf(p.out, "That is not %q. %s", req.Token, hint)
		}
	}
}

// refuseWord is what the operator types to refuse a gate.
const refuseWord = "no"

// next waits for the next line that answers question gen; expired
// reports that the question's timeout came first.
func (p *Prompt) next(ctx context.Context, gen int64, timeout <-chan time.Time) (text string, expired bool, err error) {
	for {
		select {
		case l := <-p.lines:
			if l.gen == gen {
				return l.text, false, nil
			}
		case <-timeout:
			return "", true, nil
		case <-ctx.Done():
			return "", false, context.Cause(ctx)
		case <-p.done:
			return "", false, p.err
		}
	}
}

// NonInteractive refuses every gate with an explanation: it stands in when
// stdin is not a terminal and --auto-approve was not given, so a pipeline
// stops at a gate instead of hanging or acting unasked.
type NonInteractive struct{}

// Approve implements runbook.Approver.
func (NonInteractive) Approve(_ context.Context, req runbook.GateRequest) (runbook.Decision, error) {
	return runbook.Decision{
		By:     "non-interactive",
		Reason: fmt.Sprintf("%s needs approval but there is no terminal to ask on: run from a terminal, or pass --auto-approve to approve every gate", req.Node),
	}, nil
}
