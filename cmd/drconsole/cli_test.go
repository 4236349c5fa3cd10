package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
)

const smoke = "../../runbooks/smoke.hcl"

// cli runs a command in-process and returns its exit code and output.
func cli(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeRunbook(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rb.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func healthServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv.URL + "/healthz"
}

func TestUsageAndVersion(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{[]string{"version"}, exitOK, "drconsole dev"},
		{[]string{"help"}, exitOK, "run --resume RUN_ID"},
		{[]string{"launch"}, exitUsage, `unknown command "launch"`},
		{[]string{"run", smoke, "--output", "yaml"}, exitUsage, `invalid output format "yaml": use one of text, json, junit`},
		{[]string{"plan", smoke, "--parallelism", "0"}, exitUsage, "want a whole number of steps at least 1"},
		{[]string{"run", smoke, "--nope"}, exitUsage, "flag provided but not defined: -nope"},
		{[]string{"run"}, exitUsage, "want one runbook file or directory, or --resume RUN_ID"},
		{[]string{"validate", smoke, smoke}, exitUsage, "want one runbook"},
		{[]string{"run", "-h"}, exitOK, "-auto-approve"},
		{[]string{"run", "--resume", "../../etc", "--state-dir", t.TempDir()}, exitUsage, "invalid run id"},
		{[]string{"run", "--resume", "20261122T164500Z-3f9a1c", "--state-dir", t.TempDir()}, exitUsage, "no such run"},
		{[]string{"plan", smoke, "--var", "nope=1"}, exitUsage, `declares no variable "nope"`},
		{[]string{"plan", smoke, "--var", "health_url=ftp://x"}, exitUsage, "health_url must be empty or an http"},
		{[]string{"runs", "--state-dir", t.TempDir()}, exitOK, "No runs in"},
		{[]string{"validate", "no-such-runbook.hcl"}, exitUsage, "Cannot read runbook"},
		{[]string{"plan", smoke, "--target", "moon"}, exitUsage, `unknown target "moon": want sandbox or aws`},
		{[]string{"run", smoke, "--target", "sandbox", "--profile", "prod"}, exitUsage, "AWS target:"},
		// A bad --cloudwatch-protocol fails as the flags are read, before
		// any client is built or any call made.
		{[]string{"plan", smoke, "--cloudwatch-protocol", "json"}, exitUsage, `unknown CloudWatch protocol "json": want cbor or query`},
		{[]string{"run", smoke, "--cloudwatch-protocol", "xml"}, exitUsage, `unknown CloudWatch protocol "xml"`},
		{[]string{"drill", smoke, "--cloudwatch-protocol", "cbor2"}, exitUsage, `unknown CloudWatch protocol "cbor2"`},
		{[]string{"--cloudwatch-protocol", "soap"}, exitUsage, `unknown CloudWatch protocol "soap"`},
		{[]string{"plan", "-h"}, exitOK, "-cloudwatch-protocol protocol"},
	} {
		code, stdout, stderr := cli(t, ctx, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("drconsole %s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", strings.Join(tt.args, " "), code, tt.code, stdout, stderr, tt.out)
		}
	}
}

func TestValidate(t *testing.T) {
	code, stdout, stderr := cli(t, t.Context(), "validate", smoke)
	if code != exitOK || !strings.Contains(stdout, "is valid: 4 steps, 1 gate.") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}

	bad := writeRunbook(t, `step "wait" "a" {
  duration = "1s"
  bogus    = 1
}

step "wait" "b" {
  duration = "soon"
}
`)
	code, _, stderr = cli(t, t.Context(), "validate", bad)
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		bad + ":3:3: error: Unsupported argument",
		"   3:   bogus    = 1",
		bad + ":7:14: error: Invalid duration",
		"not a valid runbook (2 errors)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
}

