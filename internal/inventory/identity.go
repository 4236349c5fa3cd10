package inventory

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/drconsole/drconsole/internal/awsx"
)

// Identity is who the console acts as.
type Identity struct {
	Account string
	ARN     string
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
	return Identity{Account: aws.ToString(res.Account), ARN: aws.ToString(res.Arn)}, nil
}
