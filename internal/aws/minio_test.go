package awsx

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

const (
	minioUser     = "drconsole-awsx"
	minioPassword = "drconsole-awsx-secret"
)

// startMinIO runs a MinIO server on a free loopback port for the test,
// returning its URL. The test is skipped when the binary is not built.
func startMinIO(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("DRCONSOLE_MINIO")
	if bin == "" {
		home, _ := os.UserHomeDir()
		bin = filepath.Join(home, ".cache", "drconsole-tools", "bin", "minio")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("MinIO not built (make test-deps): %v", err)
	}
	addr, console := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "server", "--quiet", "--address", addr, "--console-address", console, t.TempDir())
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	var out strings.Builder
	var mu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start minio: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })

	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/minio/health/live", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-exited:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("minio exited:\n%s", out.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatal("minio did not become live within 60s")
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// minioClients returns clients for a MinIO server, as an S3-compatible
// endpoint of the AWS target.
func minioClients(t *testing.T, url string, readOnly bool) *Clients {
	c, err := New(Options{
		Target:      TargetAWS,
		Endpoint:    url,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(minioUser, minioPassword, ""),
		ReadOnly:    readOnly,
		Retry:       RetryStandard,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
