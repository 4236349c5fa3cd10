// Package minio starts a real MinIO server on loopback for tests that check
// S3 behaviour against a second, independent implementation.
//
// The binary comes from $DRCONSOLE_MINIO, else $DRCONSOLE_TOOLS/bin/minio,
// else ~/.cache/drconsole-tools/bin/minio (where `make test-deps` builds
// it). When it is missing the test is skipped, except under CI=true, where
// a missing server is a failure.
package minio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/testutil/lockedbuf"
)

// Fixed root credentials of every test server.
const (
	AccessKey = "drconsole-test"
	SecretKey = "drconsole-test-secret"
	// Region is the region MinIO serves by default.
	Region = "us-east-1"
)

// Server is a running MinIO server.
type Server struct {
	URL string // http://127.0.0.1:port
}

// Binary finds the MinIO binary.
func Binary() (string, error) {
	if p := os.Getenv("DRCONSOLE_MINIO"); p != "" {
		return checkExec(p)
	}
	if d := os.Getenv("DRCONSOLE_TOOLS"); d != "" {
		return checkExec(filepath.Join(d, "bin", "minio"))
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find minio: %w", err)
	}
	return checkExec(filepath.Join(home, ".cache", "drconsole-tools", "bin", "minio"))
}

func checkExec(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("find minio at %s: %w", p, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("find minio: %s is not an executable file", p)
	}
	return p, nil
}

// Start runs a MinIO server with a fresh data directory for the test and
// stops it at cleanup. It returns once the server answers its liveness
// probe.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MinIO server required under CI: %v (run make test-deps)", err)
		}
		t.Skipf("MinIO server not available, skipping: %v (run make test-deps to build it)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedbuf.Buffer
	var cmd *exec.Cmd
	var addr string
	// A freed port can be taken between probe and bind; retry a few times.
	for attempt := 0; ; attempt++ {
		addr, err = freeAddr()
		if err != nil {
			cancel()
			t.Fatalf("minio: %v", err)
		}
		console, err := freeAddr()
		if err != nil {
			cancel()
			t.Fatalf("minio: %v", err)
		}
		cmd = exec.CommandContext(ctx, bin, "server", "--quiet", "--address", addr, "--console-address", console, t.TempDir())
		cmd.Env = append(os.Environ(),
			"MINIO_ROOT_USER="+AccessKey,
			"MINIO_ROOT_PASSWORD="+SecretKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=1",
		)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("start minio: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		err = waitLive(ctx, "http://"+addr, exited, 60*time.Second)
		if err == nil {
			t.Cleanup(func() {
				cancel()
				<-exited
			})
			break
		}
		cancel()
		<-exited
		if attempt == 2 {
			t.Fatalf("minio did not become ready: %v\n%s", err, out.String())
		}
		ctx, cancel = context.WithCancel(context.Background())
		out.Reset()
	}
	return &Server{URL: "http://" + addr}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// waitLive polls the liveness endpoint until it answers 200, the process
// exits or the deadline passes.
func waitLive(ctx context.Context, url string, exited <-chan struct{}, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/minio/health/live", nil)
		if err != nil {
			return fmt.Errorf("probe minio: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("minio exited before it was ready")
		case <-ctx.Done():
			return errors.New("minio liveness probe: " + ctx.Err().Error())
		case <-tick.C:
		}
	}
}