// Validation is where CI lints, with none of the values only an incident
// knows: every shipped runbook validates with no variables given, while a
// runbook's own errors and the values that are given are still refused at
// file:line:column.
func TestValidateNeedsNoValues(t *testing.T) {
	shipped, err := filepath.Glob("../../runbooks/*.hcl")
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no shipped runbooks: %v", err)
	}
	for _, path := range shipped {
		code, stdout, stderr := cli(t, t.Context(), "validate", path)
		if code != exitOK || !strings.Contains(stdout, path+" is valid: ") || stderr != "" {
			t.Errorf("validate %s: exit %d\nstdout: %s\nstderr: %s", path, code, stdout, stderr)
		}
	}

	// A required variable without a value does not hide the runbook's
	// errors, nor become one.
	bad := writeRunbook(t, `variable "restore_to" {
  type = string
}
step "wait" "a" {
  duration = var.restore_to
  bogus    = 1
}
`)
	code, _, stderr := cli(t, t.Context(), "validate", bad)
	if code != exitUsage || !strings.Contains(stderr, bad+":6:3: error: Unsupported argument") ||
		strings.Contains(stderr, "Missing required variable") {
		t.Errorf("validate of a broken runbook: exit %d\n%s", code, stderr)
	}

	// Given values are checked: their type, their validation blocks, and
	// what the steps that use them make of them.
	failover := "../../runbooks/gameday-failover.hcl"
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--var", "restore_to=yesterday"}, []string{
			failover + ":54:21: error: Invalid value for variable", "restore_to must be an RFC 3339 time",
			"variables of " + failover + " are not valid (1 error)"}},
		{[]string{"--var", "dr_capacity=several"}, []string{`--var dr_capacity: "several" is not a valid number value`}},
		{[]string{"--var", "dr_capacity=-1"}, []string{
			failover + ":153:19: error: Invalid desired", "desired must be between 0 and 1048576, got -1.",
			failover + " is not valid with these variables (1 error)"}},
	} {
		code, stdout, stderr := cli(t, t.Context(), append([]string{"validate", failover}, tt.args...)...)
		if code != exitUsage || stdout != "" {
			t.Errorf("validate %v: exit %d, want 2\nstdout: %s", tt.args, code, stdout)
		}
		for _, want := range tt.want {
			if !strings.Contains(stderr, want) {
				t.Errorf("validate %v: stderr lacks %q:\n%s", tt.args, want, stderr)
			}
		}
	}

	// plan and run still need every value.
	code, _, stderr = cli(t, t.Context(), "plan", failover, "--target", "sandbox", "--endpoint", "http://127.0.0.1:1")
	if code != exitUsage || !strings.Contains(stderr, `Variable "restore_to" has no default`) {
		t.Errorf("plan without restore_to: exit %d\n%s", code, stderr)
	}
}

func TestPlanRunsNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	rb := writeRunbook(t, `step "exec" "touch" {
  command = ["touch", "`+marker+`"]
}
step "exec" "after" {
  command = ["echo", step.exec.touch.stdout]
}
gate "g" {
  prompt = "exit was ${step.exec.touch.exit_code}"
}
`)
	code, stdout, stderr := cli(t, t.Context(), "plan", rb)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"1. step.exec.touch", "+ exec touch " + marker, "2. step.exec.after  (after step.exec.touch)", "+ exec echo (known after apply)", "gate.g", "Plan: 2 steps, 1 gate, 2 changes."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("plan ran an exec command")
	}

	state := t.TempDir()
	code, _, _ = cli(t, t.Context(), "run", rb, "--dry-run", "--state-dir", state)
	if _, err := os.Stat(marker); code != exitOK || err == nil {
		t.Errorf("run --dry-run: exit %d, command ran: %v", code, err == nil)
	}
	runs, _ := (&journal.Store{Dir: state}).List()
	if len(runs) != 1 || !runs[0].DryRun {
		t.Errorf("dry-run journal: %+v", runs)
	}
	code, _, stderr = cli(t, t.Context(), "run", "--resume", runs[0].ID, "--state-dir", state)
	if code != exitUsage || !strings.Contains(stderr, "was a dry run") {
		t.Errorf("resume of a dry run: exit %d, %s", code, stderr)
	}
}

