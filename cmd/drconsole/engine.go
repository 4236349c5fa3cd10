package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/drconsole/drconsole/internal/approve"
	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/hashicorp/hcl/v2"
)

// sandboxEndpoint is where `drconsole sandbox` listens by default.
const sandboxEndpoint = "http://127.0.0.1:5480"

// registries returns the step types for a run and for a dry-run (whose AWS
// clients refuse every write), and the target's name for reports. A target
// that cannot be configured only matters to runbooks with AWS steps, so it
// becomes those steps' error rather than the command's.
func registries(o *options) (live, dry runbook.Registry, target string, err error) {
	t, err := awsx.ResolveTarget(o.target, o.profile, os.Getenv)
	var clients *awsx.Clients
	if err == nil {
		clients, err = awsx.New(awsx.Options{
			Target: t, Profile: o.profile, Region: o.region, Endpoint: o.endpoint,
			SandboxEndpoint: sandboxEndpoint, Version: version,
			CloudWatchProtocol: o.cloudwatchProtocol.p,
		})
	}
	if err != nil {
		if o.target != "" || o.profile != "" || o.region != "" || o.endpoint != "" || o.cloudwatchProtocol.set {
			// Target flags that were given and do not work are a usage error.
			return nil, nil, "", fmt.Errorf("AWS target: %w", err)
		}
		deps := steps.Deps{NoAWSError: fmt.Errorf("AWS target: %w", err)}
		reg := steps.Registry(deps)
		return reg, reg, "", nil
	}
	return steps.Registry(steps.Deps{AWS: clients}),
		steps.Registry(steps.Deps{AWS: clients.AsReadOnly()}),
		t.String(), nil
}

// sandboxURL is the sandbox a sandbox target talks to: --endpoint when
// given, else where `drconsole sandbox` listens by default.
func sandboxURL(o *options) string {
	if o.endpoint != "" {
		return o.endpoint
	}
	return sandboxEndpoint
}

// checkSandbox fails before the run starts when nothing listens at the
// sandbox's address, with how to start one: otherwise the run's first AWS
// step would fail on the refused connection. AWS itself is never probed.
func checkSandbox(ctx context.Context, ep string) error {
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return fmt.Errorf("sandbox endpoint %q: want a URL such as %s", ep, sandboxEndpoint)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("no sandbox is listening at %s (%v): start one with `drconsole sandbox` in another terminal, or pass --target aws", ep, err)
	}
	_ = conn.Close()
	return nil
}

// newService builds the run service for the target the flags choose; it
// journals in the state directory when journalled is set, warning on
// stderr when that directory is unsafe. On a sandbox
// target, runs that call AWS first check that the sandbox listens, and
// drills inject their faults through its admin API.
func newService(o *options, journalled bool, stderr io.Writer) (*runner.Service, error) {
	live, dry, target, err := registries(o)
	if err != nil {
		return nil, err
	}
	svc := &runner.Service{
		Registry: live, DryRegistry: dry, Target: target,
		Operator: operator(), Host: hostname(), Env: os.Environ(),
	}
	if target == awsx.TargetSandbox.String() {
		ep := sandboxURL(o)
		svc.Preflight = func(ctx context.Context) error { return checkSandbox(ctx, ep) }
		// `drconsole sandbox` printed its admin token; without it the
		// sandbox refuses the faults, and the drill says so before it starts.
		svc.Injector = drill.AdminInjector{URL: ep, Token: os.Getenv(sandbox.TokenEnv)}
		// The sandbox's estate needs no variables file; one seeded under
		// other names (sandbox --names FILE) is pointed at with
		// --var-file FILE, whose values win over these.
		svc.Defaults = sandbox.DefaultNames().Vars()
	}
	if journalled {
		if svc.Store, err = openStore(o, stderr); err != nil {
			return nil, err
		}
	}
	return svc, nil
}

// load builds the run service and decodes the runbook at path, writing
// diagnostics (warnings too) to stderr. ok is false when the command must
// exit with exitUsage.
func load(cmd, path string, o *options, journalled bool, stderr io.Writer) (*runner.Service, *runbook.Runbook, bool) {
	if err := readEstate(o, runbookDir(path)); err != nil {
		refused(cmd, err, o, stderr)
		return nil, nil, false
	}
	svc, err := newService(o, journalled, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole %s: %v\n", cmd, err)
		return nil, nil, false
	}
	return loadWith(svc, cmd, path, o, stderr)
}

