package tui

import (
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// A fault on one call leaves the rest of its pane: the pane shows what
// loaded and counts what failed, and E opens the failed calls in full.
func TestPartialResults(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		keys  []string
		// shown must still be on screen; failed names the call in the
		// error panel.
		shown  []string
		failed string
	}{
		{
			name:   "recovery points of a vault",
			fault:  sandbox.Fault{Service: "backup", Operation: "ListRecoveryPointsByBackupVault", Kind: sandbox.FaultError5xx},
			keys:   []string{"3", "v"},
			shown:  []string{"VAULT", "dr-vault", "call"},
			failed: "ListRecoveryPointsByBackupVault",
		},
		{
			name:   "replication metrics",
			fault:  sandbox.Fault{Service: "monitoring", Operation: "GetMetricData", Kind: sandbox.FaultError5xx},
			keys:   []string{"4"},
			shown:  []string{"rule ", "→", "call", "not read"},
			failed: "GetMetricData",
		},
		{
			name:   "alarms of one region",
			fault:  sandbox.Fault{Service: "monitoring", Operation: "DescribeAlarms", Region: "us-west-2", Kind: sandbox.FaultError5xx},
			keys:   []string{"5"},
			shown:  []string{"us-east-1", "call"},
			failed: "DescribeAlarms",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.srv.SetFaults([]sandbox.Fault{tc.fault})
			h := newHarnessOn(t, fx, 120, 40, nil)
			h.keys(tc.keys...)
			screen := h.screen()
			for _, s := range tc.shown {
				if !strings.Contains(screen, s) {
					t.Errorf("screen lacks %q:\n%s", s, screen)
				}
			}
			if !strings.Contains(screen, "failed — press E") {
				t.Errorf("no failed-calls line:\n%s", screen)
			}
			h.keys("E")
			panel := h.screen()
			for _, s := range []string{"Failed calls", tc.failed, "HTTP 500", "request id", "internal error"} {
				if !strings.Contains(panel, s) {
					t.Errorf("error panel lacks %q:\n%s", s, panel)
				}
			}
			h.keys("esc")
			if strings.Contains(h.screen(), "Failed calls") {
				t.Errorf("esc left the error panel open:\n%s", h.screen())
			}
		})
	}
}
