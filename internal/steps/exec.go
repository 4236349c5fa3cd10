package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Exec runs a local command without a shell:
//
//	step "exec" "warm_cache" {
//	  command = ["python3", "warm.py", "--model", var.model]
//	  env     = { HF_TOKEN = var.hf_token }
//	  dir     = "/opt/serving"
//	}
//
// exec is not destructive as a type: it is how runbooks call the operator's
// own tooling, and most of that tooling checks or reports. A command that
// changes state should sit behind `confirm = true` or a gate; the reference
// (docs/runbook-language.md) says so. On resume an unfinished exec step runs
// again, so its command must be safe to repeat.
type Exec struct{}

// Bounds on what exec keeps of a command's output: the last tailBytes of
// each stream go into the step's outputs, lines are cut at maxLineBytes, and
// at most maxLogLines lines per stream go to the journal so a chatty command
// cannot flood it.
const (
	tailBytes    = 64 << 10
	maxLineBytes = 4 << 10
	maxLogLines  = 10000
	// killDelay is how long a cancelled command gets between SIGTERM and
	// SIGKILL.
	killDelay = 5 * time.Second
)

var execOutputs = cty.Object(map[string]cty.Type{
	"exit_code": cty.Number,
	"stdout":    cty.String,
	"stderr":    cty.String,
})

// Spec implements runbook.StepType.
func (Exec) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"command": &hcldec.AttrSpec{Name: "command", Type: cty.List(cty.String), Required: true},
		"env":     &hcldec.AttrSpec{Name: "env", Type: cty.Map(cty.String)},
		"dir":     &hcldec.AttrSpec{Name: "dir", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (Exec) Outputs() cty.Type { return execOutputs }

// Destructive implements runbook.StepType; see the type's comment.
func (Exec) Destructive() bool { return false }

// Plan implements runbook.StepType. It never runs the command.
func (Exec) Plan(_ context.Context, _ *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	cmd := cfg.GetAttr("command")
	var target string
	switch {
	case !cmd.IsKnown():
		target = "(command known after earlier steps)"
	case cmd.IsNull() || cmd.LengthInt() == 0:
		return nil, errors.New("exec: command must name a program")
	default:
		parts := make([]string, 0, cmd.LengthInt())
		for it := cmd.ElementIterator(); it.Next(); {
			_, v := it.Element()
			parts = append(parts, renderArg(v))
		}
		target = strings.Join(parts, " ")
	}
	env := envPairs(cfg.GetAttr("env"))
	var detail []string
	if d := cfg.GetAttr("dir"); !d.IsNull() {
		if d.IsKnown() {
			detail = append(detail, "in "+d.AsString())
		} else {
			detail = append(detail, "in (dir known after earlier steps)")
		}
	}
	if len(env) > 0 {
		shown := make([]string, 0, len(env))
		for _, kv := range env {
			shown = append(shown, kv.name+"="+kv.shown())
		}
		detail = append(detail, "env "+strings.Join(shown, " "))
	}
	c := runbook.Change{Action: "exec", Target: target, Detail: strings.Join(detail, "; ")}
	return []runbook.Change{scrubChange(c, secretsOf(env))}, nil
}

// Apply implements runbook.StepType: it runs the command to completion and
// fails the step on a non-zero exit status.
func (Exec) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	argv, err := argvOf(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	env := envPairs(cfg.GetAttr("env"))
	s := scrubber(secretsOf(env))
	logf := func(string) {}
	if sc != nil && sc.Log != nil {
		logf = sc.Log
	}

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = cfgString(cfg, "dir")
	cmd.Env = os.Environ()
	for _, kv := range env {
		cmd.Env = append(cmd.Env, kv.name+"="+kv.value)
	}
	// A cancelled run asks the command to stop before killing it, so tools
	// that clean up on SIGTERM get the chance.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = killDelay
	var mu sync.Mutex // serialises Log calls from the two streams
	stdout := newStream("stdout", s, logf, &mu)
	stderr := newStream("stderr", s, logf, &mu)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	name := s(argv[0])
	started, runErr := runCommand(cmd)
	if !started {
		return cty.NilVal, fmt.Errorf("exec %s: %s", name, s(runErr.Error()))
	}
	stdout.flush()
	stderr.flush()
	code := cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		return cty.NilVal, fmt.Errorf("exec %s: %w", name, context.Cause(ctx))
	}
	if runErr != nil {
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) {
			return cty.NilVal, fmt.Errorf("exec %s: %s", name, s(runErr.Error()))
		}
		msg := fmt.Sprintf("exec %s: %s", name, exitErr.ProcessState.String())
		if last := stderr.lastLine(); last != "" {
			msg += ": " + last
		}
		return cty.NilVal, errors.New(msg)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"exit_code": cty.NumberIntVal(int64(code)),
		"stdout":    cty.StringVal(stdout.tail()),
		"stderr":    cty.StringVal(stderr.tail()),
	}), nil
}

