package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/inventory"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// TestSandboxPrintVarsAndNames: --print-vars writes the estate's names as
// a variables file, --names seeds under the names such a file gives, and
// the two round-trip; a bad names file exits 2 saying where it is wrong.
func TestSandboxPrintVarsAndNames(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runSandbox([]string{"--print-vars"}, &out, &errb); code != 0 {
		t.Fatalf("--print-vars: exit %d: %s", code, errb.String())
	}
	def := sandbox.DefaultNames()
	if got, err := sandbox.ParseNames(out.Bytes(), "stdout"); err != nil || got != def {
		t.Fatalf("--print-vars gave names %+v (%v), want the defaults %+v:\n%s", got, err, def, out.String())
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "acme.vars")
	vars := strings.NewReplacer(
		`"`+def.ModelBucket+`"`, `"acme-ml-models"`,
		`"`+def.DRGroup+`"`, `"serving-standby"`,
		`"`+def.BackupVault+`"`, `"acme-dr-vault"`,
	).Replace(out.String())
	if err := os.WriteFile(file, []byte(vars+"restore_to = \"2026-11-20T00:00:00Z\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := runSandbox([]string{"--names", file, "--print-vars"}, &out, &errb); code != 0 {
		t.Fatalf("--names --print-vars: exit %d: %s", code, errb.String())
	}
	n, err := sandbox.ParseNames(out.Bytes(), "stdout")
	if err != nil || n.ModelBucket != "acme-ml-models" || n.DRGroup != "serving-standby" || n.BackupVault != "acme-dr-vault" || n.LogsBucket != def.LogsBucket {
		t.Fatalf("names %+v (%v): want the file's, defaults elsewhere", n, err)
	}

	for name, c := range map[string]struct{ src, want string }{
		"syntax":  {"model_bucket = \n", "bad.vars:1:16: error: "},
		"missing": {"", "read sandbox names"},
		"type":    {"dr_group = [\"a\"]\n", "bad.vars:1:12: error: Invalid sandbox name"},
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, "bad.vars")
			if c.src != "" {
				if err := os.WriteFile(f, []byte(c.src), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				f = filepath.Join(dir, "absent.vars")
			}
			var out, errb bytes.Buffer
			if code := runSandbox([]string{"--names", f, "--print-vars"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) || out.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out.String(), errb.String(), c.want)
			}
		})
	}

	// The console's in-process sandbox reads the same file the same way.
	bad := filepath.Join(dir, "bad.vars")
	if err := os.WriteFile(bad, []byte("model_bucket = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := cli(t, t.Context(), "--sandbox-names", bad); code != exitUsage || !strings.Contains(stderr, bad+":1:16: error: ") {
		t.Errorf("console --sandbox-names with a bad file: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, stdout, stderr := cli(t, t.Context(), "--var-file", bad); code != exitUsage || !strings.Contains(stderr, bad+":1:16: error: ") {
		t.Errorf("console --var-file with a bad file: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, _, stderr := cli(t, t.Context(), "--sandbox-pace", "ludicrous"); code != exitUsage || !strings.Contains(stderr, "want real or quick") {
		t.Errorf("console --sandbox-pace ludicrous: exit %d, %s", code, stderr)
	}

	if testing.Short() {
		t.Skip("builds the binary")
	}
	// The served estate is named as the file says.
	p := startSandboxProc(t, buildCLI(t), "--names", file)
	cl, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: p.endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(p.env["AWS_ACCESS_KEY_ID"], p.env["AWS_SECRET_ACCESS_KEY"], "")})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := inventory.Buckets(context.Background(), cl, p.env["AWS_REGION"])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "acme-ml-models") || strings.Contains(strings.Join(names, " "), def.ModelBucket+" ") {
		t.Fatalf("served buckets %v: want acme-ml-models and not %s", names, def.ModelBucket)
	}
}
