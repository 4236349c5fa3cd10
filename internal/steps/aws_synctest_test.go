package steps

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// inProcessClient sends the SDK's requests straight to a handler, so a
// sandbox and the steps calling it can share a synctest bubble (a socket
// would not let the bubble's clock move).
type inProcessClient struct{ h http.Handler }

func (c inProcessClient) Do(r *http.Request) (*http.Response, error) {
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	r.RequestURI = r.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// bubbleEstate is a sandbox on the bubble's fake clock with the clients the
// step types take.
func bubbleEstate(t *testing.T, o sandbox.Options) runbook.Registry {
	t.Helper()
	_, reg := bubbleServer(t, o)
	return reg
}

// bubbleServer is bubbleEstate with its sandbox, for tests that change it
// while steps run; opts adjust the clients' configuration.
func bubbleServer(t *testing.T, o sandbox.Options, opts ...func(*aws.Config)) (*sandbox.Server, runbook.Registry) {
	t.Helper()
	srv, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.DefaultAccessKeyID, sandbox.DefaultSecretAccessKey, ""),
		BaseEndpoint: aws.String("http://sandbox.test"),
		HTTPClient:   inProcessClient{srv},
	}
	for _, f := range opts {
		f(&cfg)
	}
	return srv, Registry(Deps{AWS: awsx.FromConfig(cfg)})
}

// ebs_snapshot through the SDK and the sandbox on a fake clock: snapshots
// that take three hours are waited for when wait_for allows it (not the
// SDK waiter's ten minutes), and the bound holds when it does not.
func TestEBSSnapshotWaitsHoursOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		types := bubbleEstate(t, sandbox.Options{SnapshotDuration: 3 * time.Hour})
		typ := types["ebs_snapshot"]
		cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
wait_for      = "4h"
poll_interval = "1m"
`)
		start := time.Now()
		out, err := typ.Apply(t.Context(), (&recorder{}).sc(t, "run-long", "step.ebs_snapshot.datasets"), cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if el := time.Since(start); el < 3*time.Hour || el > 3*time.Hour+2*time.Minute {
			t.Errorf("completed after %s of fake time, want just over 3h", el)
		}
		if n := out.GetAttr("snapshot_ids").LengthInt(); n != 3 {
			t.Errorf("%d snapshots", n)
		}

		short := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
volumes       = { tags = { Name = "ai-dataset" } }
wait_for      = "1h"
poll_interval = "1m"
`)
		start = time.Now()
		_, err = typ.Apply(t.Context(), (&recorder{}).sc(t, "run-short", "step.ebs_snapshot.datasets"), short)
		if err == nil || !strings.Contains(err.Error(), "still pending") {
			t.Fatalf("err = %v, want snapshots still pending", err)
		}
		if el := time.Since(start); el != time.Hour {
			t.Errorf("gave up after %s, want 1h", el)
		}
	})
}

// asg_scale on a fake clock: a fleet that takes 40 minutes to warm up is
// waited for within the step's timeout, taken from the context.
func TestASGScaleWaitsForSlowWarmupOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		types := bubbleEstate(t, sandbox.Options{InstanceWarmup: 40 * time.Minute})
		typ := types["asg_scale"]
		cfg := decodeStep(t, typ.Spec(), `
region        = "us-west-2"
group         = "ai-inference-dr"
desired       = 4
poll_interval = "30s"
`)
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		start := time.Now()
		out, err := typ.Apply(ctx, (&recorder{}).sc(t, "run-warm", "step.asg_scale.serving"), cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if el := time.Since(start); el < 40*time.Minute || el > 41*time.Minute {
			t.Errorf("in service after %s of fake time, want just over 40m", el)
		}
		if num(out.GetAttr("in_service")) != 4 {
			t.Errorf("outputs %#v", out)
		}
	})
}

// backup_restore on a fake clock: a two-hour restore job is followed to
// COMPLETED, reporting its percentage on the way.
func TestBackupRestoreWaitsOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		types := bubbleEstate(t, sandbox.Options{RestoreDuration: 2 * time.Hour})
		typ := types["backup_restore"]
		cfg := decodeStep(t, typ.Spec(), `
region        = "us-east-1"
vault         = "ai-dr-vault"
resource_arn  = "arn:aws:s3:::ai-model-artifacts"
to_time       = "`+time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339)+`"
target_bucket = "ai-model-artifacts-restored"
wait_for      = "3h"
poll_interval = "5m"
`)
		rec := &recorder{}
		start := time.Now()
		out, err := typ.Apply(t.Context(), rec.sc(t, "run-slow-restore", "step.backup_restore.models"), cfg)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if el := time.Since(start); el < 2*time.Hour || el > 2*time.Hour+5*time.Minute {
			t.Errorf("completed after %s of fake time, want just over 2h", el)
		}
		if got := out.GetAttr("created_resource_arn").AsString(); got != "arn:aws:s3:::ai-model-artifacts-restored" {
			t.Errorf("created %q", got)
		}
		var partial int
		for _, p := range rec.progress {
			if p[0] > 0 && p[0] < 100 {
				partial++
			}
		}
		if partial < 10 || rec.last() != [2]int64{100, 100} {
			t.Errorf("progress %v: want the job's percentage along the way, then 100", rec.progress)
		}
	})
}