func argvOf(cfg cty.Value) ([]string, error) {
	cmd := cfg.GetAttr("command")
	if cmd.IsNull() || !cmd.IsWhollyKnown() || cmd.LengthInt() == 0 {
		return nil, errors.New("exec: command must name a program")
	}
	argv := make([]string, 0, cmd.LengthInt())
	for it := cmd.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.IsNull() {
			return nil, fmt.Errorf("exec: command element %d is null", len(argv))
		}
		argv = append(argv, v.AsString())
	}
	if argv[0] == "" {
		return nil, errors.New("exec: command must name a program")
	}
	return argv, nil
}

func renderArg(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(known after apply)"
	case v.IsNull():
		return "null"
	}
	s := v.AsString()
	if s == "" || strings.ContainsAny(s, " \t\n\"'\\$`") {
		return strconv.Quote(s)
	}
	return s
}

type envPair struct {
	name, value string
	known       bool
	secret      bool
}

func (kv envPair) shown() string {
	switch {
	case !kv.known:
		return "(known after apply)"
	case kv.secret:
		return "<redacted>"
	}
	return renderArg(cty.StringVal(kv.value))
}

// envPairs returns the env map in name order, each marked secret when its
// name or value looks like a credential.
func envPairs(env cty.Value) []envPair {
	if env.IsNull() || !env.IsKnown() {
		return nil
	}
	var out []envPair
	for it := env.ElementIterator(); it.Next(); {
		k, v := it.Element()
		kv := envPair{name: k.AsString(), known: v.IsKnown() && !v.IsNull()}
		if kv.known {
			kv.value = v.AsString()
		}
		kv.secret = journal.SecretName(kv.name) || looksLikeKey.MatchString(kv.value)
		out = append(out, kv)
	}
	slices.SortFunc(out, func(a, b envPair) int { return strings.Compare(a.name, b.name) })
	return out
}

func secretsOf(env []envPair) []string {
	var out []string
	for _, kv := range env {
		if kv.secret && kv.value != "" {
			out = append(out, kv.value)
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// looksLikeKey matches AWS access key ids, whatever the variable is called.
var looksLikeKey = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

// scrubber returns a function that replaces every secret value in a string.
func scrubber(secrets []string) func(string) string {
	if len(secrets) == 0 {
		return func(s string) string { return s }
	}
	pairs := make([]string, 0, 2*len(secrets))
	for _, v := range secrets {
		pairs = append(pairs, v, "<redacted>")
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

func scrubChange(c runbook.Change, secrets []string) runbook.Change {
	s := scrubber(secrets)
	c.Target, c.Detail = s(c.Target), s(c.Detail)
	return c
}

// stream receives one of a command's output streams: it keeps the last
// tailBytes and reports each line through log.
type stream struct {
	name  string
	scrub func(string) string
	log   func(string)
	mu    *sync.Mutex

	line    []byte
	lines   int
	ring    []byte // the last tailBytes written, possibly more
	lastErr string
}

func newStream(name string, scrub func(string) string, log func(string), mu *sync.Mutex) *stream {
	return &stream{name: name, scrub: scrub, log: log, mu: mu}
}

func (s *stream) Write(p []byte) (int, error) {
	s.ring = append(s.ring, p...)
	// Keep a margin beyond the tail so that a secret cut in half by this
	// compaction lies outside what tail returns.
	if keep := tailBytes + maxLineBytes; len(s.ring) > 2*keep {
		s.ring = append(s.ring[:0], s.ring[len(s.ring)-keep:]...)
	}
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.line = append(s.line, rest...)
			for len(s.line) >= maxLineBytes {
				s.emit(string(s.line[:maxLineBytes]) + "…")
				s.line = append(s.line[:0], s.line[maxLineBytes:]...)
			}
			break
		}
		s.line = append(s.line, rest[:i]...)
		s.emit(string(s.line))
		s.line = s.line[:0]
		rest = rest[i+1:]
	}
	return len(p), nil
}

func (s *stream) emit(line string) {
	line = strings.ToValidUTF8(strings.TrimRight(line, "\r"), "\uFFFD")
	if len(line) > maxLineBytes {
		line = strings.ToValidUTF8(line[:maxLineBytes], "") + "…"
	}
	line = s.scrub(line)
	if strings.TrimSpace(line) != "" {
		s.lastErr = line
	}
	s.lines++
	switch {
	case s.lines < maxLogLines:
	case s.lines == maxLogLines:
		line = fmt.Sprintf("(further %s lines are not journalled; the last %d KiB are in the step's outputs)", s.name, tailBytes>>10)
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log(s.name + ": " + line)
}

func (s *stream) flush() {
	if len(s.line) > 0 {
		s.emit(string(s.line))
		s.line = s.line[:0]
	}
}

// lastLine is the last non-blank line seen, for error messages.
func (s *stream) lastLine() string { return s.lastErr }

// tail returns the last tailBytes of the stream, with secrets replaced.
func (s *stream) tail() string {
	t := s.scrub(string(s.ring))
	if len(t) > tailBytes {
		t = t[len(t)-tailBytes:]
	}
	return strings.ToValidUTF8(t, "\uFFFD")
}
