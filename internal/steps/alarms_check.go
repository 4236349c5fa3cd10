package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// AlarmsCheck is the alarms_check step type: named CloudWatch alarms, or
// every alarm whose name starts with a prefix, must reach a state within a
// time. It reads only.
//
// DescribeAlarms returns only metric alarms unless AlarmTypes asks for
// composite ones too; this step always asks for both.
type AlarmsCheck struct {
	clients awsx.ClientSource
}

const alarmsDefaultPoll = 15 * time.Second

// Spec implements runbook.StepType.
func (*AlarmsCheck) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":        &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"alarms":        &hcldec.AttrSpec{Name: "alarms", Type: cty.List(cty.String)},
		"alarm_prefix":  &hcldec.AttrSpec{Name: "alarm_prefix", Type: cty.String},
		"expect":        &hcldec.AttrSpec{Name: "expect", Type: cty.String},
		"within":        &hcldec.AttrSpec{Name: "within", Type: cty.String},
		"poll_interval": &hcldec.AttrSpec{Name: "poll_interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (*AlarmsCheck) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{"states": cty.Map(cty.String)})
}

// ValidateConfig implements runbook.ConfigValidator.
func (t *AlarmsCheck) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	_, err := parseAlarmsQuery(cfg)
	return configErrors(specNames(t.Spec()), err)
}

// Destructive implements runbook.StepType.
func (*AlarmsCheck) Destructive() bool { return false }

// alarmsQuery is a validated alarms_check configuration.
type alarmsQuery struct {
	names    []string
	prefix   string
	expect   cwtypes.StateValue
	within   time.Duration
	interval time.Duration
}

func (q alarmsQuery) describe() string {
	if q.prefix != "" {
		return "alarms " + q.prefix + "*"
	}
	return "alarms " + strings.Join(q.names, ", ")
}

func parseAlarmsQuery(cfg cty.Value) (alarmsQuery, error) {
	var q alarmsQuery
	byNames, byPrefix := cfgSet(cfg, "alarms"), cfgSet(cfg, "alarm_prefix")
	if byNames == byPrefix {
		return q, errors.New("set exactly one of alarms and alarm_prefix")
	}
	q.names = cfgStrings(cfg, "alarms")
	q.prefix = cfgString(cfg, "alarm_prefix")
	if byNames && cfgKnown(cfg, "alarms") && len(q.names) == 0 {
		return q, errors.New("alarms is empty")
	}
	if byPrefix && cfgKnown(cfg, "alarm_prefix") && q.prefix == "" {
		return q, errors.New("alarm_prefix is empty")
	}
	expect := strings.ToUpper(cfgString(cfg, "expect"))
	if expect == "" {
		expect = string(cwtypes.StateValueOk)
	}
	switch cwtypes.StateValue(expect) {
	case cwtypes.StateValueOk, cwtypes.StateValueAlarm, cwtypes.StateValueInsufficientData:
		q.expect = cwtypes.StateValue(expect)
	default:
		return q, fmt.Errorf("expect must be OK, ALARM or INSUFFICIENT_DATA, got %q", cfgString(cfg, "expect"))
	}
	var err error
	if q.within, err = cfgDuration(cfg, "within", 0); err != nil {
		return q, err
	}
	if q.interval, err = cfgPollInterval(cfg, alarmsDefaultPoll); err != nil {
		return q, err
	}
	return q, nil
}

// Plan implements runbook.StepType. It checks that the alarms exist, so a
// dry-run catches a misspelt name.
func (t *AlarmsCheck) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	q, err := parseAlarmsQuery(cfg)
	if err != nil {
		return nil, fmt.Errorf("alarms_check: %w", err)
	}
	detail := "expect " + string(q.expect)
	if q.within > 0 {
		detail += " within " + q.within.String()
	}
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "alarms") || !cfgKnown(cfg, "alarm_prefix") {
		return []runbook.Change{{Action: "check", Target: "alarms chosen at apply", Detail: detail}}, nil
	}
	region, _ := cfgRegion(cfg)
	client, err := t.clients.CloudWatch(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("alarms_check: CloudWatch client for %s: %w", region, err)
	}
	if _, err := alarmStates(ctx, client, q); err != nil {
		return nil, err
	}
	return []runbook.Change{{Action: "check", Target: q.describe(), Detail: detail}}, nil
}

// Apply implements runbook.StepType.
func (t *AlarmsCheck) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	q, err := parseAlarmsQuery(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("alarms_check: %w", err)
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	client, err := t.clients.CloudWatch(ctx, region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("alarms_check: CloudWatch client for %s: %w", region, err)
	}
	var states map[string]string
	var off []string
	err = pollUntil(ctx, clockOf(sc), q.interval, q.within, func(ctx context.Context) (bool, error) {
		states, err = alarmStates(ctx, client, q)
		if err != nil {
			return false, err
		}
		off = off[:0]
		for _, name := range sortedKeys(states) {
			if states[name] != string(q.expect) {
				off = append(off, name+" ("+states[name]+")")
			}
		}
		progress(sc, int64(len(states)-len(off)), int64(len(states)), "alarms")
		return len(off) == 0, nil
	})
	if errors.Is(err, errWaitBound) {
		within := ""
		if q.within > 0 {
			within = " within " + q.within.String()
		}
		return cty.NilVal, fmt.Errorf("alarms_check: %d of %d alarms did not reach %s%s: %s",
			len(off), len(states), q.expect, within, strings.Join(off, ", "))
	}
	if err != nil {
		return cty.NilVal, err
	}
	vals := map[string]cty.Value{}
	for name, s := range states {
		vals[name] = cty.StringVal(s)
	}
	return cty.ObjectVal(map[string]cty.Value{"states": cty.MapVal(vals)}), nil
}

// alarmStates reads the state of every alarm the query names, metric and
// composite alike. A named alarm that does not exist is an error, as is a
// prefix that matches nothing.
func alarmStates(ctx context.Context, client *cloudwatch.Client, q alarmsQuery) (map[string]string, error) {
	states := map[string]string{}
	read := func(in *cloudwatch.DescribeAlarmsInput) error {
		in.AlarmTypes = []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}
		p := cloudwatch.NewDescribeAlarmsPaginator(client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("alarms_check: describe %s: %w", q.describe(), err)
			}
			for _, a := range page.MetricAlarms {
				states[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
			for _, a := range page.CompositeAlarms {
				states[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
		}
		return nil
	}
	if q.prefix != "" {
		if err := read(&cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(q.prefix)}); err != nil {
			return nil, err
		}
		if len(states) == 0 {
			return nil, fmt.Errorf("alarms_check: no alarm name starts with %q", q.prefix)
		}
		return states, nil
	}
	// DescribeAlarms takes at most 100 names.
	for i := 0; i < len(q.names); i += 100 {
		if err := read(&cloudwatch.DescribeAlarmsInput{AlarmNames: q.names[i:min(i+100, len(q.names))]}); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, n := range q.names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("alarms_check: no such alarm: %s", strings.Join(missing, ", "))
	}
	return states, nil
}

// DrillPlan implements runbook.Drillable: alarms are only read.
func (*AlarmsCheck) DrillPlan(_ context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	return runbook.DrillPlan{Config: cfg}, nil
}

// RecoveryPoints implements runbook.RecoveryPointer: alarms say nothing
// about the state restored.
func (*AlarmsCheck) RecoveryPoints(runbook.FinishedDrillStep) []runbook.RecoveryPoint { return nil }

// LoggedParams implements runbook.APIParams.
func (*AlarmsCheck) LoggedParams() []string { return []string{"AlarmNames", "AlarmNamePrefix"} }
