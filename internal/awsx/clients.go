package awsx

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ClientSource hands out SDK clients per service and region. The step
// types and the console's inventory both call AWS through it, so one
// factory, with its read-only guard and API-call observer, serves them
// all; a dry-run hands the step types one that refuses every write, which
// is why they never build clients of their own. A new service is a method
// here, on Clients and on unavailable.
type ClientSource interface {
	S3(ctx context.Context, region string) (*s3.Client, error)
	EC2(ctx context.Context, region string) (*ec2.Client, error)
	AutoScaling(ctx context.Context, region string) (*autoscaling.Client, error)
	CloudWatch(ctx context.Context, region string) (*cloudwatch.Client, error)
	Backup(ctx context.Context, region string) (*backup.Client, error)
	STS(ctx context.Context, region string) (*sts.Client, error)
}

var (
	_ ClientSource = (*Clients)(nil)
	_ ClientSource = unavailable{}
)

// Unavailable returns a ClientSource whose every client fails with err:
// what callers hold when the target could not be configured, so that
// whatever would call AWS says why it cannot.
func Unavailable(err error) ClientSource { return unavailable{err} }

type unavailable struct{ err error }

func (u unavailable) S3(context.Context, string) (*s3.Client, error)   { return nil, u.err }
func (u unavailable) EC2(context.Context, string) (*ec2.Client, error) { return nil, u.err }
func (u unavailable) AutoScaling(context.Context, string) (*autoscaling.Client, error) {
	return nil, u.err
}
func (u unavailable) CloudWatch(context.Context, string) (*cloudwatch.Client, error) {
	return nil, u.err
}
func (u unavailable) Backup(context.Context, string) (*backup.Client, error) { return nil, u.err }
func (u unavailable) STS(context.Context, string) (*sts.Client, error)       { return nil, u.err }

// Clients hands out service clients per region, each built once and then
// shared. It is safe for concurrent use.
type Clients struct {
	o Options

	mu      sync.Mutex
	configs map[string]aws.Config
	clients map[clientKey]any
}

type clientKey struct{ service, region string }

// New checks the options and returns clients built from them on demand.
func New(o Options) (*Clients, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Clients{o: o, configs: map[string]aws.Config{}, clients: map[clientKey]any{}}, nil
}

// FromConfig returns clients built from cfg as it is, with only the region
// changed per call and S3 addressed by path: for tests that point one
// configuration (its endpoint, credentials and retryer) at a server on
// loopback. A service added to Clients is then served to those tests too.
func FromConfig(cfg aws.Config) *Clients {
	return &Clients{o: Options{base: &cfg}, configs: map[string]aws.Config{}, clients: map[clientKey]any{}}
}

// Target is where the clients' calls go.
func (c *Clients) Target() Target { return c.o.Target }

// ReadOnly reports whether the clients refuse mutating operations.
func (c *Clients) ReadOnly() bool { return c.o.ReadOnly }

// AsReadOnly returns clients with the same settings that refuse every
// operation that is not a read: what a dry-run hands its steps.
func (c *Clients) AsReadOnly() *Clients {
	if c.o.ReadOnly {
		return c
	}
	o := c.o
	o.ReadOnly = true
	return &Clients{o: o, configs: map[string]aws.Config{}, clients: map[clientKey]any{}}
}

// String describes where the clients act, for reports: "sandbox
// http://127.0.0.1:4566", "aws profile prod, region us-east-1, read-only".
// It never includes credentials.
func (c *Clients) String() string {
	s := c.o.Target.String()
	if ep := c.o.endpoint(); ep != "" {
		s += " " + redactURL(ep)
	}
	if c.o.Profile != "" {
		s += fmt.Sprintf(", profile %s", c.o.Profile)
	}
	if c.o.Region != "" {
		s += fmt.Sprintf(", region %s", c.o.Region)
	}
	if c.o.CloudWatchProtocol != CloudWatchCBOR {
		s += ", cloudwatch " + c.o.CloudWatchProtocol.String()
	}
	if c.o.ReadOnly {
		s += ", read-only"
	}
	return s
}

