// Package sandbox is an AWS-compatible disaster-recovery estate served on
// loopback. It speaks the wire protocols the pinned aws-sdk-go-v2 speaks
// (S3 REST-XML, EC2 and Auto Scaling query, CloudWatch RPC v2 CBOR and query,
// AWS Backup REST-JSON, STS query), routes each request by its SigV4
// credential scope (service and region), so one port serves every service in
// every region, and the same client code runs against it and against AWS
// with only the endpoint changed.
//
// Time-driven behaviour (replication lag, snapshots completing, instances
// warming up, restore jobs) is derived lazily from the server's clock when
// state is read, rather than by background goroutines: the estate is then a
// pure function of its history and the clock, which makes it deterministic
// and testable with an injected clock.
package sandbox

import (
	"io"
	"net/http"
	"time"
)

// service is one AWS service the sandbox speaks.
type service interface {
	// identify names the operation a request asks for and whether it
	// changes state. It may read r.Body, and then must replace it so serve
	// can read it again.
	identify(r *http.Request) (op string, mutating bool, err error)
	// serve answers the request.
	serve(w http.ResponseWriter, r *http.Request, c *call)
	// writeError answers with this service's protocol's error shape.
	writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError)
	// faultErrors are the errors this service answers injected faults
	// with, as AWS answers for it when it throttles, fails or is impaired.
	faultErrors() faultErrors
}

// persistent is a service whose state survives restarts with --data-dir.
type persistent interface {
	saveState(w io.Writer) error
	loadState(r io.Reader) error
}

// call describes one routed request.
type call struct {
	Service   string // SigV4 signing name: s3, ec2, autoscaling, monitoring, backup, sts, elasticfilesystem
	Region    string
	Operation string
	Mutating  bool
	RequestID string
	Now       time.Time // the server clock when the request arrived
}

// apiError is an AWS error answer.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }
