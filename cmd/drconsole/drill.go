package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
)

// drillFlags are the flags drill takes besides those of run.
type drillFlags struct {
	target       string // --drill-target BUCKET[/PREFIX]
	incidentAt   string
	faults       listFlag
	report       string
	reportFormat string
	teardown     string
}

func cmdDrill(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	var df drillFlags
	fs := newFlags("drill", &o, withVars|withOutput|withState|withTarget, stderr, "[flags] RUNBOOK | --teardown RUN_ID")
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "approve every gate without asking (for CI)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show the drill's plan, with what each step redirects, and run nothing")
	fs.StringVar(&df.target, "drill-target", "", "restore into `BUCKET[/PREFIX]` instead of the runbook's drill { target_bucket, target_prefix }")
	fs.StringVar(&df.incidentAt, "incident-at", "", "RFC 3339 `time` of the rehearsed incident, which RTO and RPO are measured from (default: the drill's start)")
	fs.Var(&df.faults, "fault", "inject a fault into the sandbox, `KIND[:VALUE][,KEY=VALUE...]` as for drconsole sandbox --fault, plus after=DURATION or at_step=step.TYPE.NAME; repeatable")
	fs.StringVar(&df.report, "report", "", "also write the drill report to `FILE` (.md, .json or .xml)")
	fs.StringVar(&df.reportFormat, "report-format", "", "format of --report: markdown, json or junit (default: from the extension)")
	fs.StringVar(&df.teardown, "teardown", "", "finish the teardown of drill `RUN_ID` from its journal")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if (df.teardown != "") == (len(pos) == 1) || len(pos) > 1 {
		fmt.Fprintln(stderr, "drconsole drill: want one runbook file or directory, or --teardown RUN_ID")
		fs.Usage()
		return exitUsage
	}
	store, err := openStore(&o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitUsage
	}
	if df.report != "" {
		if _, err := drill.ReportFormat(df.report, df.reportFormat); err != nil {
			fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
			return exitUsage
		}
	}
	if df.teardown != "" {
		return drillTeardown(ctx, &o, &df, store, stdout, stderr)
	}

	opts := drill.Options{}
	if df.target != "" {
		bucket, prefix, _ := strings.Cut(df.target, "/")
		if bucket == "" {
			fmt.Fprintf(stderr, "drconsole drill: --drill-target %q: want BUCKET or BUCKET/PREFIX\n", df.target)
			return exitUsage
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		opts.TargetBucket, opts.TargetPrefix = bucket, prefix
	}
	if df.incidentAt != "" {
		t, err := runbook.ParseTime(df.incidentAt)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: --incident-at: %v\n", err)
			return exitUsage
		}
		opts.IncidentAt = t
	}
	for _, s := range df.faults {
		f, err := drill.ParseFault(s)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: --fault: %v\n", err)
			return exitUsage
		}
		opts.Faults = append(opts.Faults, f)
	}

	s, l, ok := load("drill", pos[0], &o, stderr)
	if !ok {
		return exitUsage
	}
	live, dry, target := s.live, s.dry, s.target
	if err := checkSandbox(ctx, usesAWS(l.rb), target, &o); err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitUsage
	}
	if target == awsx.TargetSandbox.String() {
		opts.Injector = drill.AdminInjector{URL: sandboxURL(&o)}
	}
	// Refused before a journal exists: nothing was run.
	if diags := runbook.CheckDrill(l.rb, live); diags.HasErrors() {
		writeDiags(stderr, l.rb, diags, useColor(stderr, o.noColor), termWidth(stderr))
		fmt.Fprintf(stderr, "drconsole drill: %s cannot run as a drill (%s)\n", pos[0], countErrors(diags))
		return exitUsage
	}
	// Faults go only to the sandbox: against AWS they are refused.
	if len(opts.Faults) > 0 || (l.rb.Drill != nil && len(l.rb.Drill.Faults) > 0) {
		if opts.Injector == nil {
			fmt.Fprintln(stderr, "drconsole drill: faults can only be injected into the sandbox (--target sandbox)")
			return exitUsage
		}
	}
	redactor := journal.NewRedactor(os.Environ(), sensitiveValues(l)...)
	id, err := journal.NewRunID(time.Now(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitFailed
	}
	var text runbook.Sink = output.NewText(stdout, useColor(stdout, o.noColor))
	if o.dryRun {
		text = output.NewPlan(stdout, planNodes(l.rb), useColor(stdout, o.noColor))
	}
	printer, junit := printerFor(&o, stdout, l.rb, text)
	opts.Runbook = l.rb
	opts.Teardown = live
	if output.Format(o.output) == output.FormatText && !o.dryRun {
		// The operator sees every step's drill mode before anything runs.
		plan := opts
		plan.Run = runbook.Options{RunID: id, DryRun: true, Parallelism: int(o.parallelism), Vars: l.vars, Registry: dry,
			Target: target, Operator: operator(), Host: hostname(),
			Sink: output.Filter(output.BestEffort(output.NewPlan(stdout, planNodes(l.rb), useColor(stdout, o.noColor))), redactor.Event)}
		pout, err := drill.Run(ctx, plan)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
			return exitUsage
		}
		if pout.Result.Status != runbook.StatusSucceeded {
			fmt.Fprintf(stderr, "drconsole drill: the drill cannot be planned, so it does not start: %v\n", pout.Result.Err)
			return exitFailed
		}
		fmt.Fprintln(stdout)
	}
	w, err := store.Create(id, redactor)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitUsage
	}
	defer w.Close()
	fmt.Fprintf(stderr, "drconsole: drill %s, journal %s\n", id, w.Path())
	opts.Run = runbook.Options{
		RunID: id, DryRun: o.dryRun, Parallelism: int(o.parallelism), Vars: l.vars, Registry: live,
		AutoApprove: o.autoApprove, Target: target, Operator: operator(), Host: hostname(),
		Sink: output.Multi(w, output.Filter(output.BestEffort(printer), redactor.Event)),
	}
	if o.dryRun {
		opts.Run.Registry = dry
	}
	opts.Run.Approver = approver(&o, stdin, stderr, opts.Run.Operator)
	out, err := drill.Run(ctx, opts)
	if junit != nil {
		_ = junit.Close()
	}
	if err != nil {
		var de *drill.DiagError
		if errors.As(err, &de) {
			writeDiags(stderr, l.rb, de.Diags, useColor(stderr, o.noColor), termWidth(stderr))
			fmt.Fprintf(stderr, "drconsole drill: %s cannot run as a drill (%s)\n", pos[0], countErrors(de.Diags))
		} else {
			fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		}
		return exitUsage
	}
	if err := w.Close(); err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitFailed
	}
	code := finish(out.Result, output.Format(o.output), stderr)
	if out.Report == nil {
		return code
	}
	if rc := writeReports(out.Report, store.RunDir(id), &df, stderr); rc != exitOK {
		return rc
	}
	printSummary(stderr, out.Report)
	if out.TeardownErr != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\nfinish it with: drconsole drill --teardown %s\n", out.TeardownErr, id)
		return max(code, exitFailed)
	}
	if code == exitOK && !out.Report.Passed() {
		return exitFailed
	}
	return code
}

