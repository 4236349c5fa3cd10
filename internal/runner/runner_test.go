package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/steps"
)

// failing fails its only step until the file "ok" exists beside it, so a
// run of it stays resumable; its sensitive token is echoed by the step,
// shows in the step's error and in the failure message.
const failing = `
variable "token" {
  type      = string
  sensitive = true
}

variable "label" {
  type    = string
  default = "nightly"
}

step "exec" "check" {
  command = ["sh", "-c", "echo \"using $1\"; test -e \"$0/ok\" || { echo \"no ok with $1\" >&2; exit 3; }", "DIR", var.token]
}
`

type fixture struct {
	t    *testing.T
	dir  string
	path string
	svc  *Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "failing.hcl")
	if err := os.WriteFile(path, []byte(strings.Replace(failing, "DIR", dir, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := journal.OpenStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	reg := steps.Registry(steps.Deps{})
	return &fixture{t: t, dir: dir, path: path, svc: &Service{Registry: reg, Store: store, Target: "sandbox", Operator: "tester", Host: "test"}}
}

func (f *fixture) load() *runbook.Runbook {
	f.t.Helper()
	rb, _, err := f.svc.Load(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	return rb
}

// run runs the fixture's runbook to its end and returns the run id.
func (f *fixture) run(req Request) (string, *runbook.Result) {
	f.t.Helper()
	req.Runbook = f.load()
	p, err := f.svc.Prepare(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := p.Execute(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return p.ID, res
}

func TestResumeRefusals(t *testing.T) {
	f := newFixture(t)
	failed, res := f.run(Request{Vars: Vars{Flags: []string{"token=hunter22"}}})
	if res.Status != runbook.StatusFailed {
		t.Fatalf("first run: %s", res.Status)
	}
	plan, res := f.run(Request{Vars: Vars{Flags: []string{"token=hunter22"}}, DryRun: true})
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("plan: %s %v", res.Status, res.Err)
	}
	for _, tc := range []struct {
		name string
		req  ResumeRequest
		want string
	}{
		{"a plan", ResumeRequest{RunID: plan}, "run " + plan + " was a dry run; there is nothing to resume"},
		{"with --dry-run", ResumeRequest{RunID: failed, DryRun: true, Vars: Vars{Flags: []string{"token=x"}}}, "--resume and --dry-run do not go together"},
		{"sensitive not given", ResumeRequest{RunID: failed}, "sensitive variable token not recorded: give it again"},
		{"unknown run", ResumeRequest{RunID: "20260101T000000Z-abcdef"}, "20260101T000000Z-abcdef"},
		{"not a run id", ResumeRequest{RunID: "../etc"}, "invalid run id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.PrepareResume(context.Background(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("resume: %v, want %q", err, tc.want)
			}
		})
	}

	// A resume that passes every rule continues the same journal and
	// keeps the recorded variables.
	if err := os.WriteFile(filepath.Join(f.dir, "ok"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.PrepareResume(context.Background(), ResumeRequest{RunID: failed, Vars: Vars{Flags: []string{"token=hunter22"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != failed {
		t.Fatalf("resumed as %s, want %s", p.ID, failed)
	}
	if res, err := p.Execute(context.Background()); err != nil || res.Status != runbook.StatusSucceeded {
		t.Fatalf("resume: %v %v", res, err)
	}
	if _, err := f.svc.PrepareResume(context.Background(), ResumeRequest{RunID: failed, Vars: Vars{Flags: []string{"token=hunter22"}}}); err == nil ||
		!strings.Contains(err.Error(), "already succeeded; there is nothing to resume") {
		t.Fatalf("resume of a succeeded run: %v", err)
	}
	b, err := os.ReadFile(f.svc.Store.Path(failed))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter22") {
		t.Fatalf("the journal holds the sensitive value:\n%s", b)
	}
}

func TestResumeRefusesAChangedRunbook(t *testing.T) {
	f := newFixture(t)
	id, _ := f.run(Request{Vars: Vars{Flags: []string{"token=hunter22"}}})
	src, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.path, append(src, "\n# edited\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PrepareResume(context.Background(), ResumeRequest{RunID: id, Vars: Vars{Flags: []string{"token=hunter22"}}})
	if err == nil || !strings.Contains(err.Error(), "has changed since run "+id+" started") {
		t.Fatalf("resume of a changed runbook: %v", err)
	}
	if _, err := f.svc.CheckResume(id, ""); err == nil || !strings.Contains(err.Error(), "has changed since run "+id+" started") {
		t.Fatalf("check of a changed runbook: %v", err)
	}
	r, err := f.svc.Store.Read(id)
	if err != nil || r.Resumes != 0 {
		t.Fatalf("a refused resume touched the journal: %+v %v", r, err)
	}
}

func TestDrillRefusals(t *testing.T) {
	f := newFixture(t)
	rb := f.load()
	_, err := f.svc.PrepareDrill(context.Background(), DrillRequest{Request: Request{Runbook: rb}})
	var de *runbook.DiagError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "cannot run as a drill") || !strings.Contains(err.Error(), "step.exec.check") ||
		!strings.Contains(err.Error(), "a command can act on production") {
		t.Fatalf("drill of a runbook with an exec step: %v", err)
	}

	safe := filepath.Join(f.dir, "safe.hcl")
	if err := os.WriteFile(safe, []byte(`
step "wait" "pause" {
  duration   = "1s"
  drill_safe = true
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, _, err = f.svc.Load(safe)
	if err != nil {
		t.Fatal(err)
	}
	fault, err := drill.ParseFault("throttle:0.1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PrepareDrill(context.Background(), DrillRequest{Request: Request{Runbook: rb}, Faults: []drill.Fault{fault}})
	if err == nil || !strings.Contains(err.Error(), "faults can only be injected into the sandbox") {
		t.Fatalf("faults with no sandbox to steer: %v", err)
	}
	if runs, _ := f.svc.History(); len(runs) != 0 {
		t.Fatalf("refused drills left runs: %v", runs)
	}

	d, err := f.svc.PrepareDrill(context.Background(), DrillRequest{Request: Request{Runbook: rb, AutoApprove: true}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Execute(context.Background())
	if err != nil || out.Result.Status != runbook.StatusSucceeded || out.Report == nil {
		t.Fatalf("drill: %+v %v", out, err)
	}
	if _, err := drill.ReadReport(f.svc.Store.RunDir(d.ID)); err != nil {
		t.Fatalf("the drill wrote no report: %v", err)
	}
	_, err = f.svc.PrepareResume(context.Background(), ResumeRequest{RunID: d.ID})
	if err == nil || !strings.Contains(err.Error(), "drills are not resumed") {
		t.Fatalf("resume of a drill: %v", err)
	}
	if _, err := f.svc.Teardown(context.Background(), "20260101T000000Z-abcdef", nil); !errors.As(err, new(*Refusal)) {
		t.Fatalf("teardown of an unknown run: %v, want a refusal", err)
	}
	td, err := f.svc.Teardown(context.Background(), d.ID, nil)
	if err != nil || td.Report == nil {
		t.Fatalf("teardown again: %+v %v", td, err)
	}
}

func TestPreflightComesBeforeAnyJournal(t *testing.T) {
	f := newFixture(t)
	f.svc.Registry = steps.Registry(steps.Deps{})
	path := filepath.Join(f.dir, "aws.hcl")
	if err := os.WriteFile(path, []byte(`
step "asg_scale" "dr" {
  region  = "us-west-2"
  group   = "serving"
  desired = 1
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, _, err := f.svc.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dead := errors.New("no sandbox is listening")
	f.svc.Preflight = func(context.Context) error { return dead }
	if _, err := f.svc.Prepare(context.Background(), Request{Runbook: rb}); !errors.Is(err, dead) {
		t.Fatalf("prepare with a dead sandbox: %v", err)
	}
	if _, err := f.svc.Prepare(context.Background(), Request{Runbook: rb, NoJournal: true}); err == nil {
		t.Fatal("an unjournalled run that is not a dry run was accepted")
	}
	// A runbook with no AWS step does not ask.
	if _, err := f.svc.Prepare(context.Background(), Request{Runbook: f.load(), Vars: Vars{Flags: []string{"token=x"}}}); err != nil {
		t.Fatalf("prepare without AWS steps: %v", err)
	}
	if runs, _ := f.svc.History(); len(runs) != 0 {
		t.Fatalf("prepared runs that never executed left journals: %v", runs)
	}
}

// A drill with faults is refused before anything is journalled when the
// sandbox will not take them (its admin token is wrong); one whose
// sandbox goes away between the checks and the start fails without
// leaving an empty run behind.
func TestDrillFaultsSandboxRefusesOrVanishes(t *testing.T) {
	f := newFixture(t)
	safe := filepath.Join(f.dir, "safe.hcl")
	if err := os.WriteFile(safe, []byte("step \"wait\" \"pause\" {\n  duration   = \"10ms\"\n  drill_safe = true\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, _, err := f.svc.Load(safe)
	if err != nil {
		t.Fatal(err)
	}
	fault, err := drill.ParseFault("latency:1ms")
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sandboxtest.Start(t, sandbox.Options{Empty: true})
	req := DrillRequest{Request: Request{Runbook: rb, AutoApprove: true}, Faults: []drill.Fault{fault}}

	f.svc.Injector = drill.AdminInjector{URL: srv.URL(), Token: "not-the-sandbox-token-0"}
	_, err = f.svc.PrepareDrill(context.Background(), req)
	if !errors.As(err, new(*Refusal)) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("drill with the wrong token: %v, want a refusal", err)
	}

	f.svc.Injector = drill.AdminInjector{URL: srv.URL(), Token: srv.AdminToken()}
	d, err := f.svc.PrepareDrill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := d.Execute(context.Background()); err == nil || out != nil {
		t.Fatalf("drill on a stopped sandbox: %+v %v", out, err)
	}
	if entries, _ := os.ReadDir(f.svc.Store.Dir); len(entries) != 0 {
		t.Fatalf("the drill that could not start left %v", entries)
	}
}
