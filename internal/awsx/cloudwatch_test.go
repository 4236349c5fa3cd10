package awsx

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

func TestParseCloudWatchProtocol(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CloudWatchProtocol
		ok   bool
	}{
		{"", CloudWatchCBOR, true},
		{"cbor", CloudWatchCBOR, true},
		{" CBOR ", CloudWatchCBOR, true},
		{"query", CloudWatchQuery, true},
		{"Query", CloudWatchQuery, true},
		{"json", 0, false},
		{"xml", 0, false},
	} {
		got, err := ParseCloudWatchProtocol(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseCloudWatchProtocol(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != strings.ToLower(strings.TrimSpace(tc.in)) && tc.in != "" {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if _, err := New(Options{SandboxEndpoint: "http://127.0.0.1:1", CloudWatchProtocol: 7}); err == nil {
		t.Error("an unknown protocol was accepted")
	}
}

// cloudWatch is the DR region's CloudWatch client of the sandbox in the
// given protocol, its calls observed.
func cloudWatch(t *testing.T, srv *sandbox.Server, cfg aws.Config, p CloudWatchProtocol, readOnly bool, obs Observer) *cloudwatch.Client {
	t.Helper()
	c, err := New(Options{
		SandboxEndpoint:    srv.URL(),
		Credentials:        cfg.Credentials,
		CloudWatchProtocol: p,
		ReadOnly:           readOnly,
		Retry:              RetryStandard,
		MaxAttempts:        1,
		Observer:           obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	cw, err := c.CloudWatch(t.Context(), srv.Options().PrimaryRegion)
	if err != nil {
		t.Fatal(err)
	}
	return cw
}

type alarmView struct{ name, state, metric string }

func describeAll(t *testing.T, cw *cloudwatch.Client) []alarmView {
	t.Helper()
	var out []alarmView
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		MaxRecords: aws.Int32(2),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.MetricAlarms {
			out = append(out, alarmView{aws.ToString(a.AlarmName), string(a.StateValue), aws.ToString(a.Namespace) + "/" + aws.ToString(a.MetricName)})
		}
		for _, a := range page.CompositeAlarms {
			out = append(out, alarmView{aws.ToString(a.AlarmName), string(a.StateValue), aws.ToString(a.AlarmRule)})
		}
	}
	return out
}

// The query protocol lists the same alarms and metrics as CBOR, paging
// included, against an endpoint that speaks only query; the guard still
// refuses its writes and the observer still sees its calls.
func TestCloudWatchQueryProtocol(t *testing.T) {
	cborSrv, cborCfg := sandboxtest.Start(t, sandbox.Options{Seed: 3})
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Seed: 3, CloudWatchQueryOnly: true})
	var calls []Call
	obs := ObserverFunc(func(c Call) { calls = append(calls, c) })
	want := describeAll(t, cloudWatch(t, cborSrv, cborCfg, CloudWatchCBOR, false, nil))
	if len(want) < 2 {
		t.Fatalf("the seeded estate has %d alarms", len(want))
	}
	q := cloudWatch(t, srv, cfg, CloudWatchQuery, false, obs)
	got := describeAll(t, q)
	if !slices.Equal(got, want) {
		t.Fatalf("alarms over query:\n%v\nover CBOR:\n%v", got, want)
	}
	for _, c := range calls {
		if c.Service != "cloudwatch" || c.Operation != "DescribeAlarms" || c.Status != 200 || c.RequestID == "" || c.Err != nil {
			t.Errorf("observed %v", c)
		}
	}
	if len(calls) < 2 {
		t.Errorf("observed %d calls, want a page each", len(calls))
	}

	byName, err := q.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{want[0].name, want[1].name}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(byName.MetricAlarms) + len(byName.CompositeAlarms); n == 0 {
		t.Errorf("AlarmNames.member.N found no alarm of %q, %q", want[0].name, want[1].name)
	}

	now := time.Now()
	md, err := q.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("m0"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/S3"), MetricName: aws.String("ReplicationLatency"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("SourceBucket"), Value: aws.String("b")}}},
				Period: aws.Int32(300), Stat: aws.String("Maximum"),
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(md.MetricDataResults) != 1 || aws.ToString(md.MetricDataResults[0].Id) != "m0" {
		t.Errorf("GetMetricData over query: %+v", md.MetricDataResults)
	}

	// The service's errors arrive with their query codes.
	_, err = q.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m0"), Expression: aws.String("SUM(x)")}},
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() == "" || ae.ErrorMessage() == "" {
		t.Errorf("an invalid GetMetricData over query: %v", err)
	}

	before := len(srv.Requests())
	ro := cloudWatch(t, srv, cfg, CloudWatchQuery, true, nil)
	_, err = ro.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(want[0].name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("drill")})
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("a read-only SetAlarmState over query: %v", err)
	}
	if _, err := ro.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Errorf("a read-only DescribeAlarms over query: %v", err)
	}
	for _, r := range srv.Requests()[before:] {
		if r.Operation == "SetAlarmState" {
			t.Errorf("the guarded SetAlarmState reached the sandbox")
		}
	}
}

// The CBOR client against a query-only endpoint says so and what to
// change, instead of failing inside the CBOR decoder.
func TestCloudWatchCBORAgainstQueryOnly(t *testing.T) {
	srv, cfg := sandboxtest.Start(t, sandbox.Options{CloudWatchQueryOnly: true})
	_, err := cloudWatch(t, srv, cfg, CloudWatchCBOR, false, nil).DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{})
	var nc *NotCBORError
	if !errors.As(err, &nc) || nc.Status != 404 || !strings.HasPrefix(nc.ContentType, "text/xml") && !strings.HasPrefix(nc.ContentType, "application/xml") {
		t.Fatalf("CBOR against query-only: %v (%#v)", err, nc)
	}
	for _, want := range []string{"RPC v2 CBOR", "status 404", "--cloudwatch-protocol query", `cloudwatch_protocol = "query"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "minor value") {
		t.Errorf("the CBOR decoder still read the answer: %v", err)
	}
}
