// Command drconsole is a terminal console and runbook engine for disaster
// recovery of AI/ML workloads on AWS.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "drconsole: the console is not built yet; try: drconsole version")
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, "drconsole", version)
		return 0
	case "sandbox":
		return runSandbox(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "drconsole: unknown command %q\n", args[0])
		return 2
	}
}
