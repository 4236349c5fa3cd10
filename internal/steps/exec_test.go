package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/zclconf/go-cty/cty"
)

type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) ctx() *runbook.StepContext {
	return &runbook.StepContext{Address: "step.exec.test", Attempt: 1, Log: func(l string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lines = append(r.lines, l)
	}}
}

func (r *logRecorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func execCfg(argv []string, env map[string]string, dir string) cty.Value {
	args := make([]cty.Value, len(argv))
	for i, a := range argv {
		args[i] = cty.StringVal(a)
	}
	attrs := map[string]cty.Value{
		"command": cty.ListVal(args),
		"env":     cty.NullVal(cty.Map(cty.String)),
		"dir":     cty.NullVal(cty.String),
	}
	if env != nil {
		m := map[string]cty.Value{}
		for k, v := range env {
			m[k] = cty.StringVal(v)
		}
		attrs["env"] = cty.MapVal(m)
	}
	if dir != "" {
		attrs["dir"] = cty.StringVal(dir)
	}
	return cty.ObjectVal(attrs)
}

func TestExecCapturesOutputAndEnv(t *testing.T) {
	dir := t.TempDir()
	var rec logRecorder
	cfg := execCfg([]string{"sh", "-c", `echo "hello $GREETING"; pwd; echo oops >&2`}, map[string]string{"GREETING": "world"}, dir)
	out, err := Exec{}.Apply(t.Context(), rec.ctx(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.GetAttr("stdout").AsString(); got != "hello world\n"+dir+"\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := out.GetAttr("stderr").AsString(); got != "oops\n" {
		t.Errorf("stderr = %q", got)
	}
	if code, _ := out.GetAttr("exit_code").AsBigFloat().Int64(); code != 0 {
		t.Errorf("exit_code = %d", code)
	}
	logs := rec.all()
	for _, want := range []string{"stdout: hello world", "stdout: " + dir, "stderr: oops"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs %q lack %q", logs, want)
		}
	}
}

func TestExecNonZeroExitFails(t *testing.T) {
	var rec logRecorder
	_, err := Exec{}.Apply(t.Context(), rec.ctx(), execCfg([]string{"sh", "-c", "echo disk full >&2; exit 3"}, nil, ""))
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want exit status 3 with the last stderr line", err)
	}
	if !strings.Contains(rec.all(), "stderr: disk full") {
		t.Errorf("stderr not logged: %q", rec.all())
	}
}

func TestExecMissingProgram(t *testing.T) {
	_, err := Exec{}.Apply(t.Context(), nil, execCfg([]string{"drconsole-no-such-program"}, nil, ""))
	if err == nil || !strings.Contains(err.Error(), "drconsole-no-such-program") {
		t.Fatalf("err = %v", err)
	}
}

