// Package estatetest starts the seeded sandbox estate for end-to-end tests
// of runbooks and drills, with drconsole's clients for it and the test's own.
package estatetest

import (
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
}

// Start serves the seeded estate until the test ends, with snapshots,
// instance warm-up and restore jobs taking wait, so waits end quickly but
// are still waits. drconsole's back-off is capped at wait too, which keeps
// retries under injected faults fast; the retry policy is otherwise the one
// drconsole runs with.
func Start(t testing.TB, wait time.Duration) *Estate {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, sandbox.Options{
		Seed:             1,
		SnapshotDuration: wait,
		InstanceWarmup:   wait,
		RestoreDuration:  wait,
	})
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL(), MaxBackoff: wait})
	if err != nil {
		t.Fatalf("clients for the sandbox: %v", err)
	}
	return &Estate{Server: srv, Clients: clients, Config: cfg,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
}
