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

// TestParseRefuses checks each check the schema cannot make, and that its
// diagnostic points at the offending attribute.
func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name, src, at, says string
	}{
		{"protocol", "cloudwatch_protocol = \"json\"\n", "estate.hcl:1,1", "Unknown CloudWatch protocol"},
		{"duration", "objectives \"gold\" {\n  rpo = \"soon\"\n  rto = \"1h\"\n}\n", "estate.hcl:2,3", "Invalid objective"},
		{"zero duration", "objectives \"gold\" {\n  rpo = \"1h\"\n  rto = \"0s\"\n}\n", "estate.hcl:3,3", "Invalid objective"},
		{"duplicate tier", "objectives \"gold\" {\n  rpo = \"1h\"\n  rto = \"1h\"\n}\nobjectives \"gold\" {\n  rpo = \"1h\"\n  rto = \"1h\"\n}\n", "estate.hcl:1,1", "Duplicate objectives"},
		{"bucket role", "bucket \"acme-logs\" {\n  role = \"logs\"\n}\n", "estate.hcl:2,3", "Unknown role"},
		{"group role", "group \"batch-workers\" {\n  role = \"batch\"\n}\n", "estate.hcl:2,3", "dr-fleet, serving"},
		{"volume role", "volumes {\n  tag = \"Name=d\"\n  role = \"dr-fleet\"\n}\n", "estate.hcl:3,3", "Unknown role"},
		{"volume selector", "volumes {\n  tag = \"acme-dataset\"\n  role = \"dataset\"\n}\n", "estate.hcl:2,3", "KEY=VALUE"},
		{"file system role", "file_system \"fs-1\" {\n  role = \"replica\"\n}\n", "estate.hcl:2,3", "Unknown role"},
		{"unknown tier", "bucket \"m\" {\n  role = \"replica\"\n  tier = \"gold\"\n}\n", "estate.hcl:3,3", "names no objectives block"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.src), "estate.hcl")
			if err == nil {
				t.Fatal("parsed")
			}
			if msg := err.Error(); !strings.Contains(msg, c.at) || !strings.Contains(msg, c.says) {
				t.Fatalf("want %q at %s, got %v", c.says, c.at, msg)
			}
		})
	}
	// Every kind's roles pass, each tier named.
	ok := "objectives \"gold\" {\n  rpo = \"15m\"\n  rto = \"1h\"\n}\n"
	for _, r := range Roles(KindBucket) {
		ok += "bucket \"" + r + "\" {\n  role = \"" + r + "\"\n  tier = \"gold\"\n}\n"
	}
	for _, r := range Roles(KindGroup) {
		ok += "group \"" + r + "\" {\n  role = \"" + r + "\"\n}\n"
	}
	ok += "volumes {\n  tag = \"Name=acme-dataset\"\n  role = \"dataset\"\n  tier = \"gold\"\n}\n"
	if _, err := Parse([]byte(ok), "estate.hcl"); err != nil {
		t.Fatal(err)
	}
}
