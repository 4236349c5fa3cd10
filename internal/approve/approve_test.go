package approve

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
)

var req = runbook.GateRequest{
	RunID: "20261122T164500Z-3f9a1c", Node: "gate.failover", Prompt: "Scale the DR fleet?", Token: "failover",
	Changes: []runbook.Change{{Action: "SetDesiredCapacity", Target: "ai-inference-dr", Detail: "0 -> 4"}},
	Covers:  []string{"step.asg_scale.serving"},
}

func TestPromptAnswers(t *testing.T) {
	for _, tt := range []struct {
		input    string
		approved bool
		reason   string
		asked    int // how many times the hint was shown
	}{
		{"failover\n", true, "", 1},
		{"  failover  \r\n", true, "", 1},
		{"no\n", false, "refused by the operator", 1},
		// An empty Enter only repeats the hint: refusing is typing no.
		{"\n\nno\n", false, "refused by the operator", 3},
		{"\nfailover\n", true, "", 2},
		// A wrong token says so and asks again.
		{"yes\nFailover\nfailover\n", true, "", 3},
		{"failover", true, "", 1}, // last line without newline
	} {
		var out lockedbuf.Buffer
		p := NewPrompt(strings.NewReader(tt.input), &out, "alice")
		d, err := p.Approve(t.Context(), req)
		if err != nil {
			t.Fatalf("%q: %v", tt.input, err)
		}
		if d.Approved != tt.approved || !strings.Contains(d.Reason, tt.reason) || d.By != "alice" {
			t.Errorf("%q: decision %+v", tt.input, d)
		}
		shown := out.String()
		for _, want := range []string{"gate.failover needs approval (run 20261122T164500Z-3f9a1c)", "Scale the DR fleet?",
			"Approving confirms step.asg_scale.serving", "- SetDesiredCapacity ai-inference-dr 0 -> 4"} {
			if !strings.Contains(shown, want) {
				t.Errorf("prompt lacks %q:\n%s", want, shown)
			}
		}
		if n := strings.Count(shown, `Type "failover" to approve, or "no" to refuse`); n != tt.asked {
			t.Errorf("%q: hint shown %d times, want %d:\n%s", tt.input, n, tt.asked, shown)
		}
		if strings.Contains(tt.input, "yes") && !strings.Contains(shown, `That is not "failover"`) {
			t.Errorf("a wrong token was not called wrong:\n%s", shown)
		}
	}
}

func TestPromptInputClosed(t *testing.T) {
	p := NewPrompt(strings.NewReader(""), io.Discard, "alice")
	if _, err := p.Approve(t.Context(), req); err == nil || !strings.Contains(err.Error(), "input closed") {
		t.Errorf("err = %v", err)
	}
	// And again: the prompt does not hang once its input is gone.
	if _, err := p.Approve(t.Context(), req); err == nil {
		t.Error("second ask succeeded")
	}
}

// asked signals each time a prompt has been written.
type asked chan struct{}

func (a asked) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "to approve") {
		a <- struct{}{}
	}
	return len(p), nil
}

func TestPromptSeveralGates(t *testing.T) {
	pr, pw := io.Pipe()
	prompts := make(asked)
	p := NewPrompt(pr, prompts, "bob")
	answers := []string{"failover", "no", "failover"}
	go func() {
		// Answer each question only once it is on the screen.
		for _, line := range answers {
			<-prompts
			_, _ = io.WriteString(pw, line+"\n")
		}
	}()
	for i, line := range answers {
		d, err := p.Approve(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Approved != (line == "failover") {
			t.Errorf("ask %d: %+v", i, d)
		}
	}
	_ = pw.Close()
}

func TestPromptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		var out lockedbuf.Buffer
		p := NewPrompt(pr, &out, "alice")
		r := req
		r.Timeout = 5 * time.Minute
		start := time.Now()
		d, err := p.Approve(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if d.Approved || d.Reason != "timed out after 5m0s" {
			t.Errorf("decision = %+v", d)
		}
		if got := time.Since(start); got != 5*time.Minute {
			t.Errorf("refused after %s", got)
		}
		if !strings.Contains(out.String(), "Refused automatically after 5m0s") {
			t.Errorf("prompt = %q", out.String())
		}
	})
}

func TestPromptContextDeadlineIsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		p := NewPrompt(pr, io.Discard, "alice")
		r := req
		r.Timeout = time.Minute
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		d, err := p.Approve(ctx, r)
		if err != nil || d.Approved || !strings.Contains(d.Reason, "timed out") {
			t.Errorf("decision %+v, err %v", d, err)
		}
	})
}

func TestPromptCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		p := NewPrompt(pr, io.Discard, "alice")
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(time.Second) // fake clock: the operator walks away, then Ctrl-C
			cancel()
		}()
		_, err := p.Approve(ctx, req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestPromptDiscardsTypeAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		p := NewPrompt(pr, io.Discard, "alice")
		p.once.Do(func() { go p.read() })
		// The operator types the token before any gate asks for it.
		go func() { _, _ = io.WriteString(pw, "failover\n") }()
		synctest.Wait()
		got := make(chan runbook.Decision, 1)
		go func() {
			d, _ := p.Approve(t.Context(), req)
			got <- d
		}()
		synctest.Wait()
		go func() { _, _ = io.WriteString(pw, "no\n") }()
		if d := <-got; d.Approved {
			t.Errorf("type-ahead approved the gate: %+v", d)
		}
	})
}

func TestNonInteractive(t *testing.T) {
	d, err := NonInteractive{}.Approve(t.Context(), req)
	if err != nil || d.Approved || !strings.Contains(d.Reason, "--auto-approve") || !strings.Contains(d.Reason, "gate.failover") {
		t.Errorf("decision %+v, err %v", d, err)
	}
}