// refused reports why the run service would not start what was asked:
// diagnostics with their source and a count, or the refusal's words. It
// returns the exit code.
func refused(cmd string, err error, o *options, stderr io.Writer) int {
	var de *runbook.DiagError
	if errors.As(err, &de) {
		writeDiags(stderr, de.NewDiagnosticWriter(stderr, useColor(stderr, o.noColor), termWidth(stderr)), de.Diags)
		fmt.Fprintf(stderr, "drconsole: %s (%s)\n", de.What, countErrors(de.Diags))
		return exitUsage
	}
	fmt.Fprintf(stderr, "drconsole %s: %v\n", cmd, err)
	return exitUsage
}

// vars are the variables the flags give.
func vars(o *options) runner.Vars { return runner.Vars{Flags: o.vars, Files: o.varFiles} }

// warn prints the variables' warnings of a prepared run.
func warn(p *runner.Prepared, o *options, stderr io.Writer) {
	writeDiags(stderr, p.Runbook.NewDiagnosticWriter(stderr, useColor(stderr, o.noColor), termWidth(stderr)), p.Warnings)
}

// oneRunbook parses a command's flags and wants exactly one runbook
// argument. code is the exit code when ok is false.
func oneRunbook(cmd string, fs *flag.FlagSet, args []string, stderr io.Writer) (path string, code int, ok bool) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", parseFailed(err), false
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "drconsole %s: want one runbook file or directory\n", cmd)
		fs.Usage()
		return "", exitUsage, false
	}
	return pos[0], exitOK, true
}

// writeDiags prints each diagnostic with a compiler-style
// "file:line:col: error: summary" line, which editors and CI annotate, then
// hcl's own rendering with the source line. Past
// runbook.MaxShownDiagnostics the rest are only counted: a file that is
// not a runbook would otherwise bury the first, telling ones.
func writeDiags(w io.Writer, dw hcl.DiagnosticWriter, diags hcl.Diagnostics) {
	for i, d := range diags {
		if i == runbook.MaxShownDiagnostics {
			rest := len(diags) - i
			fmt.Fprintf(w, "and %d more %s\n", rest, plural(rest, "diagnostic"))
			return
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject != nil {
			fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, sev, d.Summary)
		} else {
			fmt.Fprintf(w, "%s: %s\n", sev, d.Summary)
		}
		_ = dw.WriteDiagnostic(d)
	}
}

func countErrors(diags hcl.Diagnostics) string {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return fmt.Sprintf("%d %s", n, plural(n, "error"))
}

func cmdValidate(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags("validate", &o, withVars, stderr, "[flags] RUNBOOK")
	path, code, ok := oneRunbook("validate", fs, args, stderr)
	if !ok {
		return code
	}
	svc, rb, ok := load("validate", path, &o, false, stderr)
	if !ok {
		return exitUsage
	}
	// Validation needs no values: a variable without one is unknown, so
	// CI lints the runbooks an incident will give a restore time or a key.
	diags, err := svc.Validate(rb, vars(&o))
	if err != nil {
		return refused("validate", err, &o, stderr)
	}
	writeDiags(stderr, rb.NewDiagnosticWriter(stderr, useColor(stderr, o.noColor), termWidth(stderr)), diags)
	var steps, gates int
	for _, n := range rb.Nodes {
		if n.Kind == runbook.KindGate {
			gates++
		} else {
			steps++
		}
	}
	fmt.Fprintf(stdout, "%s is valid: %d %s, %d %s.\n", path, steps, plural(steps, "step"), gates, plural(gates, "gate"))
	return exitOK
}

