package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNewMasksEnvSecretsLiteralsAndPatterns(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	r := New([]string{
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"XDG_SESSION_TYPE=tty",
		"HOME=/home/op",
		"GITHUB_TOKEN=short",
		`WEIRD_PASSWORD=a"b<c>d&e\f`,
	}, "hunter22", "abc")
	for in, want := range map[string]string{
		"key is " + secret:                           "key is (sensitive)",
		"id AKIAIOSFODNN7EXAMPLE used":               "id (sensitive) used",
		"role AROAIOSFODNN7EXAMPLE":                  "role (sensitive)",
		"password=hunter23 next":                     "password=(sensitive) next",
		`"api_key": "abcd1234"`:                      `"api_key": "(sensitive)"`,
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9": "Authorization: Bearer (sensitive)",
		"Authorization: Basic\tdXNlcjpwYXNzd29yZA==": "Authorization: Basic\t(sensitive)",
		"session tty on /home/op":                    "session tty on /home/op",
		"token: short":                               "token: (sensitive)",
		"user hunter22 logged in":                    "user (sensitive) logged in",
		"abc is too short to mask":                   "abc is too short to mask",
		`json "a\"b\u003cc\u003ed\u0026e\\f" text`:   `json "(sensitive)" text`,
		"plain text":                                 "plain text",
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLiteralsLeavesPatternsAlone(t *testing.T) {
	r := Literals("s3cr3t", "abc")
	if got := r.String("token=s3cr3t AKIAIOSFODNN7EXAMPLE abc"); got != "token=(sensitive) AKIAIOSFODNN7EXAMPLE abc" {
		t.Errorf("String = %q", got)
	}
	if got := Literals().String("password=hunter22"); got != "password=hunter22" {
		t.Errorf("empty Literals changed %q", got)
	}
	raw := json.RawMessage(`{ "b": "x",  "a": [1, 2.50, true, null] }`)
	if got := Literals().JSON(raw); string(got) != string(raw) {
		t.Errorf("empty Literals rewrote JSON: %s", got)
	}
}

func TestNilAppliesPatternsOnly(t *testing.T) {
	var r *Redactor
	if got := r.String("id AKIAIOSFODNN7EXAMPLE hunter22"); got != "id (sensitive) hunter22" {
		t.Errorf("String = %q", got)
	}
	if got := r.With("hunter22").String("id AKIAIOSFODNN7EXAMPLE hunter22"); got != "id (sensitive) (sensitive)" {
		t.Errorf("With = %q", got)
	}
}

func TestWithAddsLiterals(t *testing.T) {
	base := Literals("first-secret")
	more := base.With("second-secret", "xy")
	if got := more.String("first-secret second-secret xy"); got != "(sensitive) (sensitive) xy" {
		t.Errorf("With = %q", got)
	}
	if got := base.String("second-secret"); got != "second-secret" {
		t.Errorf("With changed its receiver: %q", got)
	}
	if got := more.String("password=abcd1234"); got != "password=abcd1234" {
		t.Errorf("With added patterns to a Literals redactor: %q", got)
	}
}

func TestLongestSecretMaskedWhole(t *testing.T) {
	r := Literals("abcd", "abcdefgh")
	if got := r.String("xabcdefghx"); got != "x(sensitive)x" {
		t.Errorf("String = %q", got)
	}
}

func TestJSON(t *testing.T) {
	r := New([]string{"HF_TOKEN=hf_abcdefgh"}, "a<b>c\u00e9")
	for in, want := range map[string]string{
		`{"stdout":"token hf_abcdefgh","n":12.50,"ok":true,"z":null}`: `{"stdout":"token (sensitive)","n":12.50,"ok":true,"z":null}`,
		// Order is kept, spaces go.
		`{ "b": 1, "a": [ "x", {"c": "d"} ] }`: `{"b":1,"a":["x",{"c":"d"}]}`,
		// However the document escaped it.
		`{"v":"\u0061\u003cb>c\u00e9!"}`: `{"v":"(sensitive)!"}`,
		// A name that marks its value as secret.
		`{"env":{"DB_PASSWORD":"hunter22","REGION":"us-west-2"}}`: `{"env":{"DB_PASSWORD":"(sensitive)","REGION":"us-west-2"}}`,
		// A match that would run past the string keeps the masked strings.
		`{"token":1234}`:         `{"token":1234}`,
		`"AKIAIOSFODNN7EXAMPLE"`: `"(sensitive)"`,
		`{"hf_abcdefgh":1}`:      `{"(sensitive)":1}`,
		`not json hf_abcdefgh`:   `"(sensitive)"`,
		`{"a":1} {"b":2}`:        `"(sensitive)"`,
	} {
		got := r.JSON(json.RawMessage(in))
		if string(got) != want {
			t.Errorf("JSON(%s) = %s, want %s", in, got, want)
		}
		if !json.Valid(got) {
			t.Errorf("JSON(%s) = %s: not JSON", in, got)
		}
	}
	if got := r.JSON(nil); got != nil {
		t.Errorf("JSON(nil) = %q", got)
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "GITHUB_TOKEN": true, "db_password": true,
		"HF_API_KEY": true, "AWS_REGION": false, "PATH": false, "MODEL": false, "XDG_SESSION_ID": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHasKeyID(t *testing.T) {
	for s, want := range map[string]bool{
		"AKIAIOSFODNN7EXAMPLE": true, "x ASIAIOSFODNN7EXAMPLE y": true, "AIDAIOSFODNN7EXAMPLE": true,
		"AKIAIOSFODNN7EXAMPL": false, "XAKIAIOSFODNN7EXAMPLE": false, "us-west-2": false,
	} {
		if got := HasKeyID(s); got != want {
			t.Errorf("HasKeyID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMarkerKeepsJSONValid(t *testing.T) {
	if strings.ContainsAny(Marker, `"\`) {
		t.Fatalf("marker %q holds a quote or backslash", Marker)
	}
}
