package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/journal"
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

// An estate file beside the runbook that says the endpoint speaks the
// query protocol is honoured without the flag, and the flag still wins.
func TestEstateFileChoosesCloudWatchProtocol(t *testing.T) {
	srv, _ := sandboxtest.Start(t, sandbox.Options{CloudWatchQueryOnly: true})
	dr := srv.Options().DRRegion
	names := srv.Options().Names
	rb := writeRunbook(t, fmt.Sprintf(`step "alarms_check" "health" {
  region = %q
  alarms = [%q]
}
`, dr, names.AlarmHealth))
	writeFile(t, filepath.Join(filepath.Dir(rb), estate.FileName), "cloudwatch_protocol = \"query\"\n")
	args := []string{"plan", rb, "--target", "sandbox", "--endpoint", srv.URL()}
	if code, stdout, stderr := cli(t, t.Context(), args...); code != exitOK || !strings.Contains(stdout, names.AlarmHealth) {
		t.Errorf("plan with the estate's query protocol: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, stdout, stderr := cli(t, t.Context(), append(args, "--cloudwatch-protocol", "cbor")...); code == exitOK || !strings.Contains(stdout+stderr, "--cloudwatch-protocol query") {
		t.Errorf("--cloudwatch-protocol cbor over the estate's query: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// A bad estate file, given or found, is a usage error with file:line:column
// before any AWS call, for every command that reads it.
func TestBadEstateFileRefusedBeforeAWS(t *testing.T) {
	srv, _ := sandboxtest.Start(t, sandbox.Options{})
	rb := writeRunbook(t, "step \"exec\" \"x\" {\n  command = [\"true\"]\n}\n")
	bad := filepath.Join(t.TempDir(), "acme.hcl")
	writeFile(t, bad, "bucket \"acme-logs\" {\n  role = \"logs\"\n}\n")
	beside := filepath.Join(filepath.Dir(rb), estate.FileName)
	writeFile(t, beside, "group \"batch-workers\" {\n  role = \"batch\"\n}\n")
	state := t.TempDir()
	target := []string{"--target", "sandbox", "--endpoint", srv.URL()}
	for _, c := range []struct {
		name string
		args []string
		at   string
	}{
		{"plan --estate", append([]string{"plan", rb, "--estate", bad}, target...), bad + ":2:3: error: Unknown role"},
		{"plan beside", append([]string{"plan", rb}, target...), beside + ":2:3: error: Unknown role"},
		{"run beside", append([]string{"run", rb, "--state-dir", state}, target...), beside + ":2:3"},
		{"drill --estate", append([]string{"drill", rb, "--estate", bad, "--state-dir", state}, target...), bad + ":2:3"},
		{"console --estate", append([]string{"--estate", bad}, target...), bad + ":2:3"},
		{"missing", append([]string{"plan", rb, "--estate", bad + ".none"}, target...), "read estate file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(srv.Requests())
			code, stdout, stderr := cli(t, t.Context(), c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.at) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, exitUsage, c.at, stdout, stderr)
			}
			if n := len(srv.Requests()) - before; n != 0 {
				t.Errorf("%d AWS calls before the refusal", n)
			}
		})
	}
	if runs, _ := (&journal.Store{Dir: state}).List(); len(runs) != 0 {
		t.Errorf("a refused start left %d runs in the state directory", len(runs))
	}
}