func cmdPlan(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags("plan", &o, withVars|withOutput|withTarget, stderr, "[flags] RUNBOOK")
	path, code, ok := oneRunbook("plan", fs, args, stderr)
	if !ok {
		return code
	}
	svc, rb, ok := load("plan", path, &o, false, stderr)
	if !ok {
		return exitUsage
	}
	printer, junit := printerFor(&o, stdout, rb, output.NewPlan(stdout, planNodes(rb), useColor(stdout, o.noColor)))
	p, err := svc.Prepare(ctx, runner.Request{
		Runbook: rb, Vars: vars(&o), DryRun: true, NoJournal: true, Parallelism: int(o.parallelism), Sink: printer,
	})
	if err != nil {
		return refused("plan", err, &o, stderr)
	}
	warn(p, &o, stderr)
	res, err := p.Execute(ctx)
	if junit != nil {
		_ = junit.Close()
	}
	if res == nil {
		fmt.Fprintf(stderr, "drconsole plan: %v\n", err)
		return exitFailed
	}
	return finish(res, output.Format(o.output), stderr)
}

// printerFor is the printer of the output format the flags chose, with text
// for --output text. junit is set for --output junit, to be closed when the
// run ends.
func printerFor(o *options, stdout io.Writer, rb *runbook.Runbook, text runbook.Sink) (printer runbook.Sink, junit *output.JUnit) {
	switch output.Format(o.output) {
	case output.FormatJSON:
		return output.NewJSON(stdout), nil
	case output.FormatJUnit:
		junit = output.NewJUnit(stdout, rb.Path, addresses(rb))
		return junit, junit
	}
	return text, nil
}

// heartbeat starts text's heartbeat when the output is text: json is the
// event stream as the journal has it, and junit is written at the end.
// The returned func stops it.
func heartbeat(o *options, text *output.Text) (stop func()) {
	if output.Format(o.output) != output.FormatText {
		return func() {}
	}
	return text.Heartbeat(output.HeartbeatAfter)
}

// finish reports how a run ended and returns its exit code.
func finish(res *runbook.Result, format output.Format, stderr io.Writer) int {
	if res.Err != nil && format != output.FormatText {
		// Text output already said it; json and junit keep stdout parseable.
		fmt.Fprintf(stderr, "drconsole: %v\n", res.Err)
	}
	switch res.Status {
	case runbook.StatusSucceeded:
		return exitOK
	case runbook.StatusRefused:
		return exitRefused
	case runbook.StatusCancelled:
		return exitCancelled
	}
	return exitFailed
}

func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags("run", &o, withVars|withOutput|withState|withRun|withTarget, stderr, "[flags] RUNBOOK | --resume RUN_ID [RUNBOOK]")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) > 1 || (len(pos) == 0 && o.resume == "") {
		fmt.Fprintln(stderr, "drconsole run: want one runbook file or directory, or --resume RUN_ID")
		fs.Usage()
		return exitUsage
	}
	path := ""
	if len(pos) == 1 {
		// The journal records an absolute path, so a resume from another
		// directory finds the runbook.
		if path, err = filepath.Abs(pos[0]); err != nil {
			fmt.Fprintf(stderr, "drconsole run: %v\n", err)
			return exitUsage
		}
	}
	dir := ""
	if path != "" {
		dir = runbookDir(path)
	}
	if err := readEstate(&o, dir); err != nil {
		return refused("run", err, &o, stderr)
	}
	svc, err := newService(&o, true, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitUsage
	}
	// The printer needs the runbook, which a resume reads from the journal:
	// it is chosen once the run is prepared.
	var printer runbook.Sink
	sink := runbook.SinkFunc(func(e runbook.Event) error { return printer.Emit(e) })
	ap := approver(&o, stdin, stderr, svc.Operator)
	var p *runner.Prepared
	if o.resume != "" {
		p, err = svc.PrepareResume(ctx, runner.ResumeRequest{
			RunID: o.resume, Path: path, Vars: vars(&o), DryRun: o.dryRun, Parallelism: int(o.parallelism),
			AutoApprove: o.autoApprove, Approver: ap, Sink: sink,
		})
	} else {
		var rb *runbook.Runbook
		var ok bool
		if _, rb, ok = loadWith(svc, "run", path, &o, stderr); !ok {
			return exitUsage
		}
		p, err = svc.Prepare(ctx, runner.Request{
			Runbook: rb, Vars: vars(&o), DryRun: o.dryRun, Parallelism: int(o.parallelism),
			AutoApprove: o.autoApprove, Approver: ap, Sink: sink,
		})
	}
	if err != nil {
		return refused("run", err, &o, stderr)
	}
	warn(p, &o, stderr)
	text := output.NewText(stdout, useColor(stdout, o.noColor))
	printer, junit := printerFor(&o, stdout, p.Runbook, text)
	fmt.Fprintf(stderr, "drconsole: run %s, journal %s\n", p.ID, p.JournalPath())
	stop := heartbeat(&o, text)
	res, err := p.Execute(ctx)
	stop()
	if junit != nil {
		_ = junit.Close()
	}
	switch {
	case res == nil:
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitUsage
	case err != nil && res.Status == runbook.StatusSucceeded:
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitFailed
	}
	if res.Status != runbook.StatusSucceeded && !o.dryRun {
		fmt.Fprintf(stderr, "drconsole: resume with: drconsole run --resume %s\n", p.ID)
	}
	return finish(res, output.Format(o.output), stderr)
}

