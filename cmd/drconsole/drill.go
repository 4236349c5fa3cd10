package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/output"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
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
	if df.report != "" {
		if _, err := drill.ReportFormat(df.report, df.reportFormat); err != nil {
			fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
			return exitUsage
		}
	}
	if df.teardown != "" {
		return drillTeardown(ctx, &o, &df, stdout, stderr)
	}

	var req runner.DrillRequest
	if df.target != "" {
		bucket, prefix, _ := strings.Cut(df.target, "/")
		if bucket == "" {
			fmt.Fprintf(stderr, "drconsole drill: --drill-target %q: want BUCKET or BUCKET/PREFIX\n", df.target)
			return exitUsage
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		req.TargetBucket, req.TargetPrefix = bucket, prefix
	}
	if df.incidentAt != "" {
		t, err := runbook.ParseTime(df.incidentAt)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: --incident-at: %v\n", err)
			return exitUsage
		}
		req.IncidentAt = t
	}
	for _, s := range df.faults {
		f, err := drill.ParseFault(s)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole drill: --fault: %v\n", err)
			return exitUsage
		}
		req.Faults = append(req.Faults, f)
	}

	svc, rb, ok := load("drill", pos[0], &o, true, stderr)
	if !ok {
		return exitUsage
	}
	req.Runbook, req.Vars, req.DryRun, req.Parallelism = rb, vars(&o), o.dryRun, int(o.parallelism)
	req.AutoApprove, req.Approver = o.autoApprove, approver(&o, stdin, stderr, svc.Operator)
	lines := output.NewText(stdout, useColor(stdout, o.noColor))
	var text runbook.Sink = lines
	if o.dryRun {
		text = output.NewPlan(stdout, planNodes(rb), useColor(stdout, o.noColor))
	}
	printer, junit := printerFor(&o, stdout, rb, text)
	req.Sink = printer
	// Refused before a journal exists: nothing was run.
	d, err := svc.PrepareDrill(ctx, req)
	if err != nil {
		return refused("drill", err, &o, stderr)
	}
	warn(d.Prepared, &o, stderr)
	if output.Format(o.output) == output.FormatText && !o.dryRun {
		// The operator sees every step's drill mode before anything runs.
		res, err := d.Plan(ctx, output.NewPlan(stdout, planNodes(rb), useColor(stdout, o.noColor)))
		if err != nil {
			return refused("drill", err, &o, stderr)
		}
		if res.Status != runbook.StatusSucceeded {
			fmt.Fprintf(stderr, "drconsole drill: the drill cannot be planned, so it does not start: %v\n", res.Err)
			return exitFailed
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stderr, "drconsole: drill %s, journal %s\n", d.ID, d.JournalPath())
	stop := func() {}
	if !o.dryRun {
		stop = heartbeat(&o, lines)
	}
	out, err := d.Execute(ctx)
	stop()
	if junit != nil {
		_ = junit.Close()
	}
	if out == nil {
		return refused("drill", err, &o, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitFailed
	}
	code := finish(out.Result, output.Format(o.output), stderr)
	if out.Report == nil {
		return code
	}
	if rc := writeReport(out.Report, &df, stderr); rc != exitOK {
		return rc
	}
	printSummary(stderr, out.Report)
	if out.TeardownErr != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\nfinish it with: drconsole drill --teardown %s\n", out.TeardownErr, d.ID)
		return max(code, exitFailed)
	}
	if code == exitOK && !out.Report.Passed() {
		return exitFailed
	}
	return code
}

// drillTeardown finishes the teardown of an earlier drill from its
// journal, appending what it does to that journal.
func drillTeardown(ctx context.Context, o *options, df *drillFlags, stdout, stderr io.Writer) int {
	if err := readEstate(o, ""); err != nil {
		return refused("drill", err, o, stderr)
	}
	svc, err := newService(o, true, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: teardown: %v\n", err)
		return exitUsage
	}
	var printer runbook.Sink = output.NewText(stdout, useColor(stdout, o.noColor))
	if output.Format(o.output) == output.FormatJSON {
		printer = output.NewJSON(stdout)
	}
	td, err := svc.Teardown(ctx, df.teardown, printer)
	var refusal *runner.Refusal
	if errors.As(err, &refusal) {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitUsage
	}
	if td.FaultsRemoved > 0 {
		fmt.Fprintf(stderr, "drconsole: removed %d %s the drill left in the sandbox\n", td.FaultsRemoved, plural(td.FaultsRemoved, "fault"))
	}
	if rc := writeReport(td.Report, df, stderr); rc != exitOK {
		return rc
	}
	if err != nil {
		fmt.Fprintf(stderr, "drconsole drill: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "drconsole: teardown of drill %s finished: %d actions\n", df.teardown, td.Actions)
	return exitOK
}

// writeReport writes the report to --report, when given; the run
// service has written it into the run's directory.
func writeReport(rep *drill.Report, df *drillFlags, stderr io.Writer) int {
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
