package main

import (
	"fmt"
	"io"
)

// runSandbox serves the sandbox estate until interrupted.
func runSandbox(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "drconsole sandbox: not available yet")
	return 2
}
