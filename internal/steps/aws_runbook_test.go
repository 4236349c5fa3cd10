package steps

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/eventlog"
)

// failoverRunbook chains the AWS step types the way a failover does:
// snapshot the datasets, restore the model bucket from backup, a gate, scale
// the DR fleet, check its alarms and the replication, then scale back to
// what the fleet had (an input only known once the scale-up ran).
const failoverRunbook = `
runbook {
  description = "Fail model serving over to the DR region"
}

variable "restore_to" {
  type = string
}

step "ebs_snapshot" "datasets" {
  region        = "us-east-1"
  volumes       = { tags = { Name = "ai-dataset" } }
  poll_interval = "20ms"
  timeout       = "2m"
}

step "backup_restore" "models" {
  region        = "us-east-1"
  vault         = "ai-dr-vault"
  resource_arn  = "arn:aws:s3:::ai-model-artifacts"
  to_time       = var.restore_to
  poll_interval = "20ms"
  depends_on    = [step.ebs_snapshot.datasets]
}

gate "failover" {
  prompt = "Restored into ${step.backup_restore.models.created_resource_arn}. Scale the DR fleet?"
}

step "asg_scale" "serving" {
  region        = "us-west-2"
  group         = "ai-inference-dr"
  desired       = 2
  poll_interval = "20ms"
  timeout       = "2m"
  depends_on    = [gate.failover]
}

step "alarms_check" "health" {
  region        = "us-west-2"
  alarms        = ["ai-inference-dr-capacity", "ai-inference-health"]
  expect        = "OK"
  within        = "1m"
  poll_interval = "20ms"
  depends_on    = [step.asg_scale.serving]
}

step "replication_check" "models" {
  region        = "us-east-1"
  bucket        = "ai-model-artifacts"
  max_lag       = "15m"
  max_pending   = 100
  poll_interval = "20ms"
}

step "asg_scale" "back" {
  region        = "us-west-2"
  group         = "ai-inference-dr"
  desired       = step.asg_scale.serving.previous_desired
  poll_interval = "20ms"
  timeout       = "2m"
  depends_on    = [step.alarms_check.health]
}

output "snapshots" { value = step.ebs_snapshot.datasets.snapshot_ids }
output "restored"  { value = step.backup_restore.models.created_resource_arn }
output "states"    { value = step.alarms_check.health.states }
`

func engineClients(t *testing.T, srv *sandbox.Server, cfg aws.Config, readOnly bool) *awsx.Clients {
	t.Helper()
	c, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL(), Credentials: cfg.Credentials, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The AWS step types through the engine: a dry-run with read-only clients
// plans every step and sends no mutating request; the run then reaches the
// final state, with the scale-back fed by the scale-up's outputs.
func TestAWSRunbookThroughEngine(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, fastOptions())
	rb, diags := runbook.Parse(map[string][]byte{"failover.hcl": []byte(failoverRunbook)}, Registry(Deps{AWS: engineClients(t, srv, cfg, true)}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	at := srv.Now().Add(-26 * time.Hour).UTC().Format(time.RFC3339)
	vars := map[string]cty.Value{"restore_to": cty.StringVal(at)}

	sink := &eventlog.Log{}
	n := len(srv.Requests())
	res := runbook.Execute(t.Context(), rb, runbook.Options{RunID: "dry", DryRun: true, Vars: vars, Sink: sink,
		Registry: Registry(Deps{AWS: engineClients(t, srv, cfg, true)})})
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("dry-run: %s: %v", res.Status, res.Err)
	}
	for _, r := range srv.Requests()[n:] {
		if r.Mutating {
			t.Errorf("dry-run sent %s %s", r.Service, r.Operation)
		}
	}
	plan := strings.Join(sink.Changes(runbook.StepPlanned), "\n")
	for _, want := range []string{
		"step.ebs_snapshot.datasets: CreateSnapshot vol-",
		"step.backup_restore.models: StartRestoreJob arn:aws:backup:us-east-1:",
		":recovery-point:continuous:ai-model-artifacts-",
		"-> new bucket ai-model-artifacts-restore-",
		"step.asg_scale.serving: SetDesiredCapacity ai-inference-dr 0 -> 2",
		"step.alarms_check.health: check alarms ai-inference-dr-capacity, ai-inference-health expect OK within 1m0s",
		"step.replication_check.models: check replication ai-model-artifacts -> ai-model-artifacts-dr",
		"step.asg_scale.back: SetDesiredCapacity ai-inference-dr 0 -> (known at apply)",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}

	// The real run. Instances leave a group 20s of sandbox time after
	// termination: the scale-back's first progress report, which follows
	// its write, moves the sandbox clock past that.
	var advanced sync.Once
	realSink := runbook.SinkFunc(func(e runbook.Event) error {
		if e.Kind == runbook.StepProgress && e.Node == "step.asg_scale.back" {
			advanced.Do(func() { _, _ = srv.AdvanceClock(time.Minute) })
		}
		return nil
	})
	res = runbook.Execute(t.Context(), rb, runbook.Options{RunID: "real", AutoApprove: true, Vars: vars, Sink: realSink,
		Registry: Registry(Deps{AWS: engineClients(t, srv, cfg, false)})})
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("run: %s: %v (failed %v)", res.Status, res.Err, res.Failed)
	}
	if got := res.Outputs["snapshots"].LengthInt(); got != 3 {
		t.Errorf("%d snapshots", got)
	}
	if got := res.Outputs["restored"].AsString(); !strings.HasPrefix(got, "arn:aws:s3:::ai-model-artifacts-restore-") {
		t.Errorf("restored %q", got)
	}
	if got := res.Outputs["states"].Index(cty.StringVal("ai-inference-dr-capacity")).AsString(); got != "OK" {
		t.Errorf("capacity alarm %s after the scale-up", got)
	}
	asc, _ := engineClients(t, srv, cfg, true).AutoScaling(t.Context(), "us-west-2")
	g, err := describeGroup(t.Context(), asc, "ai-inference-dr")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(g.DesiredCapacity) != 0 || len(g.Instances) != 0 {
		t.Errorf("after the scale-back: desired %d, %d instances", aws.ToInt32(g.DesiredCapacity), len(g.Instances))
	}
}
