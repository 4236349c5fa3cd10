package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/sandbox"
)

// awsCLI finds the AWS CLI the test drives: DRCONSOLE_AWSCLI, else
// /usr/bin/aws (by full path: another aws may come first on PATH).
func awsCLI(t *testing.T) string {
	t.Helper()
	p := os.Getenv("DRCONSOLE_AWSCLI")
	if p == "" {
		p = "/usr/bin/aws"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("AWS CLI not found at %s (set DRCONSOLE_AWSCLI or run make test-deps)", p)
		}
		t.Skipf("AWS CLI not found at %s; make test-deps installs it", p)
	}
	return p
}

// sandboxProc is `drconsole sandbox` running as a child process.
type sandboxProc struct {
	cmd      *exec.Cmd
	endpoint string
	env      map[string]string
	done     chan error
}

func startSandboxProc(t *testing.T, bin string, args ...string) *sandboxProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &sandboxProc{cmd: cmd, env: map[string]string{}, done: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	deadline := time.After(30 * time.Second)
	for p.env["AWS_SECRET_ACCESS_KEY"] == "" || p.env[sandbox.TokenEnv] == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("drconsole sandbox exited before printing its endpoint:\n%s", stderr.String())
			}
			if k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "="); ok && strings.HasPrefix(l, "export ") {
				p.env[k] = v
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("drconsole sandbox printed no endpoint within 30s:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines { //nolint:revive // drain so the child never blocks on stdout.
		}
	}()
	p.endpoint = p.env["AWS_ENDPOINT_URL"]
	t.Cleanup(func() { p.stop(t) })
	return p
}

// admin calls the sandbox's admin endpoint with the token it printed.
func (p *sandboxProc) admin(t tb, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, p.endpoint+"/_sandbox/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.env[sandbox.TokenEnv])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (p *sandboxProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("drconsole sandbox exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		t.Error("drconsole sandbox did not stop within 15s of SIGTERM")
	}
}

// cli runs the AWS CLI against the sandbox and returns stdout, stderr and
// whether it succeeded.
type cliRunner struct {
	aws  string
	p    *sandboxProc
	home string
}

func (c *cliRunner) env(overrides map[string]string) []string {
	env := []string{"HOME=" + c.home, "PATH=/usr/bin:/bin", "AWS_PAGER=",
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true"}
	vals := map[string]string{}
	for k, v := range c.p.env {
		vals[k] = v
	}
	for k, v := range overrides {
		vals[k] = v
	}
	for k, v := range vals {
		env = append(env, k+"="+v)
	}
	return env // AWS_CA_BUNDLE deliberately absent: the sandbox is plain HTTP.
}

func (c *cliRunner) run(overrides map[string]string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--no-cli-pager", "--output", "json", "--endpoint-url", c.p.endpoint}, args...)
	cmd := exec.CommandContext(ctx, c.aws, full...)
	cmd.Env = c.env(overrides)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs a command that must succeed and decodes its JSON output.
func (c *cliRunner) ok(t tb, args ...string) map[string]any {
	t.Helper()
	out, errOut, err := c.run(nil, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	m := map[string]any{}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: output is not a JSON object: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return m
}

// fails runs a command that must fail with the error code.
func (c *cliRunner) fails(t tb, code string, overrides map[string]string, args ...string) {
	t.Helper()
	_, errOut, err := c.run(overrides, args...)
	if err == nil || !strings.Contains(errOut, "("+code+")") {
		t.Fatalf("aws %s: want error %s, got %v\n%s", strings.Join(args, " "), code, err, errOut)
	}
}

func (c *cliRunner) advance(t *testing.T, d string) {
	t.Helper()
	resp := c.p.admin(t, http.MethodPost, "clock/advance?by="+d)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("advance clock: %s", resp.Status)
	}
}

func list(m map[string]any, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func field(v any, k string) string {
	m, _ := v.(map[string]any)
	s, _ := m[k].(string)
	return s
}

// tb is what a step of the CLI test uses of its test.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
	TempDir() string
}

// step is a tb for one concurrent step: failures are collected and
// reported by the test goroutine.
type step struct {
	name string
	dir  string
	mu   *sync.Mutex
	errs *[]string
}

func (s *step) Helper()         {}
func (s *step) TempDir() string { return s.dir }

func (s *step) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.errs = append(*s.errs, s.name+": "+fmt.Sprintf(format, args...))
}

func (s *step) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	runtime.Goexit()
}

