package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"

	"github.com/drconsole/drconsole/internal/sdkhttp"
)

// Defaults for Options.
const (
	DefaultMaxAttempts = 8
	DefaultMaxBackoff  = 20 * time.Second
	// DefaultSandboxRegion is the region the sandbox is addressed in when
	// none is given.
	DefaultSandboxRegion = "us-east-1"
)

// The keys sandbox clients sign with unless Options.Credentials says
// otherwise: the sandbox's published defaults, which a sandbox with strict
// authentication and no keys of its own checks (and any other accepts).
// They are loopback-only test keys, not secrets.
const (
	sandboxAccessKeyID     = "AKIASANDBOXEXAMPLE01"
	sandboxSecretAccessKey = "sandbox/secret/key/for/loopback/only/000"
)

// RetryMode is how clients retry.
type RetryMode int

// The retry modes.
const (
	// RetryStandard backs off each failed call (exponential, with jitter)
	// without limiting the client's rate. It is the default: the steps that
	// keep many requests in flight adapt how many to throttling themselves
	// (s3_restore halves its concurrency on SlowDown and climbs back), per
	// step and so per prefix, which S3 limits, where a client-wide rate
	// cannot tell one prefix from another.
	RetryStandard RetryMode = iota
	// RetryAdaptive is the SDK's standard retryer in adaptive mode: besides
	// backing off each throttled call, it lowers the client's own request
	// rate while the service throttles. Under a per-prefix rate limit it
	// measured twice as slow as RetryStandard with the restore's own
	// adaptive concurrency (BenchmarkS3RestoreRateLimited), and after
	// throttling at a low request rate it can hold a client to as little as
	// half a request per second for a while.
	RetryAdaptive
)

// Options are the connection choices made on the command line and in the
// environment.
type Options struct {
	// Target is where calls go; zero means TargetSandbox. Decide it with
	// ResolveTarget.
	Target Target
	// Profile is the shared-config profile (--profile); empty uses
	// AWS_PROFILE or the default profile. AWS target only.
	Profile string
	// Region is the default region (--region); empty uses AWS_REGION or the
	// profile's region (AWS), or DefaultSandboxRegion (sandbox).
	Region string
	// Endpoint overrides every service's endpoint (--endpoint), including
	// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>. Without it the AWS
	// target honours those variables as the SDK does.
	Endpoint string
	// SandboxEndpoint is the sandbox's URL (http://127.0.0.1:PORT), used by
	// the sandbox target when Endpoint is empty.
	SandboxEndpoint string
	// Credentials replaces the credential chain (a strict sandbox's keys,
	// for instance). Nil: the SDK's chain on AWS, fixed loopback keys on
	// the sandbox.
	Credentials aws.CredentialsProvider
	// ReadOnly makes every client refuse operations that are not reads
	// (dry-run, --readonly).
	ReadOnly bool
	// HTTPClient carries the calls; nil means the SDK's buildable client
	// with a connection pool sized for concurrent copies. It must be a
	// buildable client, which is what honours AWS_CA_BUNDLE; tune it with
	// WithTransportOptions (proxies, or an in-memory transport in tests).
	HTTPClient *awshttp.BuildableClient
	// CloudWatchProtocol is the protocol CloudWatch clients speak
	// (--cloudwatch-protocol); the zero value is CloudWatchCBOR.
	CloudWatchProtocol CloudWatchProtocol
	// Retry chooses the retry mode; the zero value is RetryStandard.
	Retry RetryMode
	// MaxAttempts bounds the attempts per call, retries included; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the jittered exponential wait between attempts; 0
	// means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Version is drconsole's version, sent in the user agent.
	Version string
	// Observer, when set, receives every call.
	Observer Observer

	// base, set by FromConfig, is the configuration every region's copy
	// is made from instead of loading one.
	base *aws.Config
	// LoggedParams are the request fields, besides the console's own, that
	// the observer sees: those the step types declare (steps.LoggedParams).
	// Fields that carry payloads, tokens or secrets are never shown.
	LoggedParams []string
	// Now is the clock calls are timed with; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Target == 0 {
		o.Target = TargetSandbox
	}
	if o.Target != TargetSandbox && o.Target != TargetAWS {
		return o, fmt.Errorf("unknown target %d", int(o.Target))
	}
	if o.Retry != RetryAdaptive && o.Retry != RetryStandard {
		return o, fmt.Errorf("unknown retry mode %d", int(o.Retry))
	}
	if o.CloudWatchProtocol != CloudWatchCBOR && o.CloudWatchProtocol != CloudWatchQuery {
		return o, fmt.Errorf("unknown CloudWatch protocol %d", int(o.CloudWatchProtocol))
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxAttempts < 1 {
		return o, fmt.Errorf("max attempts %d: want at least 1", o.MaxAttempts)
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < 0 {
		return o, fmt.Errorf("max backoff %s: want a positive duration", o.MaxBackoff)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = httpClient()
	}
	for _, ep := range []struct{ name, v string }{{"endpoint", o.Endpoint}, {"sandbox endpoint", o.SandboxEndpoint}} {
		if ep.v == "" {
			continue
		}
		u, err := url.Parse(ep.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("%s %q: want a URL such as http://127.0.0.1:4566", ep.name, redactURL(ep.v))
		}
	}
	if o.Target == TargetSandbox {
		if o.Profile != "" {
			return o, fmt.Errorf("profile %q names AWS credentials, but the target is the sandbox", o.Profile)
		}
		if o.Endpoint == "" && o.SandboxEndpoint == "" {
			return o, errors.New("the sandbox target needs the sandbox's endpoint")
		}
	}
	return o, nil
}

// endpoint is the explicit endpoint every client uses, if any.
func (o Options) endpoint() string {
	if o.Endpoint != "" {
		return o.Endpoint
	}
	if o.Target == TargetSandbox {
		return o.SandboxEndpoint
	}
	return ""
}

// pathStyle reports whether S3 must be addressed by path (bucket in the
// path, not the host name): the sandbox and S3-compatible stores behind a
// custom endpoint cannot resolve bucket subdomains.
func (o Options) pathStyle() bool {
	if o.base != nil || o.endpoint() != "" {
		return true
	}
	return os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}

// retryer is the SDK's standard retryer, in adaptive mode when asked. Its
// retry quota is off so that a long burst of SlowDown
// answers during a restore backs off instead of failing calls outright.
func (o Options) retryer() aws.Retryer {
	standard := func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(o.MaxBackoff)
		so.RateLimiter = ratelimit.None
		so.Retryables = append([]retry.IsErrorRetryable{notRetriedConnect{}}, so.Retryables...)
	}
	if o.Retry == RetryStandard {
		return watched(retry.NewStandard(standard))
	}
	return watched(retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
		ao.StandardOptions = append(ao.StandardOptions, standard)
	}))
}

