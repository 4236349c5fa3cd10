package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		flag, profile string
		env           map[string]string
		want          Target
		err           string
	}{
		{"", "", nil, TargetSandbox, ""},
		{"sandbox", "", map[string]string{"AWS_PROFILE": "prod"}, TargetSandbox, ""},
		{"aws", "", nil, TargetAWS, ""},
		{" AWS ", "", nil, TargetAWS, ""},
		{"", "prod", nil, TargetAWS, ""},
		{"", "", map[string]string{"AWS_PROFILE": "prod"}, TargetAWS, ""},
		{"", "", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, TargetAWS, ""},
		{"", "", map[string]string{"AWS_REGION": "us-east-1"}, TargetSandbox, ""},
		{"", "", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, TargetSandbox, ""},
		{"sandbox", "prod", nil, 0, "--target is sandbox"},
		{"prod", "", nil, 0, `unknown target "prod"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%q/%v", tt.flag, tt.profile, tt.env), func(t *testing.T) {
			got, err := ResolveTarget(tt.flag, tt.profile, func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if TargetSandbox.String() != "sandbox" || TargetAWS.String() != "aws" {
		t.Fatal("target names")
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tt := range []struct {
		o   Options
		err string
	}{
		{Options{}, "needs the sandbox's endpoint"},
		{Options{SandboxEndpoint: "127.0.0.1:4566"}, "want a URL"},
		{Options{Target: TargetAWS, Endpoint: "ftp://x"}, "want a URL"},
		{Options{SandboxEndpoint: "http://127.0.0.1:1", Profile: "prod"}, "target is the sandbox"},
		{Options{SandboxEndpoint: "http://127.0.0.1:1", MaxAttempts: -1}, "max attempts"},
		{Options{Target: 7}, "unknown target"},
		{Options{Target: TargetAWS, Endpoint: "minio:9000 ops:hunter2@x"}, "…@x"},
	} {
		if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("New(%+v) = %v, want %q", tt.o, err, tt.err)
		}
	}
}

// awsHome isolates the SDK's configuration sources: a temporary HOME with
// a shared config and credentials file, and no AWS variables.
func awsHome(t *testing.T) {
	home := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_EC2_METADATA_DISABLED"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home)
	// The SDK fixes its default file paths from HOME when it starts, so the
	// test's HOME is named to it explicitly.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dir := filepath.Join(home, ".aws")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("config", `[default]
region = eu-west-1

[profile dr]
region = us-west-2
`)
	write("credentials", `[default]
aws_access_key_id = AKIADEFAULT000000001
aws_secret_access_key = default-secret-never-logged

[dr]
aws_access_key_id = AKIADRPROFILE0000001
aws_secret_access_key = dr-secret-never-logged
`)
}

// scope returns the access key, region and service of a signed request.
func scope(r *http.Request) string {
	a := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(a, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[0] + " " + parts[2] + " " + parts[3]
}

func TestConfigSources(t *testing.T) {
	awsHome(t)
	ctx := t.Context()
	main, s3only, flag := newCounter(t), newCounter(t), newCounter(t)

	last := func(t *testing.T, c *counter) *http.Request {
		rs := c.requests()
		if len(rs) == 0 {
			t.Fatal("no request reached the server")
		}
		return rs[len(rs)-1]
	}
	listBucket := func(t *testing.T, o Options) (*http.Request, *counter) {
		t.Helper()
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		s3c, err := c.S3(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		before := map[*counter]int64{main: main.n.Load(), s3only: s3only.n.Load(), flag: flag.n.Load()}
		s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("models")})
		for srv, n := range before {
			if srv.n.Load() > n {
				return last(t, srv), srv
			}
		}
		t.Fatal("no server saw the request")
		return nil, nil
	}

	t.Run("profile flag", func(t *testing.T) {
		r, srv := listBucket(t, Options{Target: TargetAWS, Profile: "dr", Endpoint: main.URL, Version: "1.2.3", MaxAttempts: 1})
		if srv != main || scope(r) != "AKIADRPROFILE0000001 us-west-2 s3" {
			t.Fatalf("scope %q", scope(r))
		}
		if r.URL.Path != "/models" {
			t.Fatalf("path %q: want path-style addressing", r.URL.Path)
		}
		ua := r.Header.Get("User-Agent")
		if !strings.Contains(ua, "drconsole/1.2.3") || !strings.Contains(ua, "app/drconsole") {
			t.Fatalf("user agent %q does not name drconsole", ua)
		}
	})
	t.Run("region flag wins over the profile", func(t *testing.T) {
		r, _ := listBucket(t, Options{Target: TargetAWS, Profile: "dr", Region: "ap-south-1", Endpoint: main.URL, MaxAttempts: 1})
		if scope(r) != "AKIADRPROFILE0000001 ap-south-1 s3" {
			t.Fatalf("scope %q", scope(r))
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("AWS_PROFILE", "dr")
		t.Setenv("AWS_REGION", "eu-central-1")
		t.Setenv("AWS_ENDPOINT_URL", main.URL)
		r, srv := listBucket(t, Options{Target: TargetAWS, MaxAttempts: 1})
		if srv != main || scope(r) != "AKIADRPROFILE0000001 eu-central-1 s3" || r.URL.Path != "/models" {
			t.Fatalf("scope %q path %q", scope(r), r.URL.Path)
		}
	})
	t.Run("per-service endpoint", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", main.URL)
		t.Setenv("AWS_ENDPOINT_URL_S3", s3only.URL)
		r, srv := listBucket(t, Options{Target: TargetAWS, MaxAttempts: 1})
		if srv != s3only || scope(r) != "AKIADEFAULT000000001 eu-west-1 s3" {
			t.Fatalf("S3 went to the wrong endpoint (scope %q)", scope(r))
		}
		c, _ := New(Options{Target: TargetAWS, MaxAttempts: 1})
		stc, _ := c.STS(ctx, "")
		n := main.n.Load()
		stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if main.n.Load() != n+1 {
			t.Fatal("STS did not use AWS_ENDPOINT_URL")
		}
		// --endpoint wins over both.
		r, srv = listBucket(t, Options{Target: TargetAWS, Endpoint: flag.URL, MaxAttempts: 1})
		if srv != flag {
			t.Fatalf("--endpoint lost to the environment (went to %s)", r.Host)
		}
	})
	t.Run("no region", func(t *testing.T) {
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
		_, err := LoadConfig(ctx, Options{Target: TargetAWS}, "")
		if err == nil || !strings.Contains(err.Error(), "--region") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown profile", func(t *testing.T) {
		_, err := LoadConfig(ctx, Options{Target: TargetAWS, Profile: "nope"}, "")
		if err == nil || !strings.Contains(err.Error(), `profile "nope"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sandbox ignores the operator's AWS settings", func(t *testing.T) {
		t.Setenv("AWS_PROFILE", "dr")
		t.Setenv("AWS_ENDPOINT_URL_S3", s3only.URL)
		r, srv := listBucket(t, Options{Target: TargetSandbox, SandboxEndpoint: main.URL, MaxAttempts: 1})
		if srv != main || !strings.HasPrefix(scope(r), sandboxAccessKeyID+" ") || !strings.HasSuffix(scope(r), DefaultSandboxRegion+" s3") {
			t.Fatalf("sandbox call went to %s (main %s, s3only %s) with scope %q", r.Host, main.URL, s3only.URL, scope(r))
		}
	})
}

