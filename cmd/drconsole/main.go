// Command drconsole is a terminal console and runbook engine for disaster
// recovery of AI/ML workloads on AWS.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, documented in the README and docs/runbook-language.md.
const (
	exitOK        = 0
	exitFailed    = 1 // a step failed
	exitUsage     = 2 // invalid runbook or usage
	exitRefused   = 3 // a gate was refused or timed out
	exitCancelled = 130
)

// errInterrupted is the cause of a run cancelled by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted")

func main() {
	ctx, stop := interruptible(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM,
// so a run stops cleanly (steps cancelled, journal closed). A second signal
// exits at once with 130, for when stopping cleanly takes too long.
func interruptible(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "\ndrconsole: interrupted; stopping cleanly (interrupt again to exit at once)")
		cancel(errInterrupted)
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "drconsole: interrupted again; exiting")
			os.Exit(exitCancelled)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

const usage = `usage: drconsole COMMAND [flags] [args]

Commands:
  validate RUNBOOK            check a runbook; diagnostics with file:line:col
  plan RUNBOOK                show what a run would do, changing nothing
  run RUNBOOK                 run a runbook, journalling every event
  run --resume RUN_ID [RUNBOOK]
                              continue a crashed or cancelled run
  drill RUNBOOK               rehearse a runbook safely: redirected steps, teardown,
                              RTO/RPO measured against the objectives, a report
  drill --teardown RUN_ID     finish the teardown of an interrupted drill
  runs                        list the runs in the state directory
  sandbox                     serve the sandbox estate on loopback
  version                     print the version

Run "drconsole COMMAND -h" for a command's flags.
Exit codes: 0 success, 1 a step failed (or a drill missed an objective
or left something behind), 2 invalid runbook or usage,
3 a gate was refused or timed out, 130 cancelled.
`

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelpFlag(args[0]) && args[0] != "--version") {
		return runConsole(ctx, args, stdin, stdout, stderr)
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, "drconsole", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "validate":
		return cmdValidate(ctx, args[1:], stdin, stdout, stderr)
	case "plan":
		return cmdPlan(ctx, args[1:], stdin, stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdin, stdout, stderr)
	case "runs":
		return cmdRuns(ctx, args[1:], stdin, stdout, stderr)
	case "drill":
		return cmdDrill(ctx, args[1:], stdin, stdout, stderr)
	case "sandbox":
		return runSandbox(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "drconsole: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }
