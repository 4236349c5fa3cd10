package steps_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/minio"
)

// minioBackend starts a MinIO server for one test.
func minioBackend(t testing.TB) *backend {
	t.Helper()
	srv := minio.Start(t)
	cfg := aws.Config{
		Region:       minio.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(minio.AccessKey, minio.SecretKey, ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   awshttp.NewBuildableClient(),
	}
	cc := newCountingClients(cfg)
	own := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	return &backend{name: "minio", client: own, clients: cc, writes: cc.mutating.Load, cfg: cfg}
}

// sandboxBackend starts an empty sandbox whose clock the test sets.
func sandboxBackend(t testing.TB) *backend {
	t.Helper()
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Empty: true, Clock: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	cc := newCountingClients(cfg)
	own := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	return &backend{
		name:    "sandbox",
		client:  own,
		clients: cc,
		setTime: func(t time.Time) { now.Store(t.UnixNano()) },
		writes: func() int64 {
			var n int64
			for _, r := range srv.Requests() {
				if r.Mutating && r.Service == "s3" {
					n++
				}
			}
			return n
		},
		srv: srv,
		cfg: cfg,
	}
}
