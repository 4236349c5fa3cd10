package steps

import (
	"os/exec"
	"runtime"
	"syscall"
)

// runCommand starts cmd and waits for it. On Linux the command is killed if
// drconsole dies (the parent-death signal), so a crashed run leaves no
// orphan that a resumed run would then start a second time. The signal
// follows the thread that started the command, so that thread stays locked
// to this goroutine until the command ends.
func runCommand(cmd *exec.Cmd) (started bool, err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	type result struct {
		started bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			done <- result{false, err}
			return
		}
		done <- result{true, cmd.Wait()}
	}()
	r := <-done
	return r.started, r.err
}
