package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/drill"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/runner"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/tui"
)

// consoleSandbox is the embedded estate, at the quick pace unless told
// otherwise, so that a failover runbook finishes while the operator
// watches.
func consoleSandbox() sandbox.Options {
	return sandbox.Options{Seed: 1}.WithPace(sandbox.PaceQuick)
}

// runConsole opens the console: on the embedded sandbox unless an AWS
// target is configured.
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags("", &o, withTarget|withState|withConsole, stderr, "")
	fs.Init("drconsole", flag.ContinueOnError)
	var varFiles listFlag
	fs.Var(&varFiles, "var-file", "variables `file` (NAME = VALUE lines) every run starts from, e.g. the estate's names; repeatable")
	sandboxNames := fs.String("sandbox-names", "", "seed the embedded sandbox under the names in this variables `file` (see drconsole sandbox --names)")
	sandboxPace := fs.String("sandbox-pace", string(sandbox.PaceQuick), "how fast the embedded sandbox's snapshots, warm-ups and restores go: `quick` (seconds) or real (minutes, as drconsole sandbox)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: drconsole [flags]\nOpens the console (on the embedded sandbox unless --target aws).\n\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n", usage)
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drconsole: unknown command %q\n%s", fs.Arg(0), usage)
		return exitUsage
	}
	pace, err := sandbox.ParsePace(*sandboxPace)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: --sandbox-pace: %v\n", err)
		return exitUsage
	}
	// A bad estate file is refused before the terminal is asked for, so
	// scripts and tests see it too.
	if err := readEstate(&o, o.runbooks); err != nil {
		return refused("console", err, &o, stderr)
	}
	var seedNames sandbox.Names
	if *sandboxNames != "" {
		var ok bool
		if seedNames, ok = readSandboxNames("console", "--sandbox-names", *sandboxNames, stderr); !ok {
			return exitUsage
		}
	}
	var fileVars []map[string]string
	for _, path := range varFiles {
		vals, err := runbook.VarFileValues(path)
		if err != nil {
			fileRefused("console", "--var-file", path, err, stderr)
			return exitUsage
		}
		fileVars = append(fileVars, vals)
	}
	if !isTerminal(stdout) {
		fmt.Fprintln(stderr, "drconsole: stdout is not a terminal, so the console cannot draw.")
		fmt.Fprintln(stderr, "Use the headless commands instead: drconsole validate|plan|run|runs (--output json for machines).")
		fmt.Fprint(stderr, usage)
		return exitUsage
	}

	t, err := awsx.ResolveTarget(o.target, o.profile, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	primary := o.region
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
	var defaults map[string]string
	if t == awsx.TargetSandbox && o.endpoint == "" {
		so := consoleSandbox().WithPace(pace)
		so.PrimaryRegion, so.DRRegion = primary, o.drRegion
		if *sandboxNames != "" {
			so.Names = seedNames
			// The file's regions hold unless a flag says otherwise.
			so.PrimaryRegion, so.DRRegion = o.region, ""
			fs.Visit(func(f *flag.Flag) {
				if f.Name == "dr-region" {
					so.DRRegion = o.drRegion
				}
			})
		}
		srv, err := sandbox.New(so)
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
		names := srv.Options().Names
		primary, o.drRegion = names.PrimaryRegion, names.DRRegion
		defaults = names.Vars()
	} else if *sandboxNames != "" {
		fmt.Fprintln(stderr, "drconsole: --sandbox-names names the embedded sandbox's estate; point runs at another estate with --var-file")
		return exitUsage
	}
	for _, vals := range fileVars {
		if defaults == nil {
			defaults = map[string]string{}
		}
		for k, v := range vals {
			defaults[k] = v
		}
	}

	calls := tui.NewCallLog(0)
	clients, err := awsx.New(awsx.Options{
		Target: t, Profile: o.profile, Region: primary, Endpoint: o.endpoint, SandboxEndpoint: sandboxURL,
		ReadOnly: o.readOnly, Version: version, Observer: calls, LoggedParams: steps.LoggedParams(),
		CloudWatchProtocol: o.cloudwatchProtocol.p,
	})
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	dir, err := stateDir(&o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitUsage
	}
	store, err := journal.OpenStore(dir)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole: %v\n", err)
		return exitFailed
	}
	if store.Warning != "" {
		// The console shows it too; this line stays once it closes.
		fmt.Fprintf(stderr, "drconsole: warning: %s\n", store.Warning)
	}
	runs := &runner.Service{
		Registry:    steps.Registry(steps.Deps{AWS: clients}),
		DryRegistry: steps.Registry(steps.Deps{AWS: clients.AsReadOnly()}),
		Store:       store, Target: t.String(), Operator: operator(), Host: hostname(),
		Env: os.Environ(), Injector: injector, Defaults: defaults,
	}
	m := tui.New(ctx, tui.Options{
		Target: t.String(), Profile: o.profile, PrimaryRegion: primary, DRRegion: o.drRegion,
		ReadOnly: o.readOnly, RunbooksDir: o.runbooks, StateDir: dir, Clients: clients, Calls: calls,
		Runs: runs, Operator: operator(), Mouse: o.mouse, Estate: o.estate,
	})
	defer m.Close()
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(stdin), tea.WithOutput(stdout)}
	if o.noColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p := tea.NewProgram(m, popts...)
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