// drillTeardown finishes the teardown of an earlier drill from its
// journal, appending what it does to that journal.
func drillTeardown(ctx context.Context, o *options, df *drillFlags, store *journal.Store, stdout, stderr io.Writer) int {
	id := df.teardown
	prev, err := store.Read(id)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	if prev.Info.Drill == nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: run %s is not a drill\n", id)
		return exitUsage
	}
	events, err := store.Events(id)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	live, _, target, err := registries(o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	if err := checkSandbox(ctx, drilledAny(events), target, o); err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	// The runbook gives the graph for the report; the teardown itself
	// needs only the journal.
	rb, _ := runbook.Load(prev.Info.RunbookPath, live)
	redactor := journal.NewRedactor(os.Environ())
	w, err := store.Append(id, redactor)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	defer w.Close()
	var printer runbook.Sink = output.NewText(stdout, useColor(stdout, o.noColor))
	if output.Format(o.output) == output.FormatJSON {
		printer = output.NewJSON(stdout)
	}
	if target == awsx.TargetSandbox.String() && len(prev.Info.Drill.Faults) > 0 {
		n, err := drill.RemoveFaults(ctx, drill.AdminInjector{URL: sandboxURL(o)}, prev.Info.Drill.Faults)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(stderr, "drconsole: removed %d %s the drill left in the sandbox\n", n, plural(n, "fault"))
		}
	}
	rec := &eventLog{}
	sum, terr := drill.Teardown(ctx, drill.TeardownOptions{RunID: id, Events: events, Registry: live, Runbook: rb,
		Sink: output.Multi(w, rec, output.Filter(output.BestEffort(printer), redactor.Event))})
	if err := w.Close(); err != nil && terr == nil {
		terr = err
	}
	rep := drill.NewReport(events, rb, target)
	rep.Teardown = sum
	if rc := writeReports(rep, store.RunDir(id), df, stderr); rc != exitOK {
		return rc
	}
	if terr != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", terr)
		return exitFailed
	}
	fmt.Fprintf(stderr, "drconsole: teardown of drill %s finished: %d actions\n", id, len(rec.events))
	return exitOK
}

// drilledAny reports whether a drill's journal records a drilled step,
// which is what a teardown undoes through AWS.
func drilledAny(events []runbook.Event) bool {
	for _, e := range events {
		if e.Kind == runbook.StepDrilled {
			return true
		}
	}
	return false
}

// eventLog counts the teardown's events.
type eventLog struct{ events []runbook.Event }

func (l *eventLog) Emit(e runbook.Event) error {
	if e.Kind == runbook.TeardownAction {
		l.events = append(l.events, e)
	}
	return nil
}

func writeReports(rep *drill.Report, runDir string, df *drillFlags, stderr io.Writer) int {
	if err := rep.Write(runDir); err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitFailed
	}
	if df.report != "" {
		if err := rep.WriteFile(df.report, df.reportFormat); err != nil {
			fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}

// printSummary tells the operator the drill's verdict in a few lines.
func printSummary(w io.Writer, rep *drill.Report) {
	for _, o := range []drill.Objective{rep.RTO, rep.RPO} {
		verdict := "PASS"
		if !o.Pass {
			verdict = "FAIL"
		}
		achieved, objective := "not measured", "none declared"
		if o.Measured {
			achieved = o.Achieved.Round(time.Second).String()
		}
		if o.Objective > 0 {
			objective = o.Objective.String()
		}
		fmt.Fprintf(w, "drconsole: %s %s (objective %s): %s; %s\n", strings.ToUpper(o.Name), achieved, objective, verdict, o.Detail)
	}
	if len(rep.CriticalPath) > 0 {
		fmt.Fprintf(w, "drconsole: critical path %s (%s)\n", strings.Join(rep.CriticalPath, " -> "), rep.CriticalDuration.Round(time.Millisecond))
	}
}
