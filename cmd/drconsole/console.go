package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/tui"
)

// consoleSandbox is the embedded estate, paced so that a failover
// runbook finishes while the operator watches.
func consoleSandbox() sandbox.Options {
	return sandbox.Options{
		Seed:             1,
		InstanceWarmup:   5 * time.Second,
		SnapshotDuration: 5 * time.Second,
		RestoreDuration:  10 * time.Second,
	}
}

// runConsole opens the console: on the embedded sandbox unless an AWS
// target is configured.
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drconsole", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target    = fs.String("target", "", "where to act: sandbox (the embedded estate) or aws (default: aws when a profile or AWS_PROFILE is set)")
		profile   = fs.String("profile", "", "AWS shared-config `profile` (AWS target)")
		region    = fs.String("region", "", "primary `region` (default us-east-1)")
		drRegion  = fs.String("dr-region", "us-west-2", "DR `region`")
		endpoint  = fs.String("endpoint", "", "send every call to this `URL` (an S3-compatible store, an external sandbox)")
		readOnly  = fs.Bool("readonly", false, "refuse every action; the AWS clients refuse writes as well")
		books     = fs.String("runbooks", "runbooks", "`directory` of runbooks the Runbooks view lists")
		stateFlag = fs.String("state-dir", "", "`directory` of run journals (default $XDG_STATE_HOME/drconsole)")
		mouse     = fs.Bool("mouse", false, "scroll lists with the mouse wheel (turns off the terminal's text selection)")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: drconsole [flags]\nOpens the console (on the embedded sandbox unless --target aws).\n\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n", usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drconsole: unknown command %q\n%s", fs.Arg(0), usage)
		return exitUsage
	}
	if !isTerminal(stdout) {
		fmt.Fprintln(stderr, "drconsole: stdout is not a terminal, so the console cannot draw.")
		fmt.Fprintln(stderr, "Use the headless commands instead: drconsole validate|plan|run|runs (--output json for machines).")
		fmt.Fprint(stderr, usage)
		return exitUsage
	}

	t, err := awsx.ResolveTarget(*target, *profile, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	primary := *region
	if primary == "" {
		primary = os.Getenv("AWS_REGION")
	}
	if primary == "" {
		primary = "us-east-1"
	}
	sandboxURL := ""
	// Faults are injected only into the embedded sandbox; against AWS
	// (or another endpoint) a drill asking for them is refused.
	var injector drill.Injector
	if t == awsx.TargetSandbox && *endpoint == "" {
		o := consoleSandbox()
		o.PrimaryRegion, o.DRRegion = primary, *drRegion
		srv, err := sandbox.New(o)
		if err == nil {
			err = srv.Start(ctx, "127.0.0.1:0")
		}
		if err != nil {
			fmt.Fprintf(stderr, "drconsole: embedded sandbox: %v\n", err)
			return exitFailed
		}
		defer srv.Close()
		sandboxURL = srv.URL()
		injector = drill.ServerInjector{Server: srv}
	}

	calls := tui.NewCallLog(0)
	clients, err := awsx.New(awsx.Options{
		Target: t, Profile: *profile, Region: primary, Endpoint: *endpoint, SandboxEndpoint: sandboxURL,
		ReadOnly: *readOnly, Version: version, Observer: calls, LoggedParams: steps.LoggedParams(),
	})
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	dir, err := stateDir(&options{stateDir: *stateFlag})
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	store, err := journal.OpenStore(dir)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitFailed
	}
	runs := &tui.EngineRuns{
		Registry:    steps.Registry(steps.Deps{AWS: clients}),
		DryRegistry: steps.Registry(steps.Deps{AWS: clients.AsReadOnly()}),
		Store:       store, Target: t.String(), Operator: operator(), Host: hostname(),
		Injector: injector,
	}
	m := tui.New(ctx, tui.Options{
		Target: t.String(), Profile: *profile, PrimaryRegion: primary, DRRegion: *drRegion,
		ReadOnly: *readOnly, RunbooksDir: *books, StateDir: dir, Clients: clients, Calls: calls,
		Runs: runs, Operator: operator(), Mouse: *mouse,
	})
	defer m.Close()
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(stdin), tea.WithOutput(stdout))
	m.SetSend(p.Send)
	if _, err := p.Run(); err != nil {
		if ctx.Err() != nil {
			return exitCancelled
		}
		fmt.Fprintf(stderr, "drconsole: console: %v\n", err)
		return exitFailed
	}
	return exitOK
}