func TestRetriesAndObserver(t *testing.T) {
	var failures atomic.Int64
	srv := newCounter(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.n.Add(1)
		w.Header().Set("x-amz-request-id", fmt.Sprintf("req-%d", srv.n.Load()))
		if failures.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<ListVersionsResult><Name>models</Name><IsTruncated>false</IsTruncated></ListVersionsResult>`)
	})
	var mu sync.Mutex
	var calls []Call
	secret := "observer-must-not-see-this"
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Options{
		SandboxEndpoint: srv.URL,
		MaxAttempts:     3,
		MaxBackoff:      time.Millisecond,
		Retry:           RetryStandard,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAOBSERVED", SecretAccessKey: secret}, nil
		}),
		Observer: ObserverFunc(func(cl Call) { mu.Lock(); calls = append(calls, cl); mu.Unlock() }),
		Now:      func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := c.S3(t.Context(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	in := &s3.ListObjectVersionsInput{Bucket: aws.String("models"), Prefix: aws.String("llm/")}

	failures.Store(2)
	if _, err := s3c.ListObjectVersions(t.Context(), in); err != nil {
		t.Fatalf("two SlowDowns then success: %v", err)
	}
	failures.Store(5)
	_, err = s3c.ListObjectVersions(t.Context(), in)
	if err == nil || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("SlowDown past the attempts: err = %v", err)
	}
	if len(calls) != 2 {
		t.Fatalf("observer saw %d calls", len(calls))
	}
	ok, failed := calls[0], calls[1]
	if ok.Service != "s3" || ok.Operation != "ListObjectVersions" || ok.Region != "eu-west-1" ||
		ok.Status != 200 || ok.Attempts != 3 || ok.RequestID != "req-3" || ok.Err != nil ||
		ok.Params["Bucket"] != "models" || ok.Params["Prefix"] != "llm/" || ok.Latency != time.Second {
		t.Fatalf("successful call observed as %+v", ok)
	}
	if failed.Status != 503 || failed.Attempts != 3 || failed.Err == nil || failed.RequestID != "req-6" {
		t.Fatalf("failed call observed as %+v", failed)
	}
	for _, cl := range calls {
		if s := fmt.Sprintf("%v %+v", cl, cl); strings.Contains(s, secret) || strings.Contains(s, "AKIAOBSERVED") {
			t.Fatalf("observed call carries credentials: %s", s)
		}
	}
	if s := ok.String(); !strings.Contains(s, `Bucket="models"`) || !strings.Contains(s, "after 3 attempts") {
		t.Fatalf("call renders as %q", s)
	}
	if errors.Is(failed.Err, ErrReadOnly) {
		t.Fatal("a throttled call is not a refusal")
	}
}

func TestClientsCache(t *testing.T) {
	srv := newCounter(t)
	c, err := New(Options{SandboxEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]*s3.Client, 16)
	for i := range got {
		wg.Go(func() {
			region := "us-east-1"
			if i%2 == 1 {
				region = "us-west-2"
			}
			s, err := c.S3(t.Context(), region)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[i%2] {
			t.Fatalf("client %d was built twice", i)
		}
	}
	if got[0] == got[1] {
		t.Fatal("two regions share a client")
	}
	if got[0].Options().Region != "us-east-1" || got[1].Options().Region != "us-west-2" || !got[0].Options().UsePathStyle {
		t.Fatal("clients built with the wrong options")
	}
	if s := c.String(); s != "sandbox "+srv.URL {
		t.Fatalf("String() = %q", s)
	}
	if s := c.AsReadOnly().String(); !strings.HasSuffix(s, ", read-only") {
		t.Fatalf("read-only String() = %q", s)
	}
	pw, err := New(Options{Target: TargetAWS, Endpoint: "https://ops:hunter2@minio.internal:9000", Profile: "dr", Region: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	if s := pw.String(); s != "aws https://minio.internal:9000, profile dr, region us-west-2" {
		t.Fatalf("read-only String() = %q", s)
	}
}

func TestRetryer(t *testing.T) {
	for _, tt := range []struct {
		mode     RetryMode
		adaptive bool
	}{{RetryAdaptive, true}, {RetryStandard, false}} {
		cfg, err := LoadConfig(t.Context(), Options{SandboxEndpoint: "http://127.0.0.1:1", Retry: tt.mode}, "")
		if err != nil {
			t.Fatal(err)
		}
		r := cfg.Retryer()
		w, ok := r.(watchedRetryer)
		if !ok {
			t.Fatalf("mode %d: retryer %T, want it watched", tt.mode, r)
		}
		if _, ok := w.Retryer.(*retry.AdaptiveMode); ok != tt.adaptive {
			t.Errorf("mode %d: retryer %T", tt.mode, r)
		}
		if r.MaxAttempts() != DefaultMaxAttempts {
			t.Errorf("mode %d: %d attempts", tt.mode, r.MaxAttempts())
		}
	}
	if _, err := New(Options{SandboxEndpoint: "http://127.0.0.1:1", Retry: 9}); err == nil {
		t.Error("unknown retry mode accepted")
	}
}
