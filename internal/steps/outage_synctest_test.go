package steps

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
)

const outageRunbook = `
runbook {
  unavailable_after = "90s"
}

variable "bucket" {
  type = string
}

variable "restore_to" {
  type = string
}

step "s3_restore" "models" {
  region  = "us-east-1"
  bucket  = var.bucket
  prefix  = "models/"
  to_time = var.restore_to
  timeout = "2h"
}
`

// A region outage set while a restore runs fails the step within
// unavailable_after of the first failed call, plus at most one of the
// SDK's backoffs, naming the region, the service and the last error, and
// saying what was done so far; the SDK's retries were told as they
// happened. All on the fake clock, through the SDK and the sandbox.
func TestRestoreFailsFastWhenTheRegionStopsAnswering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The CLI's retries: eight attempts, backing off up to 20s, so
		// that each copy alone would retry for over a minute.
		down := &outageAfter{}
		srv, reg := bubbleServer(t, sandbox.Options{Seed: 1, Empty: true}, func(c *aws.Config) {
			c.HTTPClient = down
			c.Retryer = func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts, o.MaxBackoff = 8, awsx.DefaultMaxBackoff
					o.Backoff = retry.NewExponentialJitterBackoff(awsx.DefaultMaxBackoff)
					o.RateLimiter = ratelimit.None
				})
			}
		})
		down.srv = srv
		const bucket, keys = "acme-ml-models", 300
		s3c := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.test"), HTTPClient: inProcessClient{srv},
			Credentials: credentials.NewStaticCredentialsProvider(sandbox.DefaultAccessKeyID, sandbox.DefaultSecretAccessKey, "")},
			func(o *s3.Options) { o.UsePathStyle = true })
		ctx := t.Context()
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		put := func(body string) {
			for i := range keys {
				if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("models/m%03d.bin", i)),
					Body: strings.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		put("good")
		time.Sleep(time.Hour)
		at := time.Now().UTC().Format(time.RFC3339)
		time.Sleep(time.Hour)
		put("bad")
		rb, diags := runbook.Parse(map[string][]byte{"outage.hcl": []byte(outageRunbook)}, reg)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		vars := map[string]cty.Value{"bucket": cty.StringVal(bucket), "restore_to": cty.StringVal(at)}
		// The region goes down once the restore is under way: its first
		// 20 copies are answered, every call after them is not.
		down.copies = 20
		sink := &eventlog.Log{}
		start := time.Now()
		res := runbook.Execute(t.Context(), rb, runbook.Options{RunID: "outage", Vars: vars, Sink: sink, CallWatch: awsx.WatchCalls, AutoApprove: true})
		took := time.Since(start)
		if res.Status != runbook.StatusFailed {
			t.Fatalf("status %s: %v", res.Status, res.Err)
		}
		if took > 90*time.Second+awsx.DefaultMaxBackoff+time.Second {
			t.Errorf("failed after %s on the fake clock, want within 90s and one backoff", took)
		}
		var failed *runbook.Event
		for _, e := range sink.Events() {
			if e.Kind == runbook.StepFailed {
				failed = &e
			}
		}
		if failed == nil {
			t.Fatal("no step_failed")
		}
		for _, want := range []string{"us-east-1 s3 is not answering", "ServiceUnavailable", "the step: s3_restore: "} {
			if !strings.Contains(failed.Error, want) {
				t.Errorf("step_failed %q: want it to say %q", failed.Error, want)
			}
		}
		var told bool
		for _, e := range sink.Events() {
			told = told || (e.Kind == runbook.StepRetried && strings.HasPrefix(e.Call, "s3 ") && strings.HasSuffix(e.Call, " in us-east-1"))
		}
		if !told {
			t.Error("no retried call was told")
		}
		t.Logf("failed after %s: %s", took, failed.Error)

		// Without the watch the same outage holds the step for as long as
		// every copy's retries last.
		srv.SetFaults(nil)
		put("bad again")
		down.mu.Lock()
		down.seen = 0
		down.mu.Unlock()
		sink = &eventlog.Log{}
		start = time.Now()
		res = runbook.Execute(t.Context(), rb, runbook.Options{RunID: "unwatched", Vars: vars, Sink: sink, AutoApprove: true})
		if unwatched := time.Since(start); res.Status != runbook.StatusFailed || unwatched < 3*took {
			t.Errorf("unwatched: %s after %s, want a failure long after the watched one's %s", res.Status, unwatched, took)
		} else {
			t.Logf("unwatched, the same outage held the step for %s", unwatched)
		}
	})
}

// outageAfter passes requests to the sandbox and, once it has served
// copies CopyObject requests, sets an outage of us-east-1 on it: a region
// that goes down while a restore is under way.
type outageAfter struct {
	srv    *sandbox.Server
	copies int
	mu     sync.Mutex
	seen   int
}

func (o *outageAfter) Do(r *http.Request) (*http.Response, error) {
	resp, err := inProcessClient{o.srv}.Do(r)
	if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
		o.mu.Lock()
		o.seen++
		if o.seen == o.copies {
			o.srv.SetFaults([]sandbox.Fault{{Kind: sandbox.FaultOutage, Region: "us-east-1"}})
		}
		o.mu.Unlock()
	}
	return resp, err
}
