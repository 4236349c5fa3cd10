package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFault(t *testing.T) {
	cases := []struct {
		in   string
		want Fault
		err  string
	}{
		{in: "throttle:0.1", want: Fault{Kind: FaultThrottle, Rate: 0.1}},
		{in: "throttle", want: Fault{Kind: FaultThrottle}},
		{in: "latency:50ms", want: Fault{Kind: FaultLatency, Latency: 50 * time.Millisecond}},
		{in: "latency:50ms,service=s3,op=PutObject", want: Fault{Kind: FaultLatency, Latency: 50 * time.Millisecond, Service: "s3", Operation: "PutObject"}},
		{in: "outage:us-east-1", want: Fault{Kind: FaultOutage, Region: "us-east-1"}},
		{in: "error5xx:0.5,service=backup,region=us-west-2", want: Fault{Kind: FaultError5xx, Rate: 0.5, Service: "backup", Region: "us-west-2"}},
		{in: "drop,rate=0.25", want: Fault{Kind: FaultDrop, Rate: 0.25}},
		{in: "drop,service=s3,writes=true,every=10", want: Fault{Kind: FaultDrop, Service: "s3", Writes: true, Every: 10}},
		{in: "drop,every=ten", err: "every"},
		{in: "drop,every=-1", err: "positive count"},
		{in: "drop:0.5,every=2", err: "no rate with it"},
		{in: "drop,writes=maybe", err: "writes"},
		{in: "THROTTLE:1,from=2026-01-01T00:00:00Z,until=2026-01-02T00:00:00Z", want: Fault{Kind: FaultThrottle, Rate: 1,
			From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{in: "throttle:500/s,service=s3,op=CopyObject", want: Fault{Kind: FaultThrottle, PerSecond: 500, Service: "s3", Operation: "CopyObject"}},
		{in: "throttle,per_second=2.5", want: Fault{Kind: FaultThrottle, PerSecond: 2.5}},
		{in: "throttle:fast/s", err: "rate limit"},
		{in: "throttle:-1/s", err: "positive number"},
		{in: "throttle:0.5,per_second=10", err: "not both"},
		{in: "drop,per_second=10", err: "throttle fault only"},
		{in: "meteor", err: "unknown fault kind"},
		{in: "throttle:lots", err: "rate"},
		{in: "throttle:2", err: "outside [0, 1]"},
		{in: "latency", err: "positive latency"},
		{in: "latency:soon", err: "latency"},
		{in: "throttle,colour=red", err: "unknown key"},
		{in: "throttle,service", err: "KEY=VALUE"},
		{in: "throttle,from=2026-01-02T00:00:00Z,until=2026-01-01T00:00:00Z", err: "ends before it starts"},
	}
	for _, c := range cases {
		got, err := ParseFault(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseFault(%q) error %v, want one mentioning %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestFaultJSONRoundTrip(t *testing.T) {
	f := Fault{Kind: FaultLatency, Latency: 75 * time.Millisecond, Service: "monitoring", Rate: 0.5}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latency":"75ms"`) {
		t.Fatalf("latency is not a duration string: %s", b)
	}
	var back Fault
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

// TestTokenBucket: a partition gets a tenth of a second's worth at once,
// then the rate, and idling refills no more than the burst.
func TestTokenBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b tokenBucket
	taken := func(at time.Time, n int) int {
		got := 0
		for range n {
			if b.take(at, 100) {
				got++
			}
		}
		return got
	}
	if got := taken(t0, 50); got != 10 {
		t.Fatalf("burst: %d of 50 at once, want 10", got)
	}
	if got := taken(t0.Add(50*time.Millisecond), 50); got != 5 {
		t.Fatalf("after 50ms at 100/s: %d, want 5", got)
	}
	if got := taken(t0.Add(time.Hour), 50); got != 10 {
		t.Fatalf("after an idle hour: %d, want the burst of 10", got)
	}
	var slow tokenBucket
	if !slow.take(t0, 2) || slow.take(t0, 2) || !slow.take(t0.Add(500*time.Millisecond), 2) {
		t.Fatal("a limit of 2/s allows one request, then one every 500ms")
	}
}

func TestS3Partition(t *testing.T) {
	s := &s3Service{}
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1/models/a/b/x.bin", "models/a/b/"},
		{"http://127.0.0.1/models/x.bin", "models/"},
		{"http://127.0.0.1/models?versions&prefix=ckpt/run-1/", "models/ckpt/run-1/"},
		{"http://models.localhost/a/x.bin", "models/a/"},
	} {
		r := httptest.NewRequest(http.MethodGet, c.url, nil)
		if got := s.partition(r, ""); got != c.want {
			t.Errorf("partition of %s = %q, want %q", c.url, got, c.want)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"throttle:0.1", "throttle:500/s,op=CopyObject", "latency:50ms,service=s3", "outage:us-east-1", "drop,rate=1", "x,y=z", "drop,writes=true,every=10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFault(s)
		if err != nil {
			return
		}
		if err := fl.validate(); err != nil {
			t.Fatalf("ParseFault(%q) returned an invalid fault: %v", s, err)
		}
	})
}

func TestAlarmRules(t *testing.T) {
	states := map[string]string{"a": "ALARM", "b": "OK", "c": "INSUFFICIENT_DATA"}
	stateOf := func(n string) string { return states[n] }
	cases := []struct {
		rule string
		want bool
		err  bool
	}{
		{rule: "ALARM(a)", want: true},
		{rule: "ALARM(b)", want: false},
		{rule: `ALARM("a") OR ALARM(b)`, want: true},
		{rule: "ALARM(a) AND ALARM(b)", want: false},
		{rule: "ALARM(a) AND NOT OK(b)", want: false},
		{rule: "NOT (ALARM(b) OR INSUFFICIENT_DATA(b))", want: true},
		{rule: "INSUFFICIENT_DATA(c) and ok(b)", want: true},
		{rule: "ALARM(b) OR ALARM(c) OR TRUE", want: true},
		{rule: "FALSE", want: false},
		{rule: "ALARM(missing)", want: false},
		{rule: "ALARM(a) OR", err: true},
		{rule: "ALARM(a", err: true},
		{rule: "ALARM()", err: true},
		{rule: "RED(a)", err: true},
		{rule: `ALARM("a)`, err: true},
		{rule: "(ALARM(a)", err: true},
		{rule: "ALARM(a) ALARM(b)", err: true},
	}
	for _, c := range cases {
		r, err := parseAlarmRule(c.rule)
		if c.err {
			if err == nil {
				t.Errorf("parseAlarmRule(%q) accepted a bad rule", c.rule)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseAlarmRule(%q): %v", c.rule, err)
			continue
		}
		if got := r.eval(stateOf); got != c.want {
			t.Errorf("%q = %v, want %v", c.rule, got, c.want)
		}
	}
}

func FuzzAlarmRule(f *testing.F) {
	for _, s := range []string{"ALARM(a) OR ALARM(b)", "NOT (OK(x) AND TRUE)", `ALARM("q")`, "((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseAlarmRule(s)
		if err != nil {
			return
		}
		r.eval(func(string) string { return "ALARM" })
	})
}

func TestQueryDoc(t *testing.T) {
	f, err := url.ParseQuery("Action=PutMetricAlarm&Version=2010-08-01&AlarmName=x&Dimensions.member.1.Name=A&Dimensions.member.1.Value=1" +
		"&Dimensions.member.2.Name=B&Dimensions.member.2.Value=2&AlarmActions.member.1=arn1&MetricDataQueries.member.1.MetricStat.Metric.MetricName=M" +
		"&MetricDataQueries.member.1.Id=q")
	if err != nil {
		t.Fatal(err)
	}
	got := queryDoc(form(f))
	want := doc{"AlarmName": "x",
		"Dimensions":        []any{doc{"Name": "A", "Value": "1"}, doc{"Name": "B", "Value": "2"}},
		"AlarmActions":      []any{"arn1"},
		"MetricDataQueries": []any{doc{"Id": "q", "MetricStat": doc{"Metric": doc{"MetricName": "M"}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("queryDoc:\n got %#v\nwant %#v", got, want)
	}
}

func FuzzQueryDoc(f *testing.F) {
	f.Add("A.member.1.B=x&A.member.2=y&C=z")
	f.Add("A.member.x.B=1&A.member=2&A=3&A.member.1=4")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		d := newXMLDoc()
		writeDocXML(d, queryDoc(form(q)))
	})
}

func TestSigV4Canonicalisation(t *testing.T) {
	if got := awsEscape("a b/c~d+e%", false); got != "a%20b/c~d%2Be%25" {
		t.Errorf("awsEscape path: %s", got)
	}
	if got := awsEscape("a/b", true); got != "a%2Fb" {
		t.Errorf("awsEscape query: %s", got)
	}
	if got := canonicalQuery("b=2&a=2&a=1&X-Amz-Signature=zz&c=x+y", true); got != "a=1&a=2&b=2&c=x%20y" {
		t.Errorf("canonicalQuery: %s", got)
	}
	// The example request of the SigV4 documentation (IAM ListUsers).
	r := httptest.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	sc := credentialScope{Service: "iam", SignedHeaders: []string{"content-type", "host", "x-amz-date"}}
	creq := canonicalRequest(r, sc, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	want := "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if creq != want {
		t.Fatalf("canonical request:\n%s\nwant\n%s", creq, want)
	}
	key := signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")
	if got := hexOf(key); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Fatalf("signing key %s", got)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestParseScope(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260501/us-west-2/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	sc, ok := parseScope(r)
	if !ok || sc.Service != "monitoring" || sc.Region != "us-west-2" || sc.AccessKey != "AKID" || len(sc.SignedHeaders) != 2 || sc.Signature != "abc" {
		t.Fatalf("scope: %+v %v", sc, ok)
	}
	p := httptest.NewRequest(http.MethodGet, "/b/k?X-Amz-Credential=AKID%2F20260501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Expires=60", nil)
	sc, ok = parseScope(p)
	if !ok || !sc.Presigned || sc.Service != "s3" || sc.Expires != time.Minute {
		t.Fatalf("presigned scope: %+v %v", sc, ok)
	}
	if _, ok := parseScope(httptest.NewRequest(http.MethodGet, "/", nil)); ok {
		t.Fatal("an unsigned request has a scope")
	}
}

func TestRequestLogRing(t *testing.T) {
	l := newRequestLog(3)
	for i := 1; i <= 5; i++ {
		l.add(RequestRecord{Status: i})
	}
	var got []int
	for _, r := range l.all() {
		got = append(got, r.Status)
	}
	if !reflect.DeepEqual(got, []int{3, 4, 5}) {
		t.Fatalf("ring keeps %v, want the last three in order", got)
	}
}

func TestPageTokens(t *testing.T) {
	lo, hi, next := page("Op", 7, 0, 5)
	if lo != 0 || hi != 5 || next == "" {
		t.Fatalf("first page %d..%d next %q", lo, hi, next)
	}
	off, ok := parsePageToken("Op", next)
	if !ok || off != 5 {
		t.Fatalf("token offset %d %v", off, ok)
	}
	if _, ok := parsePageToken("OtherOp", next); ok {
		t.Fatal("a token was accepted by another operation")
	}
	if lo, hi, next := page("Op", 7, off, 5); lo != 5 || hi != 7 || next != "" {
		t.Fatalf("last page %d..%d next %q", lo, hi, next)
	}
}

// TestAdminFaultsEvery reads the every-Nth-write selector in both forms the
// admin endpoint takes.
func TestAdminFaultsEvery(t *testing.T) {
	want := Fault{Kind: FaultDrop, Service: "s3", Writes: true, Every: 10}
	for _, body := range []string{
		`["drop,service=s3,writes=true,every=10"]`,
		`[{"kind":"drop","service":"s3","writes":true,"every":10}]`,
	} {
		fs, err := parseAdminFaults([]byte(body))
		if err != nil || len(fs) != 1 || !reflect.DeepEqual(fs[0], want) {
			t.Errorf("parseAdminFaults(%s) = %+v, %v; want %+v", body, fs, err, want)
		}
	}
	b, err := json.Marshal(want)
	if err != nil || !strings.Contains(string(b), `"writes":true`) || !strings.Contains(string(b), `"every":10`) {
		t.Errorf("marshalled %s, %v", b, err)
	}
}
