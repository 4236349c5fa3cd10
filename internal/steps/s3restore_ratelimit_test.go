package steps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
	"github.com/drconsole/drconsole/internal/testutil/pipenet"
)

// rateLimited is a restore of keys in one prefix, every one of them
// changed since T, against a sandbox whose CopyObject is limited to perSec
// a second in that prefix (as S3 limits a prefix's writes) and whose every
// S3 request takes rtt, as a region's round trip does.
type rateLimited struct {
	keys   int
	perSec float64
	rtt    time.Duration
}

const rateLimitedRunbook = `
variable "bucket" {
  type = string
}

variable "restore_to" {
  type = string
}

step "s3_restore" "models" {
  region      = "us-east-1"
  bucket      = var.bucket
  prefix      = "models/"
  to_time     = var.restore_to
  concurrency = 64
}
`

// ideal is the time the limit allows the copies at best.
func (rl rateLimited) ideal() time.Duration {
	return time.Duration(float64(rl.keys) / rl.perSec * float64(time.Second))
}

// seed writes every key twice, T between the versions, and returns T.
func (rl rateLimited) seed(t testing.TB, s3c *s3.Client, bucket string, pause func()) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(body string) {
		for i := range rl.keys {
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("models/shard-%05d.bin", i)),
				Body: strings.NewReader(fmt.Sprintf("%s %d", body, i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("good")
	pause()
	at := time.Now().UTC().Format(time.RFC3339Nano)
	pause()
	put("bad")
	return at
}

func (rl rateLimited) faults() []sandbox.Fault {
	return []sandbox.Fault{
		{Kind: sandbox.FaultLatency, Service: "s3", Latency: rl.rtt},
		{Kind: sandbox.FaultThrottle, Service: "s3", Operation: "CopyObject", PerSecond: rl.perSec},
	}
}

// run restores through the run engine with drconsole's call watch, and
// checks every key is back to its version at T.
func (rl rateLimited) run(t testing.TB, srv *sandbox.Server, reg runbook.Registry, s3c *s3.Client, bucket, at string, interval time.Duration) (time.Duration, *eventlog.Log) {
	t.Helper()
	rb, diags := runbook.Parse(map[string][]byte{"restore.hcl": []byte(rateLimitedRunbook)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	srv.SetFaults(rl.faults())
	defer srv.SetFaults(nil)
	sink := &eventlog.Log{}
	start := time.Now()
	res := runbook.Execute(context.Background(), rb, runbook.Options{RunID: "rate-limited", AutoApprove: true, Sink: sink,
		Vars:      map[string]cty.Value{"bucket": cty.StringVal(bucket), "restore_to": cty.StringVal(at)},
		CallWatch: awsx.WatchCalls, RetrySummaryInterval: interval})
	took := time.Since(start)
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("restore under the rate limit: %s: %v", res.Status, res.Err)
	}
	srv.SetFaults(nil)
	for i := range rl.keys {
		out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("models/shard-%05d.bin", i))})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(body), fmt.Sprintf("good %d", i); got != want {
			t.Fatalf("key %d after the restore: %q, want %q", i, got, want)
		}
	}
	return took, sink
}

// pipeServer serves h over in-memory connections until the test ends, and
// returns the client drconsole's own clients (awsx.New, with its retryer
// and watch) reach it through, so that they can run in a synctest bubble.
func pipeServer(t testing.TB, h http.Handler) *awshttp.BuildableClient {
	ln := pipenet.New()
	hs := &http.Server{Handler: h}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = ln.Dial })
}

// A restore against a prefix that allows fewer copies a second than it is
// asked for finishes correct, the run saying that S3 throttled it and how
// its concurrency fell and came back, within a small factor of the time
// the limit allows; on the fake clock, with drconsole's own retries.
func TestRestoreUnderARateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := sandbox.New(sandbox.Options{Seed: 1, Empty: true})
		if err != nil {
			t.Fatal(err)
		}
		clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: "http://sandbox.test", HTTPClient: pipeServer(t, srv)})
		if err != nil {
			t.Fatal(err)
		}
		s3c, err := clients.S3(t.Context(), "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		rl := rateLimited{keys: 400, perSec: 50, rtt: 20 * time.Millisecond}
		const bucket = "acme-ml-models"
		at := rl.seed(t, s3c, bucket, func() { time.Sleep(time.Minute) })
		took, sink := rl.run(t, srv, Registry(Deps{AWS: clients}), s3c, bucket, at, 2*time.Second)

		var lines []string
		throttled, fell := false, false
		for _, e := range sink.Events() {
			if e.Kind == runbook.StepLog && strings.Contains(e.Line, "concurrency now") {
				lines = append(lines, e.Line)
				throttled = throttled || strings.HasPrefix(e.Line, "throttled: ")
				fell = fell || strings.Contains(e.Line, "(from 64)")
			}
		}
		if !throttled || !fell {
			t.Errorf("the run does not say it was throttled and how its concurrency fell:\n%s", strings.Join(lines, "\n"))
		}
		t.Logf("%d copies at %v/s: %s on the fake clock, %.1f× the ideal %s\n%s", rl.keys, rl.perSec, took,
			took.Seconds()/rl.ideal().Seconds(), rl.ideal(), strings.Join(lines, "\n"))
		if took > 4*rl.ideal() {
			t.Errorf("took %s, over four times the %s the limit allows", took, rl.ideal())
		}
	})
}

// BenchmarkS3RestoreRateLimited restores 2,000 keys of one prefix whose
// copies S3 limits to 500 a second, each request taking 10ms, over
// loopback with drconsole's own clients, and prints the time against the
// ideal the limit allows.
func BenchmarkS3RestoreRateLimited(b *testing.B) {
	rl := rateLimited{keys: 2000, perSec: 500, rtt: 10 * time.Millisecond}
	for range b.N {
		b.StopTimer()
		srv, _ := sandboxtest.Start(b, sandbox.Options{Seed: 1, Empty: true})
		clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL()})
		if err != nil {
			b.Fatal(err)
		}
		s3c, err := clients.S3(context.Background(), "us-east-1")
		if err != nil {
			b.Fatal(err)
		}
		const bucket = "bench-models"
		at := rl.seed(b, s3c, bucket, func() {
			if _, err := srv.AdvanceClock(time.Minute); err != nil {
				b.Fatal(err)
			}
		})
		b.StartTimer()
		took, sink := rl.run(b, srv, Registry(Deps{AWS: clients}), s3c, bucket, at, time.Second)
		b.StopTimer()
		throttles := 0
		for _, r := range srv.Requests() {
			if r.Operation == "CopyObject" && r.Status == http.StatusServiceUnavailable {
				throttles++
			}
		}
		b.ReportMetric(took.Seconds(), "restore-s")
		b.ReportMetric(rl.ideal().Seconds(), "ideal-s")
		b.ReportMetric(took.Seconds()/rl.ideal().Seconds(), "x-ideal")
		b.ReportMetric(float64(throttles)/float64(rl.keys), "throttles/copy")
		for _, e := range sink.Events() {
			if e.Kind == runbook.StepLog && strings.Contains(e.Line, "concurrency now") {
				b.Log(e.Line)
			}
		}
		b.StartTimer()
	}
}