func TestExitCodes(t *testing.T) {
	state := t.TempDir()
	failing := writeRunbook(t, `step "exec" "boom" {
  command = ["sh", "-c", "echo broken >&2; exit 4"]
}
`)
	slow := writeRunbook(t, `step "wait" "long" {
  duration = "1h"
}
`)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		args []string
		code int
		out  string
	}{
		{"success", t.Context(), []string{"run", smoke, "--auto-approve", "--var", "health_url=" + healthServer(t)}, exitOK, "run succeeded"},
		{"step failed", t.Context(), []string{"run", failing}, exitFailed, "step.exec.boom: exec sh: exit status 4: broken"},
		{"gate refused", t.Context(), []string{"run", smoke}, exitRefused, "no terminal to ask on"},
		{"invalid runbook", t.Context(), []string{"run", writeRunbook(t, `step "nope" "x" {}`)}, exitUsage, "Unknown step type"},
		{"cancelled", cancelled, []string{"run", slow}, exitCancelled, "run cancelled"},
	} {
		code, stdout, stderr := cli(t, tt.ctx, append(tt.args, "--state-dir", state)...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("%s: exit %d (want %d), want %q\nstdout: %s\nstderr: %s", tt.name, code, tt.code, tt.out, stdout, stderr)
		}
	}
}

func TestOutputFormats(t *testing.T) {
	url := healthServer(t)
	args := []string{"run", smoke, "--auto-approve", "--var", "health_url=" + url, "--state-dir", t.TempDir()}

	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := cli(t, t.Context(), args...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{"▶ start", "✓ done     step.wait.settle", "step.exec.greet │ stdout: hello from drconsole", "✓ approve  gate.proceed approved by auto-approve", "✓ SUCCEEDED run succeeded", "output health_status = 200"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := cli(t, t.Context(), append(args, "--output", "json")...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		var kinds []string
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var e runbook.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if e.RunID == "" {
				t.Errorf("event without run id: %s", line)
			}
			kinds = append(kinds, string(e.Kind))
		}
		if kinds[0] != "run_started" || kinds[len(kinds)-1] != "run_finished" {
			t.Errorf("kinds = %v", kinds)
		}
	})

	t.Run("junit", func(t *testing.T) {
		failing := writeRunbook(t, `step "exec" "ok" {
  command = ["echo", "fine"]
}
step "exec" "boom" {
  command    = ["false"]
  on_failure = "continue"
}
step "exec" "skipped" {
  when    = false
  command = ["true"]
}
step "exec" "blocked" {
  command = ["echo", step.exec.boom.stdout]
}
`)
		code, stdout, stderr := cli(t, t.Context(), "run", failing, "--output", "junit", "--state-dir", t.TempDir())
		if code != exitFailed {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Time    string `xml:"time,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
					Skipped *struct {
						Message string `xml:"message,attr"`
					} `xml:"skipped"`
					Out string `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("junit does not parse: %v\n%s", err, stdout)
		}
		if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 2 || len(doc.Suites) != 1 || doc.Suites[0].Name != failing {
			t.Fatalf("counts: %+v\n%s", doc, stdout)
		}
		byName := map[string]int{}
		for i, c := range doc.Suites[0].Cases {
			byName[c.Name] = i
		}
		cases := doc.Suites[0].Cases
		if c := cases[byName["step.exec.ok"]]; c.Failure != nil || c.Skipped != nil || !strings.Contains(c.Out, "stdout: fine") {
			t.Errorf("ok case: %+v", c)
		}
		if c := cases[byName["step.exec.boom"]]; c.Failure == nil || !strings.Contains(c.Failure.Message, "exit status 1") {
			t.Errorf("boom case: %+v", c)
		}
		if c := cases[byName["step.exec.skipped"]]; c.Skipped == nil || c.Skipped.Message != "when is false" {
			t.Errorf("skipped case: %+v", c)
		}
		if c := cases[byName["step.exec.blocked"]]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, "step.exec.boom") {
			t.Errorf("blocked case: %+v", c)
		}
	})
}