// Config returns the aws.Config for a region ("" for the default region),
// loaded once. Clients built from it outside this type get the same
// retryer, user agent, observer and guard.
func (c *Clients) Config(ctx context.Context, region string) (aws.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.configLocked(ctx, region)
}

func (c *Clients) configLocked(ctx context.Context, region string) (aws.Config, error) {
	if cfg, ok := c.configs[region]; ok {
		return cfg, nil
	}
	cfg, err := loadConfig(ctx, c.o, region)
	if err != nil {
		return aws.Config{}, err
	}
	c.configs[region] = cfg
	return cfg, nil
}

// client returns the cached client of one service in one region, building
// it with build on first use.
func client[T any](ctx context.Context, c *Clients, service, region string, build func(aws.Config) T) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := clientKey{service, region}
	if v, ok := c.clients[k]; ok {
		return v.(T), nil
	}
	var zero T
	cfg, err := c.configLocked(ctx, region)
	if err != nil {
		return zero, fmt.Errorf("%s client for region %q: %w", service, region, err)
	}
	v := build(cfg)
	c.clients[k] = v
	return v, nil
}

// endpointOption makes an explicit --endpoint win over the per-service
// AWS_ENDPOINT_URL_<SERVICE> variables, which the SDK would otherwise
// prefer to the config's base endpoint.
func (c *Clients) endpointOption() *string {
	if ep := c.o.endpoint(); ep != "" {
		return &ep
	}
	return nil
}

// S3 returns the region's S3 client.
func (c *Clients) S3(ctx context.Context, region string) (*s3.Client, error) {
	return client(ctx, c, "s3", region, func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(so *s3.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
			so.UsePathStyle = c.o.pathStyle()
		})
	})
}

// EC2 returns the region's EC2 client.
func (c *Clients) EC2(ctx context.Context, region string) (*ec2.Client, error) {
	return client(ctx, c, "ec2", region, func(cfg aws.Config) *ec2.Client {
		return ec2.NewFromConfig(cfg, func(so *ec2.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
		})
	})
}

// AutoScaling returns the region's Auto Scaling client.
func (c *Clients) AutoScaling(ctx context.Context, region string) (*autoscaling.Client, error) {
	return client(ctx, c, "autoscaling", region, func(cfg aws.Config) *autoscaling.Client {
		return autoscaling.NewFromConfig(cfg, func(so *autoscaling.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
		})
	})
}

// CloudWatch returns the region's CloudWatch client, speaking
// Options.CloudWatchProtocol.
func (c *Clients) CloudWatch(ctx context.Context, region string) (*cloudwatch.Client, error) {
	return client(ctx, c, "cloudwatch", region, func(cfg aws.Config) *cloudwatch.Client {
		return cloudwatch.NewFromConfig(cfg, func(so *cloudwatch.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
		}, cloudWatchProtocolOption(c.o.CloudWatchProtocol, c.o.endpoint()))
	})
}

// Backup returns the region's AWS Backup client.
func (c *Clients) Backup(ctx context.Context, region string) (*backup.Client, error) {
	return client(ctx, c, "backup", region, func(cfg aws.Config) *backup.Client {
		return backup.NewFromConfig(cfg, func(so *backup.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
		})
	})
}

// STS returns the region's STS client.
func (c *Clients) STS(ctx context.Context, region string) (*sts.Client, error) {
	return client(ctx, c, "sts", region, func(cfg aws.Config) *sts.Client {
		return sts.NewFromConfig(cfg, func(so *sts.Options) {
			if ep := c.endpointOption(); ep != nil {
				so.BaseEndpoint = ep
			}
		})
	})
}

// redactURL drops any user information from an endpoint URL, so that a
// password written into --endpoint never reaches a report.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return "…" + s[i:]
		}
		return s
	}
	if u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
