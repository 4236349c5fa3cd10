package tui

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/inventory"
	"github.com/drconsole/drconsole/internal/runbook"
)

// gateScript drives a modal with keys at given offsets from its opening.
type gateStep struct {
	at    time.Duration
	key   string // a key name, or "paste:TEXT", or "repeat:K" (IsRepeat set)
	after string // expected input after the step ("-" to skip the check)
}

func runGate(t *testing.T, steps []gateStep) (decided, approved bool) {
	t.Helper()
	t0 := fixedNow
	g := newModal("Gate gate.failover", "Scale the DR fleet?", "ai-inference-dr@us-west-2", []string{"SetDesiredCapacity ai-inference-dr 0 -> 4"},
		t0, 500*time.Millisecond, func(ok bool) tea.Cmd { decided, approved = true, ok; return nil })
	for i, s := range steps {
		now := t0.Add(s.at)
		switch {
		case len(s.key) > 6 && s.key[:6] == "paste:":
			g.paste()
		case strings.HasPrefix(s.key, "multi:"):
			text := strings.TrimPrefix(s.key, "multi:")
			g.key(tea.KeyPressMsg{Code: []rune(text)[0], Text: text}, now)
		case len(s.key) > 7 && s.key[:7] == "repeat:":
			k := keyMsg(s.key[7:])
			k.IsRepeat = true
			g.key(k, now)
		default:
			g.key(keyMsg(s.key), now)
		}
		if s.after != "-" && g.input != s.after {
			t.Fatalf("step %d (%q at %s): input %q, want %q (note %q)", i, s.key, s.at, g.input, s.after, g.note)
		}
		if g.done {
			break
		}
	}
	return decided, approved
}

// typed returns steps typing s one key every 120ms from start.
func typed(start time.Duration, s string) []gateStep {
	var out []gateStep
	for i, r := range s {
		out = append(out, gateStep{at: start + time.Duration(i)*120*time.Millisecond, key: string(r), after: "-"})
	}
	return out
}

func TestGateApprovesOnlyTypedToken(t *testing.T) {
	token := "ai-inference-dr@us-west-2"
	steps := append(typed(time.Second, token), gateStep{at: 10 * time.Second, key: "enter", after: "-"})
	if decided, ok := runGate(t, steps); !decided || !ok {
		t.Fatalf("typing the token and enter: decided %v approved %v", decided, ok)
	}
}

func TestGateRefusals(t *testing.T) {
	token := "ai-inference-dr@us-west-2"
	cases := map[string][]gateStep{
		// Enter alone repeats the hint and leaves the gate open.
		"enter alone": {{at: time.Second, key: "enter", after: ""}, {at: 2 * time.Second, key: "enter", after: ""}},
		// A paste without bracketed-paste markers: the token's keys in
		// one read, a millisecond apart.
		"unbracketed paste": append(burst(time.Second, token), gateStep{at: 2 * time.Second, key: "enter", after: ""}),
		// A key event carrying several runes is a paste too.
		"multi-rune key": {{at: time.Second, key: "multi:" + token, after: ""}, {at: 2 * time.Second, key: "enter", after: ""}},
		// esc asks; any key but y goes back to the question.
		"esc then n": append(typed(time.Second, "ai"), gateStep{at: 2 * time.Second, key: "esc", after: "ai"},
			gateStep{at: 3 * time.Second, key: "n", after: "ai"}, gateStep{at: 4 * time.Second, key: "enter", after: "ai"}),
		// Enter pressed as the gate opens (the operator was confirming
		// something else) is ignored, and the gate stays open.
		"early enter": {{at: 100 * time.Millisecond, key: "enter", after: ""}},
		// A token typed ahead, before the question was on screen, does
		// not count.
		"typed too soon": append(typed(0, token[:4]), gateStep{at: 600 * time.Millisecond, key: "enter", after: ""}),
		// A paste clears what was typed.
		"paste": append(append(typed(time.Second, token[:10]), gateStep{at: 3 * time.Second, key: "paste:" + token, after: ""}),
			gateStep{at: 4 * time.Second, key: "enter", after: ""}),
		// A held key repeats: the repeat clears the input.
		"repeat flag": append(typed(time.Second, "ai"), gateStep{at: 2 * time.Second, key: "repeat:i", after: ""},
			gateStep{at: 3 * time.Second, key: "enter", after: ""}),
		// Two identical keys closer than a person types.
		"auto-repeat timing": {
			{at: time.Second, key: "a", after: "a"},
			{at: time.Second + 10*time.Millisecond, key: "a", after: ""},
			{at: 2 * time.Second, key: "enter", after: ""},
		},
		// A wrong token with enter does nothing; esc cancels.
		"wrong token": append(typed(time.Second, "ai-inference-dr"), gateStep{at: 5 * time.Second, key: "enter", after: "ai-inference-dr"},
			gateStep{at: 6 * time.Second, key: "esc", after: "-"}),
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			if _, ok := runGate(t, steps); ok {
				t.Fatalf("approved")
			}
		})
	}
	// None of these decided: the gate stays open until a token or an
	// explicit refusal.
	for name, steps := range cases {
		if decided, _ := runGate(t, steps); decided {
			t.Errorf("%s decided the gate", name)
		}
	}
}

