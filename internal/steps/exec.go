package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drconsole/drconsole/internal/redact"
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
	var sensitive []string
	logf := func(string) {}
	if sc != nil {
		sensitive = sc.Sensitive
		if sc.Log != nil {
			logf = sc.Log
		}
	}
	m := newMasker(outputSecrets(env, sensitive, os.Environ()))

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
	stdout := newStream("stdout", m, logf, &mu)
	stderr := newStream("stderr", m, logf, &mu)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	name := m.mask(argv[0])
	started, runErr := runCommand(cmd)
	if !started {
		return cty.NilVal, fmt.Errorf("exec %s: %s", name, m.mask(runErr.Error()))
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
			return cty.NilVal, fmt.Errorf("exec %s: %s", name, m.mask(runErr.Error()))
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
		return redact.Marker
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
		kv.secret = redact.SecretName(kv.name) || redact.HasKeyID(kv.value)
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
	return out
}

// outputSecrets is every value exec masks in a command's output before
// cutting it: the command's secret environment entries whatever their
// length, and what the journal and the engine would mask in a whole line —
// the run's sensitive values and the secret-looking variables of this
// process, which the command inherits — each also as it appears inside
// JSON text. Masking them here, whole, is what keeps a piece of one from
// surviving a line cut that the later redaction could no longer match.
func outputSecrets(env []envPair, sensitive, environ []string) []string {
	out := secretsOf(env)
	add := func(v string) {
		out = append(out, v)
		if b, err := json.Marshal(v); err == nil {
			if enc := string(b[1 : len(b)-1]); enc != v {
				out = append(out, enc)
			}
		}
	}
	for _, v := range sensitive {
		if len(v) >= redact.MinLiteral {
			add(v)
		}
	}
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if ok && redact.SecretName(name) && len(v) >= redact.MinEnvValue {
			add(v)
		}
	}
	return out
}

// masker replaces the values of a command's secret environment entries,
// whatever their length: the command was handed exactly these values, so
// wherever they appear in what it prints they are an echo.
type masker struct {
	secrets  [][]byte // longest first
	replacer *strings.Replacer
}

// newMasker masks secrets.
func newMasker(secrets []string) masker {
	if len(secrets) == 0 {
		return masker{}
	}
	// Longest first, so a secret that contains another is replaced whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	m := masker{}
	pairs := make([]string, 0, 2*len(secrets))
	for _, v := range secrets {
		pairs = append(pairs, v, redact.Marker)
		m.secrets = append(m.secrets, []byte(v))
	}
	m.replacer = strings.NewReplacer(pairs...)
	return m
}

func (m masker) mask(s string) string {
	if m.replacer == nil {
		return s
	}
	return m.replacer.Replace(s)
}

// hold is how many bytes at the end of what has arrived may be the start
// of a secret whose rest is still to come.
func (m masker) hold() int {
	if len(m.secrets) == 0 {
		return 0
	}
	return len(m.secrets[0]) - 1
}

// cut returns where to end a piece of b that should end at at, so that no
// secret mask would replace runs across the end: the piece then masks as
// it would have inside the whole. It moves the end back to the start of a
// secret that crosses it, or past the secret when that starts the piece.
// Every secret starting before at must lie whole in b.
func (m masker) cut(b []byte, at int) int {
	if len(m.secrets) == 0 || at <= 0 {
		return max(at, 0)
	}
	// The same leftmost, longest-first matching strings.Replacer does.
	for i := 0; i < at; {
		n := 0
		for _, sec := range m.secrets {
			if bytes.HasPrefix(b[i:], sec) {
				n = len(sec)
				break
			}
		}
		switch {
		case n == 0:
			i++
		case i+n <= at:
			i += n
		case i == 0:
			return n
		default:
			return i
		}
	}
	return at
}

func scrubChange(c runbook.Change, secrets []string) runbook.Change {
	m := newMasker(secrets)
	c.Target, c.Detail = m.mask(c.Target), m.mask(c.Detail)
	return c
}

// stream receives one of a command's output streams: it keeps the last
// tailBytes and reports each line through log. Secrets are masked before
// anything is cut, lines and the tail alike, so a secret is never split
// into pieces that are each left unmasked.
type stream struct {
	name string
	mask masker
	log  func(string)
	mu   *sync.Mutex

	line    []byte
	lines   int
	pending []byte // written, not yet masked into ring: may start a secret
	ring    []byte // the last tailBytes written, masked, possibly more
	lastErr string
}

func newStream(name string, m masker, log func(string), mu *sync.Mutex) *stream {
	return &stream{name: name, mask: m, log: log, mu: mu}
}

func (s *stream) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	c := s.mask.cut(s.pending, len(s.pending)-s.mask.hold())
	s.ring = append(s.ring, s.mask.mask(string(s.pending[:c]))...)
	s.pending = append(s.pending[:0], s.pending[c:]...)
	// The ring is masked already, so trimming it cannot split a secret.
	if keep := tailBytes + maxLineBytes; len(s.ring) > 2*keep {
		s.ring = append(s.ring[:0], s.ring[len(s.ring)-keep:]...)
	}
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.line = append(s.line, rest...)
			// A secret may go on in the next write: hold back enough that
			// it is whole before the piece it starts in is logged.
			s.spill(s.mask.hold())
			break
		}
		s.line = append(s.line, rest[:i]...)
		// What came before this write was held back only for a secret
		// that might go on; it goes out in pieces as if it had not been.
		s.spill(i)
		s.emit(string(s.line), false)
		s.line = s.line[:0]
		rest = rest[i+1:]
	}
	return len(p), nil
}

// spill logs the buffered line in pieces of maxLineBytes while a whole
// piece lies before its last keep bytes. A piece ends where no secret
// runs across it.
func (s *stream) spill(keep int) {
	for len(s.line)-keep >= maxLineBytes {
		c := s.mask.cut(s.line, maxLineBytes)
		s.emit(string(s.line[:c]), true)
		s.line = append(s.line[:0], s.line[c:]...)
	}
}

// emit logs a line, or with more a piece of one that goes on: masked
// first, then cut at maxLineBytes.
func (s *stream) emit(line string, more bool) {
	if !more {
		line = strings.TrimRight(line, "\r")
	}
	line = strings.ToValidUTF8(s.mask.mask(line), "\uFFFD")
	if len(line) > maxLineBytes {
		line = strings.ToValidUTF8(line[:maxLineBytes], "") + "…"
	} else if more {
		line += "…"
	}
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
	s.spill(0)
	if len(s.line) > 0 {
		s.emit(string(s.line), false)
		s.line = s.line[:0]
	}
}

// lastLine is the last non-blank line seen, for error messages.
func (s *stream) lastLine() string { return s.lastErr }

// tail returns the last tailBytes of the stream, with secrets replaced.
func (s *stream) tail() string {
	t := string(s.ring) + s.mask.mask(string(s.pending))
	if len(t) > tailBytes {
		t = t[len(t)-tailBytes:]
	}
	return strings.ToValidUTF8(t, "\uFFFD")
}
