package inventory

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/sandbox"
)

// Identity is who the console acts as.
type Identity struct {
	Account string
	ARN     string
	// Sandbox reports that the endpoint that answered is a drconsole
	// sandbox (it says so in every answer), whatever the target flags
	// or the URL suggest.
	Sandbox bool
	// SandboxPace is how fast the sandbox's snapshots, warm-ups and
	// restores go: an RTO is comparable only at the same pace.
	SandboxPace sandbox.Pace
}

// CallerIdentity asks STS who the credentials belong to.
func CallerIdentity(ctx context.Context, c awsx.ClientSource, region string) (Identity, error) {
	cl, err := c.STS(ctx, region)
	if err != nil {
		return Identity{}, fmt.Errorf("get caller identity: %w", err)
	}
	res, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("get caller identity: %w", err)
	}
	id := Identity{Account: aws.ToString(res.Account), ARN: aws.ToString(res.Arn)}
	if raw, ok := awsmiddleware.GetRawResponse(res.ResultMetadata).(*smithyhttp.Response); ok {
		h := raw.Header.Get(sandbox.IdentityHeader)
		id.Sandbox, id.SandboxPace = h != "", sandbox.PaceOf(h)
	}
	return id, nil
}
