package awsx

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Call is one API call as the console's API log shows it. It carries no
// credentials: parameters come from an allow-list of resource names.
type Call struct {
	Service   string            // "s3", "ec2", "autoscaling", "cloudwatch", "backup", "sts"
	Operation string            // "CopyObject"
	Region    string            // "us-east-1"
	Params    map[string]string // resource parameters: Bucket, Key, VersionId, AutoScalingGroupName, ...
	Status    int               // HTTP status of the last attempt; 0 when nothing was answered
	RequestID string
	Start     time.Time
	Latency   time.Duration // the whole call, retries included
	Attempts  int           // 0 when refused before sending
	Err       error
}

// String renders the call on one line.
func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", c.Region, c.Service, c.Operation)
	for _, k := range sortedParamKeys(c.Params) {
		fmt.Fprintf(&b, " %s=%q", k, c.Params[k])
	}
	fmt.Fprintf(&b, " -> %d in %s", c.Status, c.Latency.Round(time.Millisecond))
	if c.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", c.Attempts)
	}
	if c.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", c.RequestID)
	}
	if c.Err != nil {
		fmt.Fprintf(&b, ": %v", c.Err)
	}
	return b.String()
}

// Observer receives every call made through Clients, read-only refusals
// included, after it ends. It is called from the goroutine that made the
// call and must not block.
type Observer interface {
	ObserveCall(Call)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Call)

// ObserveCall calls f.
func (f ObserverFunc) ObserveCall(c Call) { f(c) }

// consoleParams are the request fields of the console's own reads (the
// inventory) that an observer sees. The step types declare those of their
// own calls (runbook.APIParams), which Options.LoggedParams brings in.
func consoleParams() []string {
	return []string{"Bucket", "Key", "VersionId", "Prefix", "KeyMarker", "AutoScalingGroupNames", "BackupVaultName"}
}

// neverLogged reports whether a field name says it carries a payload, a
// token or a secret: no declaration makes such a field visible.
func neverLogged(name string) bool {
	for _, w := range []string{"Token", "Secret", "Password", "Credential", "CustomerKey", "Body", "Policy", "Metadata"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// loggedParams is the set of input fields an observer sees: the console's
// and those declared, names of resources, never payloads, tokens or
// secrets.
func loggedParams(declared []string) map[string]bool {
	set := map[string]bool{}
	for _, name := range slices.Concat(consoleParams(), declared) {
		if !neverLogged(name) {
			set[name] = true
		}
	}
	return set
}

// maxListed bounds how many items of a list parameter are logged.
const maxListed = 5

// params extracts the logged parameters from an operation's input struct.
func params(in any, logged map[string]bool) map[string]string {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out map[string]string
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || !logged[f.Name] {
			continue
		}
		s, ok := render(v.Field(i))
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[f.Name] = s
	}
	return out
}

func render(v reflect.Value) (string, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), v.Len() > 0
	case reflect.Int32, reflect.Int64, reflect.Int:
		return fmt.Sprint(v.Int()), true
	case reflect.Slice:
		if v.Len() == 0 {
			return "", false
		}
		var parts []string
		for i := 0; i < v.Len() && i < maxListed; i++ {
			if s, ok := render(v.Index(i)); ok {
				parts = append(parts, s)
			}
		}
		if v.Len() > maxListed {
			parts = append(parts, fmt.Sprintf("…%d more", v.Len()-maxListed))
		}
		return strings.Join(parts, ","), len(parts) > 0
	}
	return "", false
}

// observe is the Initialize middleware that reports each call to an
// Observer. It sits outside the read-only guard so refusals are reported
// too.
type observe struct {
	obs    Observer
	region string
	now    func() time.Time
	logged map[string]bool // from loggedParams
}

func newObserve(obs Observer, region string, now func() time.Time, declared []string) *observe {
	return &observe{obs: obs, region: region, now: now, logged: loggedParams(declared)}
}

// ID is unique per observer, so that a client can carry several.
func (m *observe) ID() string { return fmt.Sprintf("drconsole.Observe.%p", m) }

func (m *observe) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	c := Call{
		Service:   serviceName(middleware.GetServiceID(ctx)),
		Operation: middleware.GetOperationName(ctx),
		Region:    m.region,
		Params:    params(in.Parameters, m.logged),
		Start:     m.now(),
	}
	out, md, err := next.HandleInitialize(ctx, in)
	c.Latency = m.now().Sub(c.Start)
	c.Err = err
	if r, ok := retry.GetAttemptResults(md); ok {
		c.Attempts = len(r.Results)
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		c.RequestID = id
	}
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil {
		c.Status = resp.StatusCode
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		c.Status = re.HTTPStatusCode()
		if c.RequestID == "" {
			c.RequestID = re.ServiceRequestID()
		}
	}
	if c.Attempts == 0 && c.Status != 0 {
		c.Attempts = 1
	}
	m.obs.ObserveCall(c)
	return out, md, err
}

func sortedParamKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// ObserveAPIOption reports the calls of a client built outside Clients to
// obs, as made in region: append it to the client's APIOptions. The calls
// show the console's parameters and those declared, as with
// Options.LoggedParams.
func ObserveAPIOption(obs Observer, region string, declared ...string) func(*middleware.Stack) error {
	m := newObserve(obs, region, time.Now, declared)
	return func(st *middleware.Stack) error { return st.Initialize.Add(m, middleware.Before) }
}