// loadWith decodes the runbook at path with svc's step types, writing
// diagnostics to stderr.
func loadWith(svc *runner.Service, cmd, path string, o *options, stderr io.Writer) (*runner.Service, *runbook.Runbook, bool) {
	rb, diags, err := svc.Load(path)
	if err != nil {
		refused(cmd, err, o, stderr)
		return nil, nil, false
	}
	writeDiags(stderr, rb.NewDiagnosticWriter(stderr, useColor(stderr, o.noColor), termWidth(stderr)), diags)
	return svc, rb, true
}

// approver decides the gates of a run: none with --auto-approve, where the
// engine approves them, the operator when stdin is a terminal, and
// otherwise a refusal that says why.
func approver(o *options, stdin io.Reader, stderr io.Writer, operator string) runbook.Approver {
	switch {
	case o.autoApprove:
		return nil
	case isTerminal(stdin):
		return approve.NewPrompt(stdin, stderr, operator)
	}
	return approve.NonInteractive{}
}

func addresses(rb *runbook.Runbook) []string {
	var out []string
	for _, n := range rb.Order() {
		out = append(out, n.Addr)
	}
	return out
}

func planNodes(rb *runbook.Runbook) []output.PlanNode {
	var out []output.PlanNode
	for _, n := range rb.Order() {
		out = append(out, output.PlanNode{
			Addr: n.Addr, Deps: n.Deps, Description: n.Description, Confirm: n.Confirm, Gate: n.Kind == runbook.KindGate,
		})
	}
	return out
}

func operator() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func cmdRuns(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags("runs", &o, withState, stderr, "[flags]")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 0 {
		fmt.Fprintln(stderr, "drconsole runs: takes no arguments")
		return exitUsage
	}
	store, err := openStore(&o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole runs: %v\n", err)
		return exitUsage
	}
	dir := store.Dir
	runs, err := store.List()
	if err != nil {
		fmt.Fprintf(stderr, "drconsole runs: %v\n", err)
		return exitFailed
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "No runs in %s.\n", dir)
		return exitOK
	}
	for _, r := range runs {
		if r.Err != nil {
			fmt.Fprintf(stdout, "%s  unreadable: %v\n", r.ID, r.Err)
			continue
		}
		status := string(r.Status)
		var marks []string
		if r.Drill {
			marks = append(marks, "drill")
		}
		if r.DryRun {
			marks = append(marks, "dry-run")
		}
		if len(marks) > 0 {
			status += " (" + strings.Join(marks, ", ") + ")"
		}
		fmt.Fprintf(stdout, "%s  %-24s %s\n", r.ID, status, strings.TrimSpace(r.RunbookPath))
	}
	return exitOK
}

// stateDir is the state directory the flags choose, or the default one.
func stateDir(o *options) (string, error) {
	if o.stateDir != "" {
		return o.stateDir, nil
	}
	return journal.DefaultStateDir(nil)
}

// openStore opens the state directory the flags choose (the first run
// creates it), and says on stderr when it is unsafe to keep journals in.
func openStore(o *options, stderr io.Writer) (*journal.Store, error) {
	dir, err := stateDir(o)
	if err != nil {
		return nil, err
	}
	s, err := journal.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	if s.Warning != "" {
		fmt.Fprintf(stderr, "drconsole: warning: %s\n", s.Warning)
	}
	return s, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
