package tui

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runner"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/steps"
)

// runIDs match run ids, whose suffix is random.
var runIDs = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{6}`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of the sandbox estate and of the console in tests.
var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// harness drives the root model the way the program does: messages go
// to Update, commands run in goroutines and their messages come back.
// Nothing sleeps: tests wait for a condition with a deadline.
type harness struct {
	t        *testing.T
	m        *Model
	srv      *sandbox.Server
	msgs     chan tea.Msg
	inflight atomic.Int64
	clock    *testClock
}

// testClock is a settable clock.
type testClock struct{ now atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *testClock) Set(t time.Time)         { c.now.Store(t.UnixNano()) }
func (c *testClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

// fixture is a sandbox and its clock, shared by tests that only read.
type fixture struct {
	srv   *sandbox.Server
	clock *testClock
	// endpoint is where the console's clients go; empty: the sandbox.
	endpoint string
}

// answerAsAWS puts a reverse proxy in front of fx's sandbox that drops
// the header the sandbox identifies itself with, so the console sees
// what an AWS endpoint answers.
func (fx *fixture) answerAsAWS(t *testing.T) {
	t.Helper()
	u, err := url.Parse(fx.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		r.Header.Del(sandbox.IdentityHeader)
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	fx.endpoint = proxy.URL
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := &testClock{}
	clock.Set(fixedNow)
	// The tests open the first bucket of the Models view, which lists
	// buckets by name: the logs bucket is named to sort after the models.
	srv, _ := sandboxtest.Start(t, sandbox.Options{Seed: 1, Clock: clock.Now, InstanceWarmup: time.Second,
		Names: sandbox.Names{LogsBucket: "ml-logs"}})
	return &fixture{srv: srv, clock: clock}
}

// newHarness starts a console on a sandbox of its own.
func newHarness(t *testing.T, w, h int, tweak func(*Options)) *harness {
	t.Helper()
	return newHarnessOn(t, newFixture(t), w, h, tweak)
}

// newHarnessOn starts a console on fx's sandbox.
func newHarnessOn(t *testing.T, fx *fixture, w, h int, tweak func(*Options)) *harness {
	t.Helper()
	srv, clock := fx.srv, fx.clock
	calls := NewCallLog(0)
	readOnly := false
	probe := Options{}
	if tweak != nil {
		tweak(&probe)
		readOnly = probe.ReadOnly
	}
	endpoint := srv.URL()
	if fx.endpoint != "" {
		endpoint = fx.endpoint
	}
	clients, err := awsx.New(awsx.Options{
		Target: awsx.TargetSandbox, SandboxEndpoint: endpoint, ReadOnly: readOnly, Now: clock.Now,
		// One attempt: a test that injects a fault sees it at once
		// instead of after retries on the wall clock.
		MaxAttempts: 1,
		// Latency, start times and request ids (a sequence the
		// concurrent loads race for) vary from run to run: the golden
		// files record fixed values.
		Observer: awsx.ObserverFunc(func(c awsx.Call) {
			c.Latency, c.Start, c.RequestID = 0, clock.Now(), "req-"+c.Operation
			calls.ObserveCall(c)
		}),
		LoggedParams: steps.LoggedParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	store, err := journal.OpenStore(state)
	if err != nil {
		t.Fatal(err)
	}
	reg := steps.Registry(steps.Deps{AWS: clients})
	dry := steps.Registry(steps.Deps{AWS: clients.AsReadOnly()})
	opts := Options{
		Target: "sandbox", Clients: clients, Now: clock.Now, Calls: calls, ReadOnly: readOnly,
		StateDir: state, RunbooksDir: filepath.Join("testdata", "runbooks"), Operator: "tester",
		Runs: &runner.Service{Registry: reg, DryRegistry: dry, Store: store, Target: "sandbox", Operator: "tester", Host: "test", Now: clock.Now},
	}
	if tweak != nil {
		tweak(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := New(ctx, opts)
	hs := &harness{t: t, m: m, srv: srv, msgs: make(chan tea.Msg, 1024), clock: clock}
	m.SetSend(func(msg tea.Msg) { hs.msgs <- msg })
	t.Cleanup(func() { cancel(); m.Close() })
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(m.Start())
	hs.settle()
	return hs
}

// run executes a command aside; its message comes back through msgs.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.inflight.Add(1)
	go func() {
		defer h.inflight.Add(-1)
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				h.run(c)
			}
			return
		}
		if msg != nil {
			h.msgs <- msg
		}
	}()
}

func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// settle processes messages until no command is in flight.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("commands to finish", func() bool { return h.inflight.Load() == 0 && len(h.msgs) == 0 })
}

// waitFor processes messages until cond holds, failing after a deadline.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-deadline.C:
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
		default:
			if h.inflight.Load() == 0 && len(h.msgs) == 0 && !cond() {
				// Nothing can change the state but a message still to
				// come from a goroutine outside the harness (a run).
				select {
				case msg := <-h.msgs:
					h.send(msg)
				case <-deadline.C:
					h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
				}
			} else {
				select {
				case msg := <-h.msgs:
					h.send(msg)
				case <-deadline.C:
					h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
				case <-time.After(time.Millisecond):
				}
			}
		}
	}
}

// waitScreen waits until the screen shows s.
func (h *harness) waitScreen(s string) {
	h.t.Helper()
	h.waitFor("screen to show "+s, func() bool { return strings.Contains(h.screen(), s) })
}

// keys sends key presses: single characters, or names like "enter".
func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		h.send(keyMsg(k))
		h.settle()
	}
}

// typeText sends each character of s as its own key press.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	h.settle()
}

func keyMsg(k string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"down": tea.KeyDown, "up": tea.KeyUp, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
	}
	if r, ok := named[k]; ok {
		return tea.KeyPressMsg{Code: r}
	}
	if strings.HasPrefix(k, "ctrl+") {
		return tea.KeyPressMsg{Code: rune(k[5]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// screen is the frame without colours: what a NO_COLOR terminal shows.
func (h *harness) screen() string { return ansi.Strip(h.m.Render()) }

// golden compares the screen with testdata/NAME.golden.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := h.screen()
	// Lines end where the text does, so trailing blanks do not matter.
	lines := strings.Split(got, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	got = runIDs.ReplaceAllString(strings.Join(lines, "\n")+"\n", "RUN-ID")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		h.t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func pasteMsg(s string) tea.PasteMsg { return tea.PasteMsg{Content: s} }
