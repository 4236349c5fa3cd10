package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// defaultSandboxAddr is where `drconsole sandbox` listens unless told.
const defaultSandboxAddr = "127.0.0.1:5480"

// faultFlags collects repeated --fault flags.
type faultFlags []sandbox.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " faults") }

func (f *faultFlags) Set(v string) error {
	fl, err := sandbox.ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, fl)
	return nil
}

// runSandbox serves the sandbox estate until interrupted.
func runSandbox(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drconsole sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o       sandbox.Options
		addr    = fs.String("addr", defaultSandboxAddr, "loopback `host:port` to listen on (port 0 picks a free one)")
		faults  faultFlags
		snapDur = fs.Duration("snapshot-duration", 0, "how long EBS snapshots and backup jobs take (default 2m)")
		restDur = fs.Duration("restore-duration", 0, "how long backup restore jobs take (default 3m)")
		pace    = fs.String("pace", string(sandbox.PaceReal), "how fast snapshots, warm-ups and restores go: `real` (minutes) or quick (seconds, as the console's embedded sandbox); the duration flags override it")
		names   = fs.String("names", "", "seed the estate under the names in this variables `file` (NAME = VALUE lines, as --var-file takes)")
		print   = fs.Bool("print-vars", false, "write the variables file of the estate (its names, for --var-file and --names) to stdout and exit")
	)
	fs.Int64Var(&o.Seed, "seed", 0, "seed of the generated estate")
	fs.BoolVar(&o.Empty, "empty", false, "start with no estate")
	fs.StringVar(&o.DataDir, "data-dir", "", "keep the estate in this `directory` across restarts")
	fs.BoolVar(&o.StrictAuth, "strict-auth", false, "verify SigV4 signatures of AWS API requests against the printed credentials (the admin endpoint wants its token either way)")
	fs.DurationVar(&o.ReplicationLag, "replication-lag", 0, "delay before new versions reach the DR replica (default 30s)")
	fs.DurationVar(&o.InstanceWarmup, "warmup", 0, "how long launched instances stay Pending (default 45s)")
	fs.Var(&faults, "fault", "inject a fault, repeatable: `KIND[:VALUE][,KEY=VALUE...]`, e.g. throttle:0.1, throttle:500/s,service=s3 (a rate limit\n"+
		"per S3 prefix), latency:50ms,service=s3, outage:us-east-1, error5xx:0.5,service=backup,op=StartRestoreJob, drop:0.01,\n"+
		"drop,service=s3,writes=true,every=10 (keys: service, op, region, writes (true: only requests that change state), rate,\n"+
		"per_second, every (N: the Nth, 2Nth... matching request), latency, from, until)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: drconsole sandbox [flags]")
		fmt.Fprintln(stderr, "Serves an AWS-compatible disaster-recovery estate on loopback until interrupted.")
		fmt.Fprintln(stderr, "The estate's names are those of `drconsole sandbox --print-vars`; to seed it under others:")
		fmt.Fprintln(stderr, "  drconsole sandbox --print-vars > my-estate.vars   # edit the names")
		fmt.Fprintln(stderr, "  drconsole sandbox --names my-estate.vars &")
		fmt.Fprintln(stderr, "  drconsole run runbooks/model-serving-failover.hcl --var-file my-estate.vars --var restore_to=...")
		fmt.Fprintln(stderr, "Its admin endpoint (/_sandbox/: drill faults, the clock, the request log) answers only requests with")
		fmt.Fprintln(stderr, "the token it prints at start, as "+sandbox.TokenEnv+" (set it beforehand to choose the token).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drconsole sandbox: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := loopbackOnly(*addr); err != nil {
		fmt.Fprintf(stderr, "drconsole sandbox: %v\n", err)
		return 2
	}
	o.Faults = faults
	// A token set beforehand lets a script start the sandbox and the
	// commands that steer it with the same one; otherwise one is drawn.
	o.AdminToken = os.Getenv(sandbox.TokenEnv)
	if o.AdminToken != "" {
		if err := sandbox.CheckAdminToken(o.AdminToken); err != nil {
			fmt.Fprintf(stderr, "drconsole sandbox: %s: %v\n", sandbox.TokenEnv, err)
			return exitUsage
		}
	}
	p, err := sandbox.ParsePace(*pace)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole sandbox: --pace: %v\n", err)
		return exitUsage
	}
	warmup, lag := o.InstanceWarmup, o.ReplicationLag
	o = o.WithPace(p)
	for _, d := range []struct {
		set time.Duration
		to  *time.Duration
	}{{*snapDur, &o.SnapshotDuration}, {*restDur, &o.RestoreDuration}, {warmup, &o.InstanceWarmup}, {lag, &o.ReplicationLag}} {
		if d.set != 0 {
			*d.to = d.set
		}
	}
	if *names != "" {
		n, ok := readSandboxNames("sandbox", "--names", *names, stderr)
		if !ok {
			return exitUsage
		}
		o.Names = n
	}
	if *print {
		v, err := sandbox.EstateVars(o)
		if err != nil {
			fmt.Fprintf(stderr, "drconsole sandbox: %v\n", err)
			return 2
		}
		stdout.Write(v)
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := sandbox.New(o)
	if err != nil {
		fmt.Fprintf(stderr, "drconsole sandbox: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx, *addr); err != nil {
		fmt.Fprintf(stderr, "drconsole sandbox: %v\n", err)
		srv.Close()
		return 1
	}
	opts := srv.Options()
	fmt.Fprintf(stdout, "drconsole sandbox serving on %s\n", srv.URL())
	fmt.Fprintf(stdout, "pace: %s (%s)\n", opts.Pace(), opts.PaceDetail())
	if !o.Empty {
		fmt.Fprintf(stdout, "estate: seed %d, primary %s, DR %s, bucket %s, vault %s, DR group %s\n",
			opts.Seed, opts.PrimaryRegion, opts.DRRegion, opts.Names.ModelBucket, opts.Names.BackupVault, opts.Names.DRGroup)
	}
	fmt.Fprintln(stdout, "# point AWS tools at it:")
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "export AWS_REGION=%s\n", opts.PrimaryRegion)
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\n", opts.AccessKeyID)
	fmt.Fprintf(stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", opts.SecretAccessKey)
	fmt.Fprintln(stdout, "# drill faults and the admin endpoint (Authorization: Bearer $"+sandbox.TokenEnv+"):")
	fmt.Fprintf(stdout, "export %s=%s\n", sandbox.TokenEnv, srv.AdminToken())
	fmt.Fprintf(stdout, "# admin: %s/_sandbox/{requests,faults,clock,estate}\n", srv.URL())
	<-ctx.Done()
	fmt.Fprintln(stderr, "drconsole sandbox: shutting down")
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(stderr, "drconsole sandbox: %v\n", err)
			return 1
		}
	case <-time.After(10 * time.Second):
		fmt.Fprintln(stderr, "drconsole sandbox: shutdown timed out")
		return 1
	}
	return 0
}

// readSandboxNames reads the names file a flag gives, reporting a bad one
// on stderr. ok is false when the command must exit with exitUsage.
func readSandboxNames(cmd, flagName, path string, stderr io.Writer) (sandbox.Names, bool) {
	n, err := sandbox.ReadNames(path)
	if err != nil {
		fileRefused(cmd, flagName, path, err, stderr)
		return sandbox.Names{}, false
	}
	return n, true
}

// fileRefused reports why the file a flag gives was refused: where it is
// wrong as file:line:column when the error carries diagnostics, the way a
// runbook is reported, else the error's words.
func fileRefused(cmd, flagName, path string, err error, stderr io.Writer) {
	var diags hcl.Diagnostics
	if errors.As(err, &diags) {
		refused(cmd, &runbook.DiagError{What: flagName + " " + path, Diags: diags}, &options{noColor: true}, stderr)
		return
	}
	fmt.Fprintf(stderr, "drconsole %s: %s: %v\n", cmd, flagName, err)
}

// loopbackOnly refuses addresses other machines could reach: the sandbox
// accepts any credentials by default.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q: the sandbox listens on loopback only (127.0.0.1 or ::1)", addr)
	}
	return nil
}