func TestJournalHasNoSecrets(t *testing.T) {
	const secret = "hunter2-very-secret-value"
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	rb := writeRunbook(t, `variable "db_password" {
  type      = string
  sensitive = true
}
step "exec" "use" {
  command = ["sh", "-c", "echo pw=$DB_PASSWORD key=$AWS_SECRET_ACCESS_KEY tok=$API_TOKEN"]
  env = {
    DB_PASSWORD = var.db_password
    API_TOKEN   = "tok-1234567890"
  }
}
`)
	state := t.TempDir()
	code, stdout, stderr := cli(t, t.Context(), "run", rb, "--var", "db_password="+secret, "--state-dir", state, "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	runs, _ := (&journal.Store{Dir: state}).List()
	b, err := os.ReadFile((&journal.Store{Dir: state}).Path(runs[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secret, "EXAMPLEKEY", "tok-1234567890"} {
		if strings.Contains(string(b), leak) || strings.Contains(stdout, leak) {
			t.Errorf("%q leaked:\njournal: %s\nstdout: %s", leak, b, stdout)
		}
	}
}

func TestResumeAfterFailure(t *testing.T) {
	work, state := t.TempDir(), t.TempDir()
	src := `variable "dir" {
  type = string
}
variable "unused" {
  type    = string
  default = null
}
step "exec" "a" {
  command = ["sh", "-c", "echo a >> \"$0/log\"", var.dir]
}
step "exec" "b" {
  command    = ["test", "-e", "${var.dir}/ok"]
  depends_on = [step.exec.a]
}
`
	rb := writeRunbook(t, src)
	code, stdout, stderr := cli(t, t.Context(), "run", rb, "--var", "dir="+work, "--state-dir", state)
	if code != exitFailed || !strings.Contains(stderr, "resume with: drconsole run --resume ") {
		t.Fatalf("first run: exit %d\n%s%s", code, stdout, stderr)
	}
	runs, _ := (&journal.Store{Dir: state}).List()
	id := runs[0].ID

	// A runbook that lost a variable is refused as changed, not for the
	// recorded value it no longer declares.
	if err := os.WriteFile(rb, []byte(strings.Replace(src, "variable \"unused\" {\n  type    = string\n  default = null\n}\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli(t, t.Context(), "run", "--resume", id, "--state-dir", state)
	if code != exitUsage || !strings.Contains(stderr, "has changed since run "+id) {
		t.Fatalf("resume of a changed runbook: exit %d\n%s", code, stderr)
	}
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(filepath.Join(work, "ok"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The variables recorded by the first run are used again.
	code, stdout, stderr = cli(t, t.Context(), "run", "--resume", id, "--state-dir", state)
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "step.exec.a (finished in run "+id+")") || !strings.Contains(stdout, "resuming "+id) {
		t.Errorf("resume output:\n%s", stdout)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "log")); string(b) != "a\n" {
		t.Errorf("log = %q: step a ran again", b)
	}
}

// writeJournal records events as run id in the state directory.
func writeJournal(t *testing.T, state, id string, events ...runbook.Event) {
	t.Helper()
	store, err := journal.OpenStore(state)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.Create(id, journal.NewRedactor(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		e.RunID = id
		if err := w.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDrillInRunListingAndNotResumed: a drill's journal is listed as a
// drill, and run --resume sends the operator to its teardown instead of
// resuming it or suggesting a resume.
func TestDrillInRunListingAndNotResumed(t *testing.T) {
	state := t.TempDir()
	const id = "20261122T164500Z-3f9a1c"
	writeJournal(t, state, id,
		runbook.Event{Kind: runbook.RunStarted, Run: &runbook.RunInfo{RunbookPath: smoke, Target: "sandbox", Drill: &runbook.DrillInfo{}}},
		runbook.Event{Kind: runbook.StepFailed, Node: "step.wait.settle", Error: "boom"},
		runbook.Event{Kind: runbook.RunFinished, Status: runbook.StatusFailed, Error: "step.wait.settle failed"})

	code, stdout, stderr := cli(t, t.Context(), "runs", "--state-dir", state)
	if code != exitOK || !strings.Contains(stdout, id+"  failed (drill)") {
		t.Errorf("runs: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, t.Context(), "run", "--resume", id, "--state-dir", state)
	if code != exitUsage || !strings.Contains(stderr, "drconsole drill --teardown "+id) || strings.Contains(stderr, "resume with") {
		t.Errorf("resume of a drill: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestNoSandboxListening: a runbook with AWS steps against a sandbox that
// is not running fails at once with exit 2, naming the endpoint and how to
// start one, instead of retrying refused connections for minutes. The
// deadline is far below the SDK's retrying, so a slow failure shows as a
// cancelled run.
func TestNoSandboxListening(t *testing.T) {
	endpoint := "http://" + freeAddr(t)
	// A drill that was interrupted after it redirected a step: its
	// teardown acts on the sandbox.
	state, drilled := t.TempDir(), "20261122T164500Z-3f9a1c"
	writeJournal(t, state, drilled,
		runbook.Event{Kind: runbook.RunStarted, Run: &runbook.RunInfo{RunbookPath: gamedayPath(t), Target: "sandbox", Drill: &runbook.DrillInfo{}}},
		runbook.Event{Kind: runbook.StepDrilled, Node: "step.s3_restore.models"})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, args := range [][]string{
		{"plan", "../../runbooks/model-serving-failover.hcl", "--var", "restore_to=2026-11-22T10:00:00Z"},
		{"run", "../../runbooks/model-serving-failover.hcl", "--var", "restore_to=2026-11-22T10:00:00Z", "--state-dir", t.TempDir()},
		{"drill", gamedayPath(t), "--var", "restore_to=2026-11-22T10:00:00Z", "--state-dir", t.TempDir()},
		{"drill", "--teardown", drilled, "--state-dir", state},
	} {
		args = append(args, "--target", "sandbox", "--endpoint", endpoint)
		code, stdout, stderr := cli(t, ctx, args...)
		if code != exitUsage || !strings.Contains(stderr, "no sandbox is listening at "+endpoint) || !strings.Contains(stderr, "drconsole sandbox") {
			t.Errorf("drconsole %s: exit %d (want %d)\n%s%s", args[0], code, exitUsage, stdout, stderr)
		}
	}
	// Runbooks without AWS steps need no sandbox.
	code, stdout, stderr := cli(t, ctx, "plan", smoke, "--target", "sandbox", "--endpoint", endpoint)
	if code != exitOK {
		t.Errorf("plan of a runbook without AWS steps: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A long wait in a headless run prints a heartbeat every 30 quiet seconds
// in text, on the clock the test moves; json, the event stream, and the
// journal never carry it.
func TestRunHeartbeat(t *testing.T) {
	rb := writeRunbook(t, `step "wait" "settle" {
  duration = "100s"
}
`)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			state := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				code, stdout, stderr := cli(t, t.Context(), "run", rb, "--output", format, "--state-dir", state)
				if code != exitOK {
					t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
				}
				var beats []string
				for _, l := range strings.Split(stdout, "\n") {
					if _, rest, ok := strings.Cut(l, " … running  "); ok {
						beats = append(beats, rest)
					}
				}
				want := []string{"step.wait.settle for 30s", "step.wait.settle for 1m0s", "step.wait.settle for 1m30s"}
				if format == "json" {
					want = nil
				}
				if strings.Join(beats, "\n") != strings.Join(want, "\n") {
					t.Errorf("heartbeats %q, want %q\n%s", beats, want, stdout)
				}
			})
			journals, err := filepath.Glob(filepath.Join(state, "*", "journal.jsonl"))
			if err != nil || len(journals) != 1 {
				t.Fatalf("journals %v: %v", journals, err)
			}
			j, err := os.ReadFile(journals[0])
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(j), "for 30s") || strings.Contains(string(j), "…") {
				t.Errorf("the journal holds a heartbeat:\n%s", j)
			}
		})
	}
}
