package inventory

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/drconsole/drconsole/internal/awsx"
)

// Group is an auto-scaling group with its instances.
type Group struct {
	Name      string
	Region    string
	Min       int32
	Max       int32
	Desired   int32
	InService int
	Pending   int
	Instances []Instance
	// Tags are the group's tags; drconsole:role = dr-fleet marks the DR
	// fleet when no estate file names the group.
	Tags map[string]string
}

// Instance is one member of a group.
type Instance struct {
	ID     string
	State  string // Pending, InService, Terminating, ...
	Health string // Healthy, Unhealthy
	Zone   string
	Type   string
}

// Groups describes the auto-scaling groups in region (all of them when
// names is empty).
func Groups(ctx context.Context, c awsx.ClientSource, region string, names ...string) ([]Group, error) {
	cl, err := c.AutoScaling(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("describe auto-scaling groups in %s: %w", region, err)
	}
	var out []Group
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(cl, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe auto-scaling groups in %s: %w", region, err)
		}
		for _, g := range page.AutoScalingGroups {
			gr := Group{
				Name: aws.ToString(g.AutoScalingGroupName), Region: region,
				Min: aws.ToInt32(g.MinSize), Max: aws.ToInt32(g.MaxSize), Desired: aws.ToInt32(g.DesiredCapacity),
			}
			if len(g.Tags) > 0 {
				gr.Tags = make(map[string]string, len(g.Tags))
				for _, t := range g.Tags {
					gr.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			for _, in := range g.Instances {
				i := Instance{ID: aws.ToString(in.InstanceId), State: string(in.LifecycleState), Health: aws.ToString(in.HealthStatus),
					Zone: aws.ToString(in.AvailabilityZone), Type: aws.ToString(in.InstanceType)}
				switch {
				case i.State == "InService" && i.Health != "Unhealthy":
					gr.InService++
				case len(i.State) >= 7 && i.State[:7] == "Pending":
					gr.Pending++
				}
				gr.Instances = append(gr.Instances, i)
			}
			sort.Slice(gr.Instances, func(a, b int) bool { return gr.Instances[a].ID < gr.Instances[b].ID })
			out = append(out, gr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Alarm is a CloudWatch alarm, metric or composite.
type Alarm struct {
	Name      string
	Region    string
	Composite bool
	State     string // OK, ALARM, INSUFFICIENT_DATA
	Reason    string
	Updated   time.Time
	Metric    string // namespace/metric for a metric alarm; the rule for a composite
}

// Alarms lists the metric and composite alarms in region. DescribeAlarms
// returns only metric alarms unless asked for both.
func Alarms(ctx context.Context, c awsx.ClientSource, region string) ([]Alarm, error) {
	cl, err := c.CloudWatch(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("describe alarms in %s: %w", region, err)
	}
	var out []Alarm
	p := cloudwatch.NewDescribeAlarmsPaginator(cl, &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe alarms in %s: %w", region, err)
		}
		for _, a := range page.MetricAlarms {
			out = append(out, Alarm{Name: aws.ToString(a.AlarmName), Region: region, State: string(a.StateValue),
				Reason: aws.ToString(a.StateReason), Updated: aws.ToTime(a.StateUpdatedTimestamp),
				Metric: aws.ToString(a.Namespace) + "/" + aws.ToString(a.MetricName)})
		}
		for _, a := range page.CompositeAlarms {
			out = append(out, Alarm{Name: aws.ToString(a.AlarmName), Region: region, Composite: true, State: string(a.StateValue),
				Reason: aws.ToString(a.StateReason), Updated: aws.ToTime(a.StateUpdatedTimestamp), Metric: aws.ToString(a.AlarmRule)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
