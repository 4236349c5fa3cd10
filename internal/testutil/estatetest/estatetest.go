// Package estatetest starts the seeded sandbox estate for end-to-end tests
// of runbooks and drills, with drconsole's clients for it and the test's own.
package estatetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// Estate is a running seeded sandbox.
type Estate struct {
	Server  *sandbox.Server
	Clients *awsx.Clients // drconsole's, as its step types use them
	Config  aws.Config    // the test's own, to look at what changed
	S3      *s3.Client    // the test's own, path-style
	Names   sandbox.Names // what the estate is called, defaults filled in

	tap *tap // nil unless Options.Tap
}

// Options say what Start seeds and how drconsole's clients reach it.
type Options struct {
	// Wait is how long snapshots, instance warm-up and restore jobs take,
	// so waits end quickly but are still waits. drconsole's back-off is
	// capped at Wait too, which keeps retries under injected faults fast;
	// the retry policy is otherwise the one drconsole runs with.
	Wait time.Duration
	// Names are what the estate is seeded under; empty fields take
	// sandbox.DefaultNames'.
	Names sandbox.Names
	// Tap puts a loopback proxy between drconsole's clients and the
	// sandbox that keeps every byte they send, for Sent: what drconsole
	// asked for, on the wire, whatever the protocol. The test's own
	// clients (Config, S3) reach the sandbox directly.
	Tap bool
}

// Start serves the default seeded estate until the test ends, with waits
// of wait (see Options.Wait).
func Start(t testing.TB, wait time.Duration) *Estate {
	t.Helper()
	return StartWith(t, Options{Wait: wait})
}

// StartWith serves the seeded estate o describes until the test ends.
func StartWith(t testing.TB, o Options) *Estate {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, sandbox.Options{
		Seed:             1,
		SnapshotDuration: o.Wait,
		InstanceWarmup:   o.Wait,
		RestoreDuration:  o.Wait,
		Names:            o.Names,
	})
	e := &Estate{Server: srv, Config: cfg, Names: srv.Options().Names,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
	endpoint := srv.URL()
	if o.Tap {
		e.tap = startTap(t, endpoint)
		endpoint = e.tap.url()
	}
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: endpoint, MaxBackoff: o.Wait})
	if err != nil {
		t.Fatalf("clients for the sandbox: %v", err)
	}
	e.Clients = clients
	return e
}

// Sent is every byte drconsole's clients have sent so far, connection by
// connection; nil unless the estate was started with Options.Tap.
func (e *Estate) Sent() []byte {
	if e.tap == nil {
		return nil
	}
	return e.tap.sent()
}

// AcmeNames are an estate named like a company's: no name is, or contains,
// one of sandbox.DefaultNames' but the regions and the models prefix,
// which are ordinary words of any estate. Seeding under them shows that no
// default name hides in drconsole's code or its runbooks.
func AcmeNames() sandbox.Names {
	return sandbox.Names{
		ModelBucket:     "acme-ml-models",
		ReplicaBucket:   "acme-ml-models-dr",
		ReplicationRule: "acme-models-to-dr",
		LogsBucket:      "acme-logs",
		BackupVault:     "acme-dr-vault",
		BackupPlan:      "acme-nightly",
		PrimaryGroup:    "serving",
		DRGroup:         "serving-standby",
		BatchGroup:      "acme-batch",
		LaunchTemplate:  "serving-gpu",
		DatasetTag:      "acme-dataset",
		ScratchTag:      "acme-scratch",
		DataLoader:      "acme-data-loader",
		PipelineFS:      "acme-pipeline",
		Alarm5xx:        "serving-5xx",
		AlarmP99:        "serving-p99",
		AlarmHealth:     "serving-health",
		AlarmDRCapacity: "serving-standby-capacity",
	}
}

// ReplacedDefaults are the default names n replaces: those an estate named
// n must never hear of, in a request or a run's events.
func ReplacedDefaults(n sandbox.Names) []string {
	var out []string
	nv, dv := reflect.ValueOf(n), reflect.ValueOf(sandbox.DefaultNames())
	for i := range nv.NumField() {
		if s, d := nv.Field(i).String(), dv.Field(i).String(); s != "" && s != d {
			out = append(out, d)
		}
	}
	return out
}
