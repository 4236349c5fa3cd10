package sandbox_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/drconsole/drconsole/internal/sandbox"
)

func alarmStates(t *testing.T, e *env, c *cloudwatch.Client) map[string]cwtypes.StateValue {
	t.Helper()
	out := must(c.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}}))(t)
	m := map[string]cwtypes.StateValue{}
	for _, a := range out.MetricAlarms {
		m[*a.AlarmName] = a.StateValue
	}
	for _, a := range out.CompositeAlarms {
		m[*a.AlarmName] = a.StateValue
	}
	return m
}

func TestCloudWatchAlarmsFollowTheFleet(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 2, InstanceWarmup: 30 * time.Second})
	cw := cloudwatch.NewFromConfig(e.region("us-west-2"))
	st := alarmStates(t, e, cw)
	want := map[string]cwtypes.StateValue{sandbox.DefaultNames().AlarmDRCapacity: "ALARM", sandbox.DefaultNames().Alarm5xx: "INSUFFICIENT_DATA",
		sandbox.DefaultNames().AlarmP99: "INSUFFICIENT_DATA", sandbox.DefaultNames().AlarmHealth: "OK"}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("cold DR region: %s is %s, want %s", k, st[k], v)
		}
	}
	// Only metric alarms unless composite ones are asked for.
	def := must(cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{}))(t)
	if len(def.CompositeAlarms) != 0 || len(def.MetricAlarms) != 3 {
		t.Fatalf("default DescribeAlarms: %d metric, %d composite", len(def.MetricAlarms), len(def.CompositeAlarms))
	}
	asg := autoscaling.NewFromConfig(e.region("us-west-2"))
	must(asg.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), DesiredCapacity: aws.Int32(2)}))(t)
	if st := alarmStates(t, e, cw); st[sandbox.DefaultNames().AlarmDRCapacity] != "ALARM" {
		t.Fatalf("capacity alarm while instances warm up: %s", st[sandbox.DefaultNames().AlarmDRCapacity])
	}
	e.advance(30 * time.Second)
	for k, v := range alarmStates(t, e, cw) {
		if v != "OK" {
			t.Errorf("DR fleet in service: %s is %s, want OK", k, v)
		}
	}
	// The metric behind the capacity alarm.
	md := must(cw.GetMetricData(e.ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0.Add(time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m1"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Minimum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/AutoScaling"), MetricName: aws.String("GroupInServiceInstances"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("AutoScalingGroupName"), Value: aws.String(sandbox.DefaultNames().DRGroup)}}}}}}}))(t)
	r := md.MetricDataResults[0]
	if len(r.Values) == 0 || r.Values[0] != 2 || r.StatusCode != cwtypes.StatusCodeComplete {
		t.Fatalf("GroupInServiceInstances: %v %v", r.Values, r.Timestamps)
	}
	if len(r.Values) < 2 || r.Values[len(r.Values)-1] != 0 {
		t.Fatalf("history before the scale-out should read 0: %v", r.Values)
	}
	gs := must(cw.GetMetricStatistics(e.ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/AutoScaling"),
		MetricName: aws.String("GroupDesiredCapacity"), StartTime: aws.Time(t0.Add(-5 * time.Minute)), EndTime: aws.Time(t0.Add(time.Minute)),
		Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum},
		Dimensions: []cwtypes.Dimension{{Name: aws.String("AutoScalingGroupName"), Value: aws.String(sandbox.DefaultNames().DRGroup)}}}))(t)
	if len(gs.Datapoints) == 0 || *gs.Datapoints[0].Maximum != 2 {
		t.Fatalf("GroupDesiredCapacity datapoints: %+v", gs.Datapoints)
	}
}

func TestCloudWatchAlarmAPI(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 2})
	cw := cloudwatch.NewFromConfig(e.cfg)
	for i, n := range []string{"x-a", "x-b", "x-c"} {
		must(cw.PutMetricAlarm(e.ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(n), Namespace: aws.String("AWS/AutoScaling"),
			MetricName: aws.String("GroupInServiceInstances"), Statistic: cwtypes.StatisticMinimum, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(float64(3 + i)), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("AutoScalingGroupName"), Value: aws.String(sandbox.DefaultNames().PrimaryGroup)}}}))(t)
	}
	must(cw.PutCompositeAlarm(e.ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("x-any"),
		AlarmRule: aws.String(`ALARM("x-a") OR (ALARM(x-b) AND NOT OK(x-c))`)}))(t)
	st := alarmStates(t, e, cw)
	// The primary fleet has 4 in service: below 5 alarms, below 3 and 4 do not.
	if st["x-a"] != "OK" || st["x-b"] != "OK" || st["x-c"] != "ALARM" || st["x-any"] != "OK" {
		t.Fatalf("states: %v", st)
	}
	must(cw.SetAlarmState(e.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("x-a"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("drill")}))(t)
	if st := alarmStates(t, e, cw); st["x-a"] != "ALARM" || st["x-any"] != "ALARM" {
		t.Fatalf("after SetAlarmState: %v", st)
	}
	e.advance(time.Minute)
	if st := alarmStates(t, e, cw); st["x-a"] != "OK" {
		t.Fatalf("a set state lasts until the next evaluation; got %v", st["x-a"])
	}
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("x-"), MaxRecords: aws.Int32(2),
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
	pages, n := 0, 0
	for p.HasMorePages() {
		out := must(p.NextPage(e.ctx))(t)
		pages++
		n += len(out.MetricAlarms) + len(out.CompositeAlarms)
	}
	if pages != 2 || n != 4 {
		t.Fatalf("paged %d alarms over %d pages, want 4 over 2", n, pages)
	}
	byState := must(cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueAlarm, AlarmNamePrefix: aws.String("x-")}))(t)
	if len(byState.MetricAlarms) != 1 || *byState.MetricAlarms[0].AlarmName != "x-c" {
		t.Fatalf("StateValue filter: %d alarms", len(byState.MetricAlarms))
	}
	kids := must(cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{ChildrenOfAlarmName: aws.String("x-any"),
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}}))(t)
	if len(kids.MetricAlarms) != 3 || len(kids.CompositeAlarms) != 0 {
		t.Fatalf("children of x-any: %d metric, %d composite", len(kids.MetricAlarms), len(kids.CompositeAlarms))
	}
	parents := must(cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{ParentsOfAlarmName: aws.String("x-b"),
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}}))(t)
	if len(parents.CompositeAlarms) != 1 || *parents.CompositeAlarms[0].AlarmName != "x-any" {
		t.Fatalf("parents of x-b: %+v", parents.CompositeAlarms)
	}
	_, err := cw.SetAlarmState(e.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")})
	wantCode(t, err, "ResourceNotFound", 404)
	_, err = cw.PutMetricAlarm(e.ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("bad"), Namespace: aws.String("N"), MetricName: aws.String("M"),
		Period: aws.Int32(7), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	wantCode(t, err, "InvalidParameterValue", 400)
	_, err = cw.PutCompositeAlarm(e.ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("bad"), AlarmRule: aws.String("ALARM(a) OR")})
	wantCode(t, err, "InvalidParameterValue", 400)
	_, err = cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("zzz")})
	wantCode(t, err, "InvalidNextToken", 400)
	must(cw.DeleteAlarms(e.ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"x-any"}}))(t)
	if _, ok := alarmStates(t, e, cw)["x-any"]; ok {
		t.Fatal("x-any still there after DeleteAlarms")
	}
}
