package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/output"
	"golang.org/x/term"
)

// options are the flags of validate, plan and run; each command registers
// the ones it takes.
type options struct {
	vars        listFlag
	varFiles    listFlag
	parallelism parallelismFlag
	output      formatFlag
	stateDir    string
	autoApprove bool
	dryRun      bool
	noColor     bool
	resume      string

	target, profile, region, endpoint string
	cloudwatchProtocol                cloudWatchProtocolFlag
	// estateFile is --estate; estate is the file read, from there or
	// beside the runbooks (nil when there is none).
	estateFile string
	estate     *estate.Estate

	// The console's own (withConsole).
	drRegion, runbooks string
	readOnly, mouse    bool
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type parallelismFlag int

func (p *parallelismFlag) String() string { return strconv.Itoa(int(*p)) }
func (p *parallelismFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("want a whole number of steps at least 1, got %q", v)
	}
	*p = parallelismFlag(n)
	return nil
}

type formatFlag output.Format

func (f *formatFlag) String() string { return string(*f) }
func (f *formatFlag) Set(v string) error {
	got, err := output.ParseFormat(v)
	if err != nil {
		return err
	}
	*f = formatFlag(got)
	return nil
}

// cloudWatchProtocolFlag is --cloudwatch-protocol, checked as it is
// parsed so that a bad value is a usage error before any AWS call. It
// remembers being given, because the flag wins over the estate file.
type cloudWatchProtocolFlag struct {
	p   awsx.CloudWatchProtocol
	set bool
}

func (p *cloudWatchProtocolFlag) String() string { return p.p.String() }
func (p *cloudWatchProtocolFlag) Set(v string) error {
	got, err := awsx.ParseCloudWatchProtocol(v)
	if err != nil {
		return err
	}
	p.p, p.set = got, true
	return nil
}

type flagSet uint

const (
	withVars flagSet = 1 << iota
	withRun
	withOutput
	withState
	withTarget
	withConsole
)

func newFlags(name string, o *options, which flagSet, stderr io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("drconsole "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.output = formatFlag(output.FormatText)
	fs.BoolVar(&o.noColor, "no-color", false, "never colour the output (NO_COLOR in the environment does the same)")
	if which&withVars != 0 {
		fs.Var(&o.vars, "var", "set a variable, `NAME=VALUE`; repeatable")
		fs.Var(&o.varFiles, "var-file", "read variables from an HCL `file` of NAME = VALUE lines; repeatable")
	}
	if which&withOutput != 0 {
		fs.Var(&o.output, "output", "output `format`: text, json (one event per line) or junit")
		fs.Var(&o.parallelism, "parallelism", "run at most `N` steps at once (default: the runbook's, else 4)")
	}
	if which&withState != 0 {
		fs.StringVar(&o.stateDir, "state-dir", "", "where runs are journalled (default $XDG_STATE_HOME/drconsole or ~/.local/state/drconsole)")
	}
	if which&withRun != 0 {
		fs.BoolVar(&o.autoApprove, "auto-approve", false, "approve every gate without asking (for CI)")
		fs.BoolVar(&o.dryRun, "dry-run", false, "plan every step and apply none, journalled as a run")
		fs.StringVar(&o.resume, "resume", "", "continue the run `RUN_ID`, keeping the steps it finished")
	}
	if which&withTarget != 0 {
		fs.StringVar(&o.target, "target", "", "where AWS steps act: sandbox or aws (default: aws when a profile or AWS keys are set, else sandbox)")
		fs.StringVar(&o.profile, "profile", "", "AWS shared-config `profile`")
		fs.StringVar(&o.region, "region", "", "default AWS `region`")
		fs.StringVar(&o.endpoint, "endpoint", "", "send every AWS call to this `URL` (a sandbox, MinIO, ...)")
		fs.Var(&o.cloudwatchProtocol, "cloudwatch-protocol", "`protocol` CloudWatch is spoken in: cbor, or query for endpoints that speak only the query protocol (default: the estate file's, else cbor)")
		fs.StringVar(&o.estateFile, "estate", "", "estate `file` saying what is what (default: "+estate.FileName+" beside the runbooks, when present)")
	}
	if which&withConsole != 0 {
		fs.StringVar(&o.drRegion, "dr-region", "us-west-2", "DR `region`")
		fs.StringVar(&o.runbooks, "runbooks", "runbooks", "`directory` of runbooks the Runbooks view lists")
		fs.BoolVar(&o.readOnly, "readonly", false, "refuse every action; the AWS clients refuse writes as well")
		fs.BoolVar(&o.mouse, "mouse", false, "scroll lists with the mouse wheel (turns off the terminal's text selection)")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: drconsole %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they appear among the arguments, so
// `drconsole run smoke.hcl --auto-approve` works as people type it.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" and drops it: everything after is positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseFailed maps a flag parsing error to an exit code: -h is not an error.
func parseFailed(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// isTerminal reports whether f is an *os.File on a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// useColor reports whether to colour what goes to w.
func useColor(w io.Writer, noColor bool) bool {
	return !noColor && os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

// termWidth is w's width when it is a terminal, else 0 (no wrapping).
func termWidth(w io.Writer) uint {
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return uint(width)
		}
	}
	return 0
}

// readEstate reads the estate file, --estate when given, else estate.hcl
// in dir when present, and lets its settings fill what no flag gave. dir
// is "" when there is no runbook directory to look in.
func readEstate(o *options, dir string) error {
	var err error
	switch {
	case o.estateFile != "":
		o.estate, err = estate.Load(o.estateFile)
	case dir != "":
		o.estate, err = estate.Find(dir)
	}
	if err != nil || o.estate == nil {
		return err
	}
	if !o.cloudwatchProtocol.set && o.estate.CloudWatchProtocol != "" {
		if o.cloudwatchProtocol.p, err = awsx.ParseCloudWatchProtocol(o.estate.CloudWatchProtocol); err != nil {
			return fmt.Errorf("estate file %s: %w", o.estate.Path, err)
		}
	}
	return nil
}

// runbookDir is the directory a runbook path lives in, or the path when
// it names a directory of runbooks.
func runbookDir(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return path
	}
	return filepath.Dir(path)
}
