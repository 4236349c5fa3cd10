package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// Against an endpoint that speaks CloudWatch only in the query protocol,
// --cloudwatch-protocol query reads the alarms a plan checks, and without
// it the plan fails naming the protocol and the flag that fixes it.
func TestCloudWatchProtocolFlag(t *testing.T) {
	srv, _ := sandboxtest.Start(t, sandbox.Options{CloudWatchQueryOnly: true})
	dr := srv.Options().DRRegion
	names := srv.Options().Names
	rb := writeRunbook(t, fmt.Sprintf(`step "alarms_check" "health" {
  region = %q
  alarms = [%q, %q]
}
`, dr, names.AlarmDRCapacity, names.AlarmHealth))
	args := []string{"plan", rb, "--target", "sandbox", "--endpoint", srv.URL()}

	code, stdout, stderr := cli(t, t.Context(), append(args, "--cloudwatch-protocol", "query")...)
	if code != exitOK || !strings.Contains(stdout, names.AlarmDRCapacity) {
		t.Errorf("plan over query: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	code, stdout, stderr = cli(t, t.Context(), args...)
	if code == exitOK {
		t.Fatalf("plan over CBOR against a query-only endpoint succeeded\n%s", stdout)
	}
	for _, want := range []string{"did not answer in CloudWatch's RPC v2 CBOR protocol", "status 404", "--cloudwatch-protocol query"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("plan over CBOR does not say %q:\nstdout: %s\nstderr: %s", want, stdout, stderr)
		}
	}
}
