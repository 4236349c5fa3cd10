package awsx

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go/middleware"
)

// ErrReadOnly is what every mutating call made through read-only clients
// fails with (errors.Is). The error itself is a *ReadOnlyError naming the
// operation.
var ErrReadOnly = errors.New("read-only")

// ReadOnlyError is a call the read-only guard refused.
type ReadOnlyError struct {
	Service   string // "s3", "ec2", "autoscaling", ...
	Operation string // "CopyObject"
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("read-only: refused %s %s", e.Service, e.Operation)
}

// Is makes errors.Is(err, ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }

// IsRead reports whether an operation only reads. service is the short
// service name ("s3", "sts"); operation the API name ("ListObjectVersions").
// Operations are read-only by their name's verb, with exceptions both ways:
// some Get* calls mint credentials or reveal secrets, S3 Express needs
// CreateSession to read at all, and SelectObjectContent reads but runs a
// query the guard cannot reason about.
func IsRead(service, operation string) bool {
	switch service + " " + operation {
	case "sts GetCallerIdentity",
		// S3 Express asks for a session before reading a directory bucket.
		"s3 CreateSession":
		return true
	case "sts GetSessionToken", "sts GetFederationToken", "sts GetDelegatedAccessToken",
		"sts GetWebIdentityToken", "ec2 GetPasswordData":
		return false
	}
	for _, p := range [...]string{"Describe", "List", "Get", "Head"} {
		if rest, ok := strings.CutPrefix(operation, p); ok && (rest == "" || isUpper(rest[0])) {
			return true
		}
	}
	return false
}

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// serviceName turns the SDK's service id ("S3", "Auto Scaling",
// "CloudWatch") into the short name drconsole reports.
func serviceName(id string) string {
	return strings.ToLower(strings.ReplaceAll(id, " ", ""))
}

// guard is the Initialize middleware that refuses what IsRead does not
// allow. It runs before input validation, serialization, signing and the
// retry loop, so a refused call sends nothing.
type guard struct{}

func (guard) ID() string { return "drconsole.ReadOnlyGuard" }

func (guard) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	svc := serviceName(middleware.GetServiceID(ctx))
	op := middleware.GetOperationName(ctx)
	if !IsRead(svc, op) {
		return middleware.InitializeOutput{}, middleware.Metadata{}, &ReadOnlyError{Service: svc, Operation: op}
	}
	return next.HandleInitialize(ctx, in)
}

// ReadOnlyAPIOption installs the read-only guard on a client, for clients
// built outside Clients: s3.NewFromConfig(cfg, func(o *s3.Options) {
// o.APIOptions = append(o.APIOptions, awsx.ReadOnlyAPIOption) }).
// Adding it twice is harmless.
func ReadOnlyAPIOption(st *middleware.Stack) error {
	if _, ok := st.Initialize.Get(guard{}.ID()); ok {
		return nil
	}
	return st.Initialize.Add(guard{}, middleware.Before)
}