// burst returns steps sending s as one read of the terminal delivers it:
// a key per character, a millisecond apart.
func burst(start time.Duration, s string) []gateStep {
	var out []gateStep
	for i, r := range s {
		out = append(out, gateStep{at: start + time.Duration(i)*time.Millisecond, key: string(r), after: "-"})
	}
	return out
}

func TestGateRefusingIsExplicit(t *testing.T) {
	steps := append(typed(time.Second, "ai"), gateStep{at: 2 * time.Second, key: "esc", after: "ai"},
		gateStep{at: 3 * time.Second, key: "y", after: "-"})
	if decided, ok := runGate(t, steps); !decided || ok {
		t.Fatalf("esc then y: decided %v approved %v", decided, ok)
	}
	// Typing at a person's pace after a paste still approves.
	steps = append(append(burst(time.Second, "ai-inference"), typed(2*time.Second, "ai-inference-dr@us-west-2")...),
		gateStep{at: 10 * time.Second, key: "enter", after: "-"})
	if decided, ok := runGate(t, steps); !decided || !ok {
		t.Fatalf("typing after a paste: decided %v approved %v", decided, ok)
	}
}

func FuzzGateNeverApprovesWithoutToken(f *testing.F) {
	f.Add("ai-inference-dr@us-west-2", uint8(120))
	f.Add("\r\r\r", uint8(1))
	f.Fuzz(func(t *testing.T, keys string, gapMS uint8) {
		token := "ai-inference-dr@us-west-2"
		approved := false
		g := newModal("g", "p", token, nil, fixedNow, 500*time.Millisecond, func(ok bool) tea.Cmd { approved = ok; return nil })
		now := fixedNow
		typedRight := ""
		for _, r := range keys {
			now = now.Add(time.Duration(gapMS) * time.Millisecond)
			k := keyMsg(string(r))
			if r == '\r' || r == '\n' {
				k = keyMsg("enter")
			}
			g.key(k, now)
			if g.done {
				break
			}
			typedRight = g.input
		}
		if approved && typedRight != token {
			t.Fatalf("approved with input %q", typedRight)
		}
	})
}

func TestApproverTimesOutAndAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		asked := make(chan gateMsg, 4)
		a := NewApprover(func(m tea.Msg) { asked <- m.(gateMsg) }, "oncall")
		// Nobody answers: the gate's timeout (on the fake clock) refuses it.
		d, err := a.Approve(context.Background(), runbook.GateRequest{Node: "gate.failover", Timeout: time.Minute})
		if err != nil || d.Approved || d.By != "oncall" || d.Reason == "" {
			t.Fatalf("decision %+v, %v", d, err)
		}
		<-asked
		// The operator answers through the modal.
		go func() { (<-asked).reply <- runbook.Decision{Approved: true} }()
		d, err = a.Approve(context.Background(), runbook.GateRequest{Node: "gate.failover"})
		if err != nil || !d.Approved || d.By != "oncall" {
			t.Fatalf("decision %+v, %v", d, err)
		}
		// The run ends while the gate is open.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := a.Approve(ctx, runbook.GateRequest{Node: "gate.failover"}); err == nil {
			t.Fatal("no error after the context ended")
		}
		synctest.Wait()
		<-asked
	})
}

// TestGoldenGateLongPlan opens a roll back of a model artifact whose key
// and version id are long at 80x24: the plan wraps whole, scrolls, and
// the token and its input stay on screen at every position.
func TestGoldenGateLongPlan(t *testing.T) {
	h := newHarness(t, 80, 24, nil)
	ctx := context.Background()
	c, err := h.m.env.opts.Clients.S3(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	bucket := "ai-model-artifacts"
	// S3 keys reach 1024 bytes; this one is long enough that the change
	// and the token (bucket/key) do not fit the box together at 80x24.
	key := "models/llm-serving/team-inference-platform/experiments/2026-11-19/sweep-learning-rate-warmup/" +
		"run-8f3c2a91-d5e7-4b0c-9a61-2f4e8c7d3b10/checkpoints/epoch-0042/step-000184320/" +
		"tensor-parallel-rank-03/shard-00017-of-00032.safetensors"
	var first string
	for _, body := range []string{"weights of the good checkpoint", "weights of the bad checkpoint, larger"} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = aws.ToString(out.VersionId)
		}
	}
	h.run(rollbackRun(h.m.env, bucket, inventory.Version{Key: key, VersionID: first}))
	h.waitScreen("Gate step.model_rollback.artifact")
	h.clock.Advance(time.Second)
	h.golden("gate-long-plan-80x24")
	seen := h.screen()
	for range 20 {
		if !strings.Contains(h.screen(), "Type ") || !strings.Contains(h.screen(), "> ") {
			t.Fatalf("the token or its input is off screen:\n%s", h.screen())
		}
		h.keys("pgdown")
		seen += h.screen()
	}
	h.golden("gate-long-plan-end-80x24")
	// Every part of the change was on screen at some position: the key
	// and the version id are wrapped, so look for them without the
	// wrapping.
	flat := strings.Join(strings.Fields(strings.NewReplacer("║", "", "│", "").Replace(seen)), "")
	for _, want := range []string{key, first, bucket} {
		if !strings.Contains(flat, want) {
			t.Errorf("%q never shown in full:\n%s", want, seen)
		}
	}
	approve(h, bucket+"/"+key)
	h.waitScreen("run SUCCEEDED")
}
