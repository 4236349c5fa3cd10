package estate

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `
cloudwatch_protocol = "cbor"
objectives "default" {
  rpo = "24h"
  rto = "1h"
}
bucket "m" {
  role = "model-artifacts"
  prefixes = ["models/"]
}
alarms = ["a"]
`
	e, err := Parse([]byte(src), "estate.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if e.CloudWatchProtocol != "cbor" || len(e.Buckets) != 1 || e.Buckets[0].Role != "model-artifacts" || len(e.Alarms) != 1 {
		t.Fatalf("got %+v", e)
	}
	_, err = Parse([]byte("bucket \"x\" {\n  role = \"replica\"\n  nope = 1\n}\n"), "estate.hcl")
	if err == nil || !strings.Contains(err.Error(), "estate.hcl:3,") {
		t.Fatalf("want file:line diagnostic, got %v", err)
	}
}
