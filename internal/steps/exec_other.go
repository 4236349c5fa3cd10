//go:build !linux

package steps

import "os/exec"

// runCommand starts cmd and waits for it.
func runCommand(cmd *exec.Cmd) (started bool, err error) {
	if err := cmd.Start(); err != nil {
		return false, err
	}
	return true, cmd.Wait()
}
