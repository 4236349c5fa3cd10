package redact

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks the two promises: no literal secret long enough to be
// masked survives, in text or in a JSON document's strings, and JSON in is
// valid JSON out.
func FuzzRedact(f *testing.F) {
	f.Add("plain output", "s3cr3t-token-value", `{"a":"b"}`)
	f.Add(`password="abc123456" and "quotes" \ back`, `we"ird\secret<>&`, `["x",1,{"y":null}]`)
	f.Add("AKIAIOSFODNN7EXAMPLE", "abcd", `"AKIAIOSFODNN7EXAMPLE"`)
	f.Add("Bearer\tabcdefghij", "é\u00e9é", `{"token": 12}`)
	f.Fuzz(func(t *testing.T, text, secret, doc string) {
		if !utf8.ValidString(text) || !utf8.ValidString(secret) {
			return // events carry UTF-8 text: exec output is made valid before it is logged
		}
		r := New([]string{"MY_SECRET=" + secret}, secret)
		masked := len(secret) >= MinLiteral &&
			// A secret that shares characters with the marker's edges can
			// be spelled again by the marker and its neighbours.
			!strings.ContainsAny(secret, "()") && !strings.Contains(Marker, secret)

		if got := r.String(text + secret + text); masked && strings.Contains(got, secret) {
			t.Errorf("secret %q survives in %q", secret, got)
		}
		in, err := json.Marshal(map[string]string{"stdout": text + secret + text, secret: text})
		if err != nil {
			t.Fatal(err)
		}
		out := r.JSON(in)
		var got map[string]string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("JSON(%s) = %s: %v", in, out, err)
		}
		for k, v := range got {
			if masked && (strings.Contains(k, secret) || strings.Contains(v, secret)) {
				t.Errorf("secret %q survives in %s", secret, out)
			}
		}
		if len(doc) > 0 {
			if out := r.JSON(json.RawMessage(doc)); !json.Valid(out) {
				t.Errorf("JSON(%q) = %q: not JSON", doc, out)
			}
			if out := Literals(secret).JSON(json.RawMessage(doc)); !json.Valid(out) && json.Valid([]byte(doc)) {
				t.Errorf("Literals JSON(%q) = %q: not JSON", doc, out)
			}
		}
	})
}
