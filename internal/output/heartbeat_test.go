package output

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
)

// heartbeats are the lines of out without their time of day.
func heartbeats(out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if _, rest, ok := strings.Cut(l, " … "); ok && !strings.HasPrefix(rest, "progress") {
			got = append(got, "… "+rest)
		}
	}
	return got
}

// The text printer says what a quiet run waits for, on the bubble's clock:
// nothing while lines are printed, then a line for each step running or
// waiting to retry and each gate waiting, with how long and the latest
// progress, even one too small to print; nothing once the run has ended.
func TestTextHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The heartbeat's goroutine writes it; the test reads it once the
		// bubble is idle.
		var out lockedbuf.Buffer
		text := NewText(&out, false)
		stop := text.Heartbeat(HeartbeatAfter)
		defer stop()
		start := time.Now()
		emit := func(kind runbook.EventKind, node string, f func(*runbook.Event)) {
			t.Helper()
			e := runbook.Event{Time: time.Now(), RunID: "20000101T000000Z-3f9a1c", Kind: kind, Node: node}
			if f != nil {
				f(&e)
			}
			if err := text.Emit(e); err != nil {
				t.Fatal(err)
			}
		}
		// wait lets the clock run to at after the start and returns the
		// heartbeats printed since the last wait.
		wait := func(at time.Duration) []string {
			t.Helper()
			time.Sleep(time.Until(start.Add(at)))
			synctest.Wait()
			got := heartbeats(out.String())
			out.Reset()
			return got
		}
		check := func(at time.Duration, want ...string) {
			t.Helper()
			if got := wait(at); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("at %s: heartbeats\n%s\nwant\n%s", at, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}

		check(time.Minute) // no run yet
		start = time.Now()
		emit(runbook.RunStarted, "", func(e *runbook.Event) { e.Run = &runbook.RunInfo{RunbookPath: "runbooks/x.hcl"} })
		emit(runbook.StepStarted, "step.s3_restore.models", func(e *runbook.Event) { e.Attempt = 1 })
		emit(runbook.StepProgress, "step.s3_restore.models", func(e *runbook.Event) {
			e.Progress = &runbook.Progress{Done: 1200, Total: 2000, Unit: "objects"}
		})
		check(29 * time.Second)
		check(30*time.Second, "… running  step.s3_restore.models for 30s: 1200/2000 objects")
		wait(40 * time.Second)
		// In the tenth already printed: only the heartbeat shows it.
		emit(runbook.StepProgress, "step.s3_restore.models", func(e *runbook.Event) {
			e.Progress = &runbook.Progress{Done: 1250, Total: 2000, Unit: "objects"}
		})
		check(60*time.Second, "… running  step.s3_restore.models for 1m0s: 1250/2000 objects")

		wait(70 * time.Second)
		emit(runbook.GateAsked, "gate.failover", func(e *runbook.Event) { e.Line = "Fail over?" })
		emit(runbook.GateAsked, "step.asg_scale.serving", func(e *runbook.Event) { e.Line = "Scale?" })
		emit(runbook.StepStarted, "step.exec.flaky", func(e *runbook.Event) { e.Attempt = 1 })
		emit(runbook.StepRetried, "step.exec.flaky", func(e *runbook.Event) { e.Attempt = 1; e.Error = "exit status 1"; e.Delay = time.Minute })
		// A line printed puts the heartbeat off by a whole quiet spell.
		check(99 * time.Second)
		check(100*time.Second,
			"… running  step.s3_restore.models for 1m40s: 1250/2000 objects",
			"… waiting  at gate.failover for 30s",
			"… waiting  at step.asg_scale.serving for 30s (its confirmation)",
			"… retrying step.exec.flaky for 30s: waiting to start attempt 2",
		)
		check(130*time.Second,
			"… running  step.s3_restore.models for 2m10s: 1250/2000 objects",
			"… waiting  at gate.failover for 1m0s",
			"… waiting  at step.asg_scale.serving for 1m0s (its confirmation)",
			"… retrying step.exec.flaky for 1m0s: waiting to start attempt 2",
		)

		emit(runbook.GateApproved, "gate.failover", nil)
		emit(runbook.GateApproved, "step.asg_scale.serving", nil)
		emit(runbook.StepStarted, "step.exec.flaky", func(e *runbook.Event) { e.Attempt = 2 })
		check(160*time.Second,
			"… running  step.s3_restore.models for 2m40s: 1250/2000 objects",
			"… running  step.exec.flaky (attempt 2) for 30s",
		)

		emit(runbook.RunFinished, "", func(e *runbook.Event) { e.Status = runbook.StatusCancelled })
		check(10 * time.Minute)
		stop()
		// Stopped, it prints nothing more, and stopping again is harmless.
		stop()
		if got := wait(20 * time.Minute); len(got) != 0 {
			t.Errorf("heartbeats after stop: %q", got)
		}
	})
}
