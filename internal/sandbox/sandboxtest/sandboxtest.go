// Package sandboxtest starts a sandbox for a test and hands back an AWS
// configuration that points every client at it.
package sandboxtest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sdkhttp"
)

// Start serves a sandbox on a free loopback port until the test ends and
// returns it with an aws.Config for it: static credentials (the options'
// keys, or the sandbox defaults), region us-east-1 (the primary region
// unless o says otherwise) and BaseEndpoint set to the server. S3 clients
// need path-style addressing:
//
//	s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
func Start(t testing.TB, o sandbox.Options) (*sandbox.Server, aws.Config) {
	t.Helper()
	srv, err := sandbox.New(o)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if err := srv.Start(context.Background(), "127.0.0.1:0"); err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return srv, Config(srv)
}

// Config is an aws.Config for a running sandbox.
func Config(srv *sandbox.Server) aws.Config {
	o := srv.Options()
	return aws.Config{
		Region:       o.PrimaryRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
		BaseEndpoint: aws.String(srv.URL()),
		HTTPClient:   sdkhttp.KeepConnections(awshttp.NewBuildableClient()),
	}
}
