package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/testutil/s3versions"
)

const droppedRunbook = `
variable "restore_to" {
  type = string
}

step "s3_restore" "models" {
  bucket        = "dropped-src"
  prefix        = "m/"
  target_bucket = "dropped-dst"
  target_prefix = "r/"
  to_time       = var.restore_to
}
`

// In real processes: a sandbox started with --fault drop on every tenth
// S3 write cuts the answers of writes it applied; the restore still
// succeeds, no key gains more than its one version or delete marker, and
// the journal's records name exactly the versions the restore added.
func TestDroppedWritesThroughProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ctx := t.Context()
	bin := buildCLI(t)
	state := t.TempDir()
	rb := writeRunbook(t, droppedRunbook)
	p := startSandboxProc(t, bin, "--empty", "--fault", "drop,service=s3,writes=true,every=10")
	clients, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: p.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := clients.S3(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	// The restore mirrors 20 source keys into a target holding 5 others:
	// 20 copies and 5 delete markers. The fault counts the test's own
	// writes too, and cuts the 10th and 20th (puts of source keys), which
	// the SDK sends again: a second version with the same content, which
	// changes nothing the restore does.
	const src, dst = "dropped-src", "dropped-dst"
	for _, b := range []string{src, dst} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(b, k string) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		put(src, fmt.Sprintf("m/%02d", i))
	}
	for i := range 5 {
		put(dst, fmt.Sprintf("r/junk-%d", i))
	}
	before := s3versions.List(t, ctx, s3c, dst, "r/")
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out, err := exec.Command(bin, "run", rb, "--target", "sandbox", "--endpoint", p.endpoint, "--state-dir", state,
		"--var", "restore_to="+at, "--auto-approve", "--output", "json").CombinedOutput()
	if code := exitCode(t, err); code != exitOK {
		t.Fatalf("run with every tenth write dropped: exit %d\n%s", code, out)
	}
	var counts map[string]int
	for _, line := range strings.Split(string(out), "\n") {
		var e runbook.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind == runbook.StepFinished && e.Node == "step.s3_restore.models" {
			if err := json.Unmarshal(e.Outputs, &counts); err != nil {
				t.Fatal(err)
			}
		}
	}
	if counts["copied"] != 20 || counts["deleted"] != 5 {
		t.Fatalf("outputs %v: want 20 copied and 5 deleted", counts)
	}

	runs, err := (&journal.Store{Dir: state}).List()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	events, err := (&journal.Store{Dir: state}).Events(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string][]string{}
	for _, e := range events {
		if e.Kind != runbook.StepLog || !strings.HasPrefix(e.Line, "{") {
			continue
		}
		for _, line := range strings.Split(e.Line, "\n") {
			var rec struct {
				Key           string   `json:"key"`
				NewVersion    string   `json:"new_version"`
				ExtraVersions []string `json:"extra_versions"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("record %q: %v", line, err)
			}
			named[rec.Key] = append([]string{rec.NewVersion}, rec.ExtraVersions...)
		}
	}
	if len(named) != counts["copied"]+counts["deleted"] {
		t.Errorf("%d records for %v", len(named), counts)
	}
	after := s3versions.List(t, ctx, s3c, dst, "r/")
	for k := range after {
		added := s3versions.Added(before, after, k)
		want := slices.Clone(named[k])
		sort.Strings(want)
		if !slices.Equal(added, want) || len(added) > 1 {
			t.Errorf("%s: the restore added %q, the journal names %q", k, added, want)
		}
	}
}