// apiOptions are the middlewares every client gets: the user agent, the
// read-only guard and the observer. Both of the latter go first in the
// Initialize step, ahead of input validation, so that a mutating call is
// refused whatever its input; the observer is added last, in front of the
// guard, so it sees the guard's refusals.
func (o Options) apiOptions(region string) []func(*middleware.Stack) error {
	opts := []func(*middleware.Stack) error{awsmiddleware.AddUserAgentKeyValue("drconsole", o.Version), addConnectErrors, addWatchAttempts}
	if o.ReadOnly {
		opts = append(opts, ReadOnlyAPIOption)
	}
	if o.Observer != nil {
		m := newObserve(o.Observer, region, o.Now, o.LoggedParams)
		opts = append(opts, func(st *middleware.Stack) error { return st.Initialize.Add(m, middleware.Before) })
	}
	return opts
}

// LoadConfig builds the aws.Config for one region ("" for the default
// region). Every config uses the SDK's buildable HTTP client, which honours
// AWS_CA_BUNDLE, and the standard retryer.
func LoadConfig(ctx context.Context, o Options, region string) (aws.Config, error) {
	o, err := o.withDefaults()
	if err != nil {
		return aws.Config{}, err
	}
	return loadConfig(ctx, o, region)
}

func loadConfig(ctx context.Context, o Options, region string) (aws.Config, error) {
	if region == "" {
		region = o.Region
	}
	if o.base != nil {
		cfg := o.base.Copy()
		if region != "" {
			cfg.Region = region
		}
		// The watch hears of retries through the retryer: the SDK's
		// default one when the configuration names none.
		if base := cfg.Retryer; base != nil {
			cfg.Retryer = func() aws.Retryer { return watched(base()) }
		} else {
			cfg.Retryer = func() aws.Retryer { return watched(retry.NewStandard()) }
		}
		if cfg.HTTPClient == nil {
			cfg.HTTPClient = awshttp.NewBuildableClient()
		}
		cfg.HTTPClient = sdkhttp.KeepConnections(cfg.HTTPClient)
		// A fresh slice: the copies share the base's backing array.
		cfg.APIOptions = append(slices.Clip(cfg.APIOptions), o.apiOptions(cfg.Region)...)
		return cfg, nil
	}
	if o.Target == TargetSandbox {
		return sandboxConfig(o, region), nil
	}
	lo := []func(*config.LoadOptions) error{
		config.WithHTTPClient(o.HTTPClient),
		config.WithRetryer(o.retryer),
		config.WithAppID("drconsole"),
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	if region != "" {
		lo = append(lo, config.WithRegion(region))
	}
	if o.Endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(o.Endpoint))
	}
	if o.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		if o.Profile != "" {
			return aws.Config{}, fmt.Errorf("load AWS configuration for profile %q: %w", o.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set --region, AWS_REGION or the profile's region")
	}
	// Wrapped after loading: the loader applies AWS_CA_BUNDLE to the
	// buildable client itself.
	cfg.HTTPClient = sdkhttp.KeepConnections(cfg.HTTPClient)
	cfg.APIOptions = append(cfg.APIOptions, o.apiOptions(cfg.Region)...)
	return cfg, nil
}

// sandboxConfig is built by hand rather than loaded: the sandbox must not
// pick up the operator's profiles, credentials or endpoint variables.
func sandboxConfig(o Options, region string) aws.Config {
	if region == "" {
		region = DefaultSandboxRegion
	}
	creds := o.Credentials
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider(sandboxAccessKeyID, sandboxSecretAccessKey, "")
	}
	ep := o.endpoint()
	return aws.Config{
		Region:                     region,
		Credentials:                aws.NewCredentialsCache(creds),
		HTTPClient:                 sdkhttp.KeepConnections(o.HTTPClient),
		Retryer:                    o.retryer,
		BaseEndpoint:               &ep,
		AppID:                      "drconsole",
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		APIOptions:                 o.apiOptions(region),
	}
}

// maxIdleConnsPerHost keeps a connection per concurrent request: the SDK's
// default of 10 makes a restore copying with tens of workers close and
// redial connections (a TLS handshake each on AWS) on almost every request,
// which cuts its throughput by half or more.
const maxIdleConnsPerHost = 256

// httpClient is the SDK's buildable client (it honours AWS_CA_BUNDLE) with
// a connection pool sized for concurrent copies.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
		tr.MaxIdleConns = max(tr.MaxIdleConns, 2*maxIdleConnsPerHost)
	})
}