func TestExecSecretsNeverAppear(t *testing.T) {
	const secret = "s3cr3t-value-42"
	const keyID = "AKIAABCDEFGHIJKLMNOP"
	var rec logRecorder
	env := map[string]string{"DB_PASSWORD": secret, "PLAIN": keyID, "REGION": "us-west-2"}
	cfg := execCfg([]string{"sh", "-c", `echo "pw=$DB_PASSWORD id=$PLAIN r=$REGION"; echo "$DB_PASSWORD" >&2; exit 1`}, env, "")
	_, err := Exec{}.Apply(t.Context(), rec.ctx(), cfg)
	if err == nil {
		t.Fatal("want failure")
	}
	changes, perr := Exec{}.Plan(t.Context(), nil, cfg)
	if perr != nil {
		t.Fatal(perr)
	}
	for _, s := range []string{rec.all(), err.Error(), changes[0].String()} {
		if strings.Contains(s, secret) || strings.Contains(s, keyID) {
			t.Errorf("secret leaked: %q", s)
		}
	}
	if !strings.Contains(rec.all(), "r=us-west-2") || !strings.Contains(rec.all(), "pw=(sensitive)") {
		t.Errorf("logs = %q", rec.all())
	}
	if !strings.Contains(changes[0].Detail, "REGION=us-west-2") || !strings.Contains(changes[0].Detail, "DB_PASSWORD=(sensitive)") {
		t.Errorf("plan detail = %q", changes[0].Detail)
	}

	out, err := Exec{}.Apply(t.Context(), nil, execCfg([]string{"sh", "-c", `echo "$API_TOKEN"`}, map[string]string{"API_TOKEN": secret}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.GetAttr("stdout").AsString(); got != "(sensitive)\n" {
		t.Errorf("stdout output = %q", got)
	}
}

func TestExecPlanDoesNotRun(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	cfg := execCfg([]string{"touch", marker}, nil, "/tmp")
	changes, err := Exec{}.Plan(t.Context(), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "exec touch " + marker + " in /tmp"; changes[0].String() != want {
		t.Errorf("plan = %q, want %q", changes[0].String(), want)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plan ran the command: %v", err)
	}

	unknown := cty.ObjectVal(map[string]cty.Value{
		"command": cty.ListVal([]cty.Value{cty.StringVal("echo"), cty.UnknownVal(cty.String)}),
		"env":     cty.NullVal(cty.Map(cty.String)),
		"dir":     cty.NullVal(cty.String),
	})
	changes, err = Exec{}.Plan(t.Context(), nil, unknown)
	if err != nil || changes[0].Target != "echo (known after apply)" {
		t.Errorf("plan with unknown argument = %v, %v", changes, err)
	}
}

func TestExecCancelStopsCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var rec logRecorder
	sc := rec.ctx()
	started := make(chan struct{})
	log := sc.Log
	sc.Log = func(l string) {
		log(l)
		if strings.Contains(l, "ready") {
			close(started)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := Exec{}.Apply(ctx, sc, execCfg([]string{"sh", "-c", "echo ready; exec sleep 600"}, nil, ""))
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("command did not start")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled command kept running")
	}
}

func TestExecOutputBounded(t *testing.T) {
	var rec logRecorder
	// 200,000 lines of 8 bytes: far beyond both the tail and the log bound.
	out, err := Exec{}.Apply(t.Context(), rec.ctx(), execCfg([]string{"sh", "-c", `i=0; while [ $i -lt 200000 ]; do echo line$i; i=$((i+1)); done | tail -c 2000000`}, nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	stdout := out.GetAttr("stdout").AsString()
	if len(stdout) > tailBytes || !strings.HasSuffix(stdout, "line199999\n") {
		t.Errorf("stdout tail: %d bytes, suffix %q", len(stdout), stdout[max(0, len(stdout)-20):])
	}
	rec.mu.Lock()
	n := len(rec.lines)
	rec.mu.Unlock()
	if n != maxLogLines {
		t.Errorf("logged %d lines, want %d", n, maxLogLines)
	}
}

func TestStreamSplitsLongLines(t *testing.T) {
	var got []string
	var mu sync.Mutex
	s := newStream("stdout", newMasker(nil), func(l string) { got = append(got, l) }, &mu)
	_, _ = s.Write([]byte(strings.Repeat("x", maxLineBytes+10)))
	_, _ = s.Write([]byte("\npartial"))
	s.flush()
	if len(got) != 3 || !strings.HasSuffix(got[0], "…") || got[1] != "stdout: xxxxxxxxxx" || got[2] != "stdout: partial" {
		t.Errorf("lines = %.80q", got)
	}
}

// A line longer than the cut is masked before it is cut: a secret across
// the cut is masked whole, whether the line comes in one write or in many.
func TestExecSecretAcrossLineCutIsMasked(t *testing.T) {
	const secret = "s3cr3t-value-42"
	leaked := func(s string) bool {
		return strings.Contains(s, secret[:5]) || strings.Contains(s, secret[len(secret)-5:])
	}
	env := map[string]string{"DB_PASSWORD": secret}
	// The secret starts 5 bytes before the cut.
	script := `head -c ` + strconv.Itoa(maxLineBytes-5) + ` /dev/zero | tr '\0' x; echo "$DB_PASSWORD tail"`
	var rec logRecorder
	out, err := Exec{}.Apply(t.Context(), rec.ctx(), execCfg([]string{"sh", "-c", script}, env, ""))
	if err != nil {
		t.Fatal(err)
	}
	if logs := rec.all(); leaked(logs) || !strings.Contains(logs, "xxxxx(sens") {
		t.Errorf("logs end %q", logs[max(0, len(logs)-40):])
	}
	if stdout := out.GetAttr("stdout").AsString(); leaked(stdout) || !strings.HasSuffix(stdout, "x(sensitive) tail\n") {
		t.Errorf("stdout ends %q", stdout[max(0, len(stdout)-40):])
	}

	text := strings.Repeat("x", maxLineBytes-5) + secret + "yyy\n" +
		strings.Repeat("z", 2*maxLineBytes-3) + secret + "\n" + "end"
	for _, size := range []int{1, 3, 7, 100, maxLineBytes - 6, maxLineBytes - 5, maxLineBytes, maxLineBytes + 2, len(text)} {
		var got []string
		var mu sync.Mutex
		s := newStream("stdout", newMasker([]string{secret, "pw"}), func(l string) { got = append(got, l) }, &mu)
		for rest := text; rest != ""; {
			n := min(size, len(rest))
			_, _ = s.Write([]byte(rest[:n]))
			rest = rest[n:]
		}
		s.flush()
		for _, l := range got {
			if leaked(l) {
				t.Errorf("writes of %d: a piece of the secret in %.30q…%q", size, l, l[max(0, len(l)-30):])
			}
		}
		if len(got) < 3 || got[len(got)-1] != "stdout: end" || !strings.HasPrefix(got[0], "stdout: xxx") {
			t.Errorf("writes of %d: lines %.40q", size, got)
		}
		if tail := s.tail(); leaked(tail) || strings.Count(tail, "(sensitive)") != 2 {
			t.Errorf("writes of %d: tail ends %q", size, tail[max(0, len(tail)-40):])
		}
	}
}

func TestMaskerCut(t *testing.T) {
	m := newMasker([]string{"abcdef", "cd"})
	for _, c := range []struct {
		in       string
		at, want int
	}{
		{"xxabcdefyy", 5, 2}, // abcdef crosses 5: end before it
		{"abcdefyy", 3, 6},   // it starts the piece: end after it
		{"xxcdxx", 3, 2},     // cd crosses 3
		{"xxcdxx", 4, 4},     // cd ends at 4
		{"cdcdcd", 3, 2},     // matches are taken left to right
		{"xabcdxx", 4, 3},    // abcd is no secret, its cd crosses 4
		{"plain text", 5, 5},
		{"abcdef", 0, 0},
	} {
		if got := m.cut([]byte(c.in), c.at); got != c.want {
			t.Errorf("cut(%q, %d) = %d, want %d", c.in, c.at, got, c.want)
		}
	}
	if got := newMasker(nil).cut([]byte("abc"), 2); got != 2 {
		t.Errorf("cut without secrets = %d", got)
	}
}