func (s *step) Fatal(args ...any) { s.Fatalf("%s", fmt.Sprint(args...)) }

// parallel runs the steps of one phase concurrently, more of them than
// t.Parallel would on a small machine (each AWS CLI call spends most of
// its time starting Python), and fails the test if any failed.
func parallel(t *testing.T, phase string, steps map[string]func(t tb)) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	for name, f := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(&step{name: phase + "/" + name, dir: t.TempDir(), mu: &mu, errs: &errs})
		}()
	}
	wg.Wait()
	sort.Strings(errs)
	for _, e := range errs {
		t.Error(e)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
}

// TestSandboxWithAWSCLI drives each service of `drconsole sandbox` with the
// AWS CLI, a second client independent of aws-sdk-go-v2, under strict
// SigV4 verification.
func TestSandboxWithAWSCLI(t *testing.T) {
	aws := awsCLI(t)
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	bin := buildCLI(t)
	p := startSandboxProc(t, bin, "--strict-auth", "--seed", "3", "--warmup", "30s", "--replication-lag", "20s")
	c := &cliRunner{aws: aws, p: p, home: t.TempDir()}
	body := filepath.Join(c.home, "body.bin")
	if err := os.WriteFile(body, []byte("from the cli"), 0o600); err != nil {
		t.Fatal(err)
	}
	var vols []any
	var daily string

	parallel(t, "read", map[string]func(t tb){
		"sts": func(t tb) {
			if id := c.ok(t, "sts", "get-caller-identity"); id["Account"] != "123456789012" {
				t.Fatalf("get-caller-identity: %v", id)
			}
		},
		"bad-secret": func(t tb) {
			c.fails(t, "SignatureDoesNotMatch", map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}, "sts", "get-caller-identity")
		},
		"bad-key": func(t tb) {
			c.fails(t, "InvalidClientTokenId", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAWRONGKEY00000000"}, "ec2", "describe-volumes")
		},
		"volumes": func(t tb) {
			if vols = list(c.ok(t, "ec2", "describe-volumes", "--filters", "Name=tag:Name,Values=ai-dataset"), "Volumes"); len(vols) != 3 {
				t.Fatalf("describe-volumes: %d dataset volumes", len(vols))
			}
		},
		"instances": func(t tb) {
			if r := list(c.ok(t, "ec2", "describe-instances"), "Reservations"); len(r) != 5 {
				t.Fatalf("describe-instances: %d reservations, want 5 (4 serving, 1 data loader)", len(r))
			}
		},
		"volume-missing": func(t tb) {
			c.fails(t, "InvalidVolume.NotFound", nil, "ec2", "describe-volumes", "--volume-ids", "vol-0000000000000000")
		},
		"vaults": func(t tb) {
			if v := list(c.ok(t, "backup", "list-backup-vaults"), "BackupVaultList"); len(v) != 1 || field(v[0], "BackupVaultName") != "ai-dr-vault" {
				t.Fatalf("list-backup-vaults: %v", v)
			}
		},
		"vault-missing": func(t tb) {
			c.fails(t, "ResourceNotFoundException", nil, "backup", "describe-backup-vault", "--backup-vault-name", "nope")
		},
		"recovery-points": func(t tb) {
			rps := list(c.ok(t, "backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", "ai-dr-vault", "--by-resource-type", "S3"), "RecoveryPoints")
			for _, rp := range rps {
				if a := field(rp, "RecoveryPointArn"); !strings.Contains(a, ":continuous:") && field(rp, "Status") == "COMPLETED" && daily == "" {
					daily = a
				}
			}
			if daily == "" {
				t.Fatalf("no daily S3 recovery point: %v", rps)
			}
		},
		"efs": func(t tb) {
			if fss := list(c.ok(t, "efs", "describe-file-systems"), "FileSystems"); len(fss) != 1 || field(fss[0], "Name") != "ai-pipeline" {
				t.Fatalf("describe-file-systems: %v", fss)
			}
		},
		"versions": func(t tb) {
			if vers := list(c.ok(t, "s3api", "list-object-versions", "--bucket", "ai-model-artifacts", "--prefix", "models/llama-ft/"), "Versions"); len(vers) < 2 {
				t.Fatalf("list-object-versions: %d versions", len(vers))
			}
		},
	})

	parallel(t, "write", map[string]func(t tb){
		"snapshot": func(t tb) {
			snap := c.ok(t, "ec2", "create-snapshot", "--volume-id", field(vols[0], "VolumeId"), "--description", "cli",
				"--tag-specifications", "ResourceType=snapshot,Tags=[{Key=run,Value=cli}]")
			if snap["State"] != "pending" {
				t.Fatalf("create-snapshot: %v", snap)
			}
		},
		"scale": func(t tb) {
			c.ok(t, "autoscaling", "set-desired-capacity", "--region", "us-west-2", "--auto-scaling-group-name", "ai-inference-dr", "--desired-capacity", "2")
		},
		"scale-too-far": func(t tb) {
			c.fails(t, "ValidationError", nil, "autoscaling", "set-desired-capacity", "--region", "us-west-2", "--auto-scaling-group-name", "ai-inference-dr", "--desired-capacity", "20")
		},
		"put-alarm": func(t tb) {
			c.ok(t, "cloudwatch", "put-metric-alarm", "--alarm-name", "cli-alarm", "--namespace", "AWS/AutoScaling", "--metric-name", "GroupInServiceInstances",
				"--dimensions", "Name=AutoScalingGroupName,Value=ai-inference", "--statistic", "Minimum", "--period", "60",
				"--evaluation-periods", "1", "--threshold", "10", "--comparison-operator", "LessThanThreshold")
		},
		"alarm-missing": func(t tb) {
			c.fails(t, "ResourceNotFound", nil, "cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x")
		},
		"put-object": func(t tb) {
			c.ok(t, "s3api", "put-object", "--bucket", "ai-model-artifacts", "--key", "models/cli/model.bin", "--body", body)
		},
		"restore": func(t tb) {
			c.ok(t, "backup", "start-restore-job", "--recovery-point-arn", daily, "--iam-role-arn", "arn:aws:iam::123456789012:role/r",
				"--metadata", "DestinationBucketName=cli-restore,NewBucket=true", "--idempotency-token", "cli-1")
		},
	})
	c.advance(t, "5m")
	// SetAlarmState holds until the next evaluation, so it comes after the
	// clock has moved.
	c.ok(t, "cloudwatch", "set-alarm-state", "--region", "us-west-2", "--alarm-name", "ai-inference-5xx", "--state-value", "ALARM", "--state-reason", "cli drill")

	parallel(t, "check", map[string]func(t tb){
		"snapshot-volume": func(t tb) {
			snaps := list(c.ok(t, "ec2", "describe-snapshots", "--owner-ids", "self", "--filters", "Name=tag:run,Values=cli"), "Snapshots")
			if len(snaps) != 1 || field(snaps[0], "State") != "completed" {
				t.Fatalf("describe-snapshots: %v", snaps)
			}
			nv := c.ok(t, "ec2", "create-volume", "--snapshot-id", field(snaps[0], "SnapshotId"), "--availability-zone", "us-east-1b")
			c.ok(t, "ec2", "create-tags", "--resources", nv["VolumeId"].(string), "--tags", "Key=Name,Value=cli-restored")
			tags := list(c.ok(t, "ec2", "describe-tags", "--filters", "Name=resource-id,Values="+nv["VolumeId"].(string)), "Tags")
			if len(tags) != 1 || field(tags[0], "Value") != "cli-restored" {
				t.Fatalf("describe-tags: %v", tags)
			}
		},
		"fleet": func(t tb) {
			c.ok(t, "autoscaling", "update-auto-scaling-group", "--region", "us-west-2", "--auto-scaling-group-name", "ai-inference-dr", "--min-size", "1")
			groups := list(c.ok(t, "autoscaling", "describe-auto-scaling-groups", "--region", "us-west-2", "--auto-scaling-group-names", "ai-inference-dr"), "AutoScalingGroups")
			if len(groups) != 1 || len(list(groups[0].(map[string]any), "Instances")) != 2 {
				t.Fatalf("describe-auto-scaling-groups: %v", groups)
			}
			for _, in := range list(groups[0].(map[string]any), "Instances") {
				if field(in, "LifecycleState") != "InService" {
					t.Fatalf("instance after warm-up: %v", in)
				}
			}
		},
		"alarms": func(t tb) {
			alarms := c.ok(t, "cloudwatch", "describe-alarms", "--region", "us-west-2", "--alarm-types", "MetricAlarm", "CompositeAlarm")
			want := map[string]string{"ai-inference-5xx": "ALARM", "ai-inference-health": "ALARM", "ai-inference-p99": "OK", "ai-inference-dr-capacity": "OK"}
			for _, a := range append(list(alarms, "MetricAlarms"), list(alarms, "CompositeAlarms")...) {
				if w := want[field(a, "AlarmName")]; field(a, "StateValue") != w {
					t.Errorf("alarm %s is %s, want %s", field(a, "AlarmName"), field(a, "StateValue"), w)
				}
			}
			st := list(c.ok(t, "cloudwatch", "describe-alarms", "--state-value", "ALARM"), "MetricAlarms")
			if len(st) != 1 || field(st[0], "AlarmName") != "cli-alarm" {
				t.Fatalf("primary alarms in ALARM: %v", st)
			}
		},
		"metric-data": func(t tb) {
			md := c.ok(t, "cloudwatch", "get-metric-data", "--start-time", "2020-01-01T00:00:00Z", "--end-time", "2040-01-01T00:00:00Z",
				"--metric-data-queries", `[{"Id":"p","MetricStat":{"Metric":{"Namespace":"AWS/S3","MetricName":"OperationsPendingReplication","Dimensions":[{"Name":"SourceBucket","Value":"ai-model-artifacts"}]},"Period":60,"Stat":"Maximum"}}]`)
			if r := list(md, "MetricDataResults"); len(r) != 1 || len(list(r[0].(map[string]any), "Values")) != 1 {
				t.Fatalf("get-metric-data: %v", md)
			}
		},
		"metric-statistics": func(t tb) {
			gs := c.ok(t, "cloudwatch", "get-metric-statistics", "--region", "us-west-2", "--namespace", "AWS/AutoScaling", "--metric-name", "GroupInServiceInstances",
				"--dimensions", "Name=AutoScalingGroupName,Value=ai-inference-dr", "--start-time", "2020-01-01T00:00:00Z", "--end-time", "2040-01-01T00:00:00Z",
				"--period", "60", "--statistics", "Minimum")
			if dp := list(gs, "Datapoints"); len(dp) == 0 {
				t.Fatalf("get-metric-statistics: %v", gs)
			}
		},
		"get-object": func(t tb) {
			got := filepath.Join(t.TempDir(), "got.bin")
			c.ok(t, "s3api", "get-object", "--bucket", "ai-model-artifacts", "--key", "models/cli/model.bin", got)
			if b, _ := os.ReadFile(got); string(b) != "from the cli" {
				t.Fatalf("get-object: %q", b)
			}
		},
		"restore-done": func(t tb) {
			jobs := list(c.ok(t, "backup", "list-restore-jobs"), "RestoreJobs")
			if len(jobs) != 1 || field(jobs[0], "Status") != "COMPLETED" || field(jobs[0], "CreatedResourceArn") != "arn:aws:s3:::cli-restore" {
				t.Fatalf("list-restore-jobs: %v", jobs)
			}
			c.ok(t, "backup", "describe-restore-job", "--restore-job-id", field(jobs[0], "RestoreJobId"))
			if objs := list(c.ok(t, "s3api", "list-objects-v2", "--bucket", "cli-restore"), "Contents"); len(objs) == 0 {
				t.Fatal("the restored bucket is empty")
			}
		},
	})

	// The request log saw every call.
	resp := p.admin(t, http.MethodGet, "requests?mutating=true")
	defer resp.Body.Close()
	var recs []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, r := range recs {
		ops[r["operation"].(string)] = true
	}
	for _, op := range []string{"CreateSnapshot", "SetDesiredCapacity", "PutMetricAlarm", "PutObject", "StartRestoreJob", "CreateVolume"} {
		if !ops[op] {
			t.Errorf("the request log has no mutating %s", op)
		}
	}
}

func TestSandboxCommandFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runSandbox([]string{"--addr", "0.0.0.0:0"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "loopback only") {
		t.Fatalf("non-loopback address: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := runSandbox([]string{"--fault", "meteor:1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown fault kind") {
		t.Fatalf("bad fault: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := runSandbox([]string{"--pace", "ludicrous"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "want real or quick") {
		t.Fatalf("bad pace: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := runSandbox([]string{"extra"}, &out, &errb); code != 2 {
		t.Fatalf("extra argument: exit %d", code)
	}
	errb.Reset()
	t.Setenv(sandbox.TokenEnv, "guessable")
	if code := runSandbox(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), sandbox.TokenEnv) || strings.Contains(errb.String(), "guessable") {
		t.Fatalf("short token: exit %d, %s", code, errb.String())
	}
}

// `drconsole sandbox` prints its admin token for the commands that steer
// it, or serves the one it is given, and refuses admin requests without
// it; the AWS API is answered as before.
func TestSandboxCommandAdminToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	t.Setenv(sandbox.TokenEnv, "")
	p := startSandboxProc(t, bin, "--empty")
	drawn := p.env[sandbox.TokenEnv]
	if len(drawn) < 32 {
		t.Fatalf("printed token %q", drawn)
	}
	if resp := p.admin(t, http.MethodGet, "faults"); resp.StatusCode != 200 {
		t.Fatalf("admin with the printed token: %s", resp.Status)
	}
	resp, err := http.Get(p.endpoint + "/_sandbox/faults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin without the token: %s", resp.Status)
	}

	// It answers at the real pace unless told: the console's embedded
	// sandbox runs quick, and an RTO is comparable only at one pace.
	if got := sandbox.PaceOf(resp.Header.Get(sandbox.IdentityHeader)); got != sandbox.PaceReal {
		t.Errorf("default pace %q", got)
	}
	quick := startSandboxProc(t, bin, "--empty", "--pace", "quick")
	resp, err = http.Get(quick.endpoint + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := sandbox.PaceOf(resp.Header.Get(sandbox.IdentityHeader)); got != sandbox.PaceQuick {
		t.Errorf("--pace quick answers pace %q", got)
	}

	chosen := "chosen-for-this-script-0123456789"
	t.Setenv(sandbox.TokenEnv, chosen)
	if q := startSandboxProc(t, bin, "--empty"); q.env[sandbox.TokenEnv] != chosen {
		t.Fatalf("given %q, printed %q", chosen, q.env[sandbox.TokenEnv])
	}
}
