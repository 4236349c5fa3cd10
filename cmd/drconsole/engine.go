package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/drconsole/drconsole/internal/approve"
	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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
		})
	}
	if err != nil {
		if o.target != "" || o.profile != "" || o.region != "" || o.endpoint != "" {
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

// checkSandbox fails fast when the target is the sandbox, the command will
// call AWS (needsAWS) and nothing listens at the sandbox's address: the SDK
// would otherwise retry refused connections for over a minute. AWS itself
// is never probed.
func checkSandbox(ctx context.Context, needsAWS bool, target string, o *options) error {
	if target != awsx.TargetSandbox.String() || !needsAWS {
		return nil
	}
	ep := sandboxURL(o)
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

// usesAWS reports whether any step of rb calls AWS.
func usesAWS(rb *runbook.Runbook) bool {
	for _, n := range rb.Nodes {
		if n.Kind == runbook.KindStep && steps.UsesAWS(n.Type) {
			return true
		}
	}
	return false
}

// loaded is a decoded runbook with its variables resolved.
type loaded struct {
	rb   *runbook.Runbook
	vars map[string]cty.Value
}

// session is what a command runs: a decoded runbook, the step types for a
// run and for a dry-run, and the target's name for reports.
type session struct {
	rb        *runbook.Runbook
	live, dry runbook.Registry
	target    string
}

// open builds the step types for the target the flags choose and decodes
// the runbook at path, writing what went wrong to stderr prefixed with the
// command's name. ok is false when the command must exit with exitUsage.
func open(cmd, path string, o *options, stderr io.Writer) (session, bool) {
	live, dry, target, err := registries(o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole %s: %v\n", cmd, err)
		return session{}, false
	}
	rb, ok := decode(path, live, o, stderr)
	if !ok {
		return session{}, false
	}
	return session{rb: rb, live: live, dry: dry, target: target}, true
}

// load opens the runbook at path and resolves its variables.
func load(cmd, path string, o *options, stderr io.Writer) (session, loaded, bool) {
	s, ok := open(cmd, path, o, stderr)
	if !ok {
		return session{}, loaded{}, false
	}
	l, ok := resolve(s.rb, o, nil, stderr)
	return s, l, ok
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

// decode reads the runbook at path, writing any diagnostics to stderr. ok is
// false when there were errors.
func decode(path string, reg runbook.Registry, o *options, stderr io.Writer) (*runbook.Runbook, bool) {
	rb, diags := runbook.Load(path, reg)
	writeDiags(stderr, rb, diags, useColor(stderr, o.noColor), termWidth(stderr))
	if diags.HasErrors() || rb == nil {
		fmt.Fprintf(stderr, "drconsole: %s is not a valid runbook (%s)\n", path, countErrors(diags))
		return nil, false
	}
	return rb, true
}

// resolve gathers the runbook's variables from recorded values (a resumed
// run's), the flags and the environment, writing any diagnostics to stderr.
func resolve(rb *runbook.Runbook, o *options, recorded []string, stderr io.Writer) (loaded, bool) {
	vars, diags := rb.ResolveVars(runbook.VarInputs{
		Flags: append(recorded, o.vars...), Files: o.varFiles, Env: os.Environ(),
	})
	writeDiags(stderr, rb, diags, useColor(stderr, o.noColor), termWidth(stderr))
	if diags.HasErrors() {
		fmt.Fprintf(stderr, "drconsole: variables of %s are not valid (%s)\n", rb.Path, countErrors(diags))
		return loaded{}, false
	}
	return loaded{rb: rb, vars: vars}, true
}

// writeDiags prints each diagnostic with a compiler-style
// "file:line:col: error: summary" line, which editors and CI annotate, then
// hcl's own rendering with the source line.
func writeDiags(w io.Writer, rb *runbook.Runbook, diags hcl.Diagnostics, color bool, width uint) {
	dw := rb.NewDiagnosticWriter(w, color, width)
	for _, d := range diags {
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
	_, l, ok := load("validate", path, &o, stderr)
	if !ok {
		return exitUsage
	}
	var steps, gates int
	for _, n := range l.rb.Nodes {
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
	s, l, ok := load("plan", path, &o, stderr)
	if !ok {
		return exitUsage
	}
	if err := checkSandbox(ctx, usesAWS(l.rb), s.target, &o); err != nil {
		fmt.Fprintf(stderr, "drconsole plan: %v\n", err)
		return exitUsage
	}
	id, err := journal.NewRunID(time.Now(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole plan: %v\n", err)
		return exitFailed
	}
	printer, junit := printerFor(&o, stdout, l.rb, output.NewPlan(stdout, planNodes(l.rb), useColor(stdout, o.noColor)))
	redactor := journal.NewRedactor(os.Environ(), sensitiveValues(l)...)
	res := runbook.Execute(ctx, l.rb, runbook.Options{
		RunID: id, DryRun: true, Parallelism: int(o.parallelism), Vars: l.vars, Registry: s.dry,
		Sink: output.Filter(output.BestEffort(printer), redactor.Event), Target: s.target,
		Operator: operator(), Host: hostname(),
	})
	if junit != nil {
		_ = junit.Close()
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
	store, err := openStore(&o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitUsage
	}

	var (
		path     string
		prev     *journal.Run
		recorded []string
	)
	if len(pos) == 1 {
		// The journal records an absolute path, so a resume from another
		// directory finds the runbook.
		if path, err = filepath.Abs(pos[0]); err != nil {
			fmt.Fprintf(stderr, "drconsole run: %v\n", err)
			return exitUsage
		}
	}
	if o.resume != "" {
		if prev, err = store.Read(o.resume); err != nil {
			fmt.Fprintf(stderr, "drconsole run: resume: %v\n", err)
			return exitUsage
		}
		switch {
		case prev.Info.Drill != nil:
			// Its remaining steps would act on production.
			fmt.Fprintf(stderr, "drconsole run: resume: run %s was a drill, and drills are not resumed: "+
				"finish it with drconsole drill --teardown %s\n", prev.ID, prev.ID)
			return exitUsage
		case prev.Info.DryRun:
			fmt.Fprintf(stderr, "drconsole run: resume: run %s was a dry run; there is nothing to resume\n", prev.ID)
			return exitUsage
		case prev.Status == runbook.StatusSucceeded:
			fmt.Fprintf(stderr, "drconsole run: resume: run %s already succeeded; there is nothing to resume\n", prev.ID)
			return exitUsage
		case o.dryRun:
			fmt.Fprintln(stderr, "drconsole run: --resume and --dry-run do not go together: plan the runbook instead")
			return exitUsage
		}
		if path == "" {
			path = prev.Info.RunbookPath
		}
		recorded = recordedVars(prev.Info.Variables)
	}

	s, ok := open("run", path, &o, stderr)
	if !ok {
		return exitUsage
	}
	rb := s.rb
	if prev != nil && rb.Hash != prev.Info.RunbookHash {
		fmt.Fprintf(stderr, "drconsole run: resume: runbook %s has changed since run %s started (content hash %.12s, recorded %.12s); "+
			"a resumed run must use the runbook it started with: restore that version, or start a new run\n",
			path, prev.ID, rb.Hash, prev.Info.RunbookHash)
		return exitUsage
	}
	l, ok := resolve(rb, &o, recorded, stderr)
	if !ok {
		return exitUsage
	}
	if err := checkSandbox(ctx, usesAWS(l.rb), s.target, &o); err != nil {
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitUsage
	}

	redactor := journal.NewRedactor(os.Environ(), sensitiveValues(l)...)
	var (
		id string
		w  *journal.Writer
	)
	if prev != nil {
		id = prev.ID
		w, err = store.Append(id, redactor)
	} else {
		if id, err = journal.NewRunID(time.Now(), nil); err == nil {
			w, err = store.Create(id, redactor)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitUsage
	}
	defer w.Close()

	printer, junit := printerFor(&o, stdout, l.rb, output.NewText(stdout, useColor(stdout, o.noColor)))
	fmt.Fprintf(stderr, "drconsole: run %s, journal %s\n", id, w.Path())

	opts := runbook.Options{
		RunID: id, DryRun: o.dryRun, Parallelism: int(o.parallelism), Vars: l.vars,
		AutoApprove: o.autoApprove, Target: s.target, Operator: operator(), Host: hostname(),
		// The journal comes first: if it cannot record, the run stops.
		Sink: output.Multi(w, output.Filter(output.BestEffort(printer), redactor.Event)),
	}
	if o.dryRun {
		opts.Registry = s.dry
	}
	opts.Approver = approver(&o, stdin, stderr, opts.Operator)
	if prev != nil {
		rs := prev.Resume
		rs.From = prev.ID
		opts.Resume = &rs
	}
	res := runbook.Execute(ctx, l.rb, opts)
	if junit != nil {
		_ = junit.Close()
	}
	if err := w.Close(); err != nil && res.Status == runbook.StatusSucceeded {
		fmt.Fprintf(stderr, "drconsole run: %v\n", err)
		return exitFailed
	}
	if res.Status != runbook.StatusSucceeded && !o.dryRun {
		fmt.Fprintf(stderr, "drconsole: resume with: drconsole run --resume %s\n", id)
	}
	return finish(res, output.Format(o.output), stderr)
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

// recordedVars turns the variables a run recorded into --var values, so a
// resumed run sees the same inputs. Sensitive values were never recorded and
// must be given again.
func recordedVars(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		// "null" is how an unset optional variable renders: its default
		// applies again without help.
		if v == "(sensitive)" || v == "null" {
			continue
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// sensitiveValues are the string forms of sensitive variables, which must
// never reach the journal or the output.
func sensitiveValues(l loaded) []string {
	var out []string
	for _, v := range l.rb.Variables {
		if !v.Sensitive {
			continue
		}
		if val, ok := l.vars[v.Name]; ok && val.IsKnown() && !val.IsNull() && val.Type() == cty.String {
			out = append(out, val.AsString())
		}
	}
	return out
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
	dir, err := stateDir(&o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole runs: %v\n", err)
		return exitUsage
	}
	runs, err := (&journal.Store{Dir: dir}).List()
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

// openStore opens the state directory the flags choose, creating it if
// needed.
func openStore(o *options) (*journal.Store, error) {
	dir, err := stateDir(o)
	if err != nil {
		return nil, err
	}
	return journal.OpenStore(dir)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
