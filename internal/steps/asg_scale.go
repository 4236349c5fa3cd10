package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// ASGScale is the asg_scale step type: it sets an auto-scaling group's
// desired capacity (and optionally its min and max) and waits until that
// many healthy instances are InService.
//
// The SDK's GroupInService waiter compares InService instances with
// MinSize, which is met at once when only the desired capacity is raised;
// this step compares with the desired capacity instead.
type ASGScale struct {
	clients awsx.ClientSource
}

const (
	asgDefaultPoll = 10 * time.Second
	asgDefaultWait = 30 * time.Minute
)

// Spec implements runbook.StepType.
func (*ASGScale) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"region":        &hcldec.AttrSpec{Name: "region", Type: cty.String, Required: true},
		"group":         &hcldec.AttrSpec{Name: "group", Type: cty.String, Required: true},
		"desired":       &hcldec.AttrSpec{Name: "desired", Type: cty.Number, Required: true},
		"min":           &hcldec.AttrSpec{Name: "min", Type: cty.Number},
		"max":           &hcldec.AttrSpec{Name: "max", Type: cty.Number},
		"wait_for":      &hcldec.AttrSpec{Name: "wait_for", Type: cty.String},
		"poll_interval": &hcldec.AttrSpec{Name: "poll_interval", Type: cty.String},
	}
}

// Outputs implements runbook.StepType.
func (*ASGScale) Outputs() cty.Type {
	return cty.Object(map[string]cty.Type{
		"previous_desired": cty.Number,
		"previous_min":     cty.Number,
		"previous_max":     cty.Number,
		"desired":          cty.Number,
		"in_service":       cty.Number,
	})
}

// Destructive implements runbook.StepType: scaling a fleet changes what
// serves traffic and what it costs.
func (*ASGScale) Destructive() bool { return true }

// BlastRadius is the token an operator types to approve the step:
// GROUP@REGION.
func (*ASGScale) BlastRadius(cfg cty.Value) string {
	g, r := cfgString(cfg, "group"), cfgString(cfg, "region")
	if g == "" || r == "" {
		return ""
	}
	return g + "@" + r
}

// ValidateConfig implements runbook.ConfigValidator. A desired capacity
// not known yet (it comes from another step) is checked at apply.
func (t *ASGScale) ValidateConfig(cfg cty.Value) []runbook.ConfigError {
	if !cfg.IsKnown() || cfg.IsNull() {
		return nil
	}
	desiredKnown := cfgKnown(cfg, "desired")
	if !desiredKnown {
		attrs := cfg.AsValueMap()
		attrs["desired"] = cty.NumberIntVal(0)
		cfg = cty.ObjectVal(attrs)
	}
	tg, err := t.target(cfg)
	if err == nil && tg.min != nil && tg.max != nil && *tg.min > *tg.max {
		err = fmt.Errorf("min %d is above max %d", *tg.min, *tg.max)
	}
	if err == nil && desiredKnown && (tg.min != nil && tg.desired < *tg.min || tg.max != nil && tg.desired > *tg.max) {
		err = fmt.Errorf("desired %d is outside min and max", tg.desired)
	}
	return configErrors(specNames(t.Spec()), err)
}

// asgTarget is the capacity a step asks for; nil fields are left as they
// are.
type asgTarget struct {
	desired  int32
	min, max *int32
}

func (t *ASGScale) target(cfg cty.Value) (asgTarget, error) {
	var tg asgTarget
	read := func(name string) (*int32, error) {
		n, ok, err := cfgInt(cfg, name)
		if err != nil || !ok {
			return nil, err
		}
		if n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("%s must be between 0 and %d, got %d", name, 1<<20, n)
		}
		v := int32(n)
		return &v, nil
	}
	d, err := read("desired")
	if err != nil {
		return tg, err
	}
	if d == nil {
		return tg, errors.New("desired must be set")
	}
	tg.desired = *d
	if tg.min, err = read("min"); err != nil {
		return tg, err
	}
	if tg.max, err = read("max"); err != nil {
		return tg, err
	}
	if _, err := cfgDuration(cfg, "wait_for", 0); err != nil {
		return tg, err
	}
	if _, err := cfgPollInterval(cfg, asgDefaultPoll); err != nil {
		return tg, err
	}
	return tg, nil
}

// asgCapacity is a group's min, max and desired capacity.
type asgCapacity struct{ min, max, desired int32 }

func capacityOf(g astypes.AutoScalingGroup) asgCapacity {
	return asgCapacity{min: aws.ToInt32(g.MinSize), max: aws.ToInt32(g.MaxSize), desired: aws.ToInt32(g.DesiredCapacity)}
}

// after is the capacity once the target is applied; it checks that min <=
// desired <= max holds.
func (tg asgTarget) after(group string, cur asgCapacity) (asgCapacity, error) {
	next := cur
	next.desired = tg.desired
	if tg.min != nil {
		next.min = *tg.min
	}
	if tg.max != nil {
		next.max = *tg.max
	}
	if next.min > next.max {
		return next, fmt.Errorf("asg_scale %s: min %d is above max %d", group, next.min, next.max)
	}
	if next.desired < next.min || next.desired > next.max {
		return next, fmt.Errorf("asg_scale %s: desired %d is outside min %d and max %d (set min or max too)",
			group, next.desired, next.min, next.max)
	}
	return next, nil
}

// asgChanges describes the call that moves cur to next, if any.
func asgChanges(group string, cur, next asgCapacity) []runbook.Change {
	if cur == next {
		return nil
	}
	if cur.min == next.min && cur.max == next.max {
		return []runbook.Change{{Action: "SetDesiredCapacity", Target: group,
			Detail: fmt.Sprintf("%d -> %d", cur.desired, next.desired)}}
	}
	var parts []string
	add := func(name string, a, b int32) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %d -> %d", name, a, b))
		}
	}
	add("min", cur.min, next.min)
	add("max", cur.max, next.max)
	add("desired", cur.desired, next.desired)
	return []runbook.Change{{Action: "UpdateAutoScalingGroup", Target: group, Detail: strings.Join(parts, ", ")}}
}

// Plan implements runbook.StepType.
func (t *ASGScale) Plan(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) ([]runbook.Change, error) {
	group := cfgString(cfg, "group")
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "group") {
		return []runbook.Change{{Action: "SetDesiredCapacity", Target: "group chosen at apply"}}, nil
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return nil, err
	}
	targetKnown := cfgKnown(cfg, "desired") && cfgKnown(cfg, "min") && cfgKnown(cfg, "max")
	var tg asgTarget
	if targetKnown {
		if tg, err = t.target(cfg); err != nil {
			return nil, fmt.Errorf("asg_scale %s: %w", group, err)
		}
	}
	client, err := t.clients.AutoScaling(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("asg_scale: Auto Scaling client for %s: %w", region, err)
	}
	g, err := describeGroup(ctx, client, group)
	if err != nil {
		return nil, err
	}
	cur := capacityOf(g)
	if !targetKnown {
		return []runbook.Change{{Action: "SetDesiredCapacity", Target: group,
			Detail: fmt.Sprintf("%d -> (known at apply)", cur.desired)}}, nil
	}
	next, err := tg.after(group, cur)
	if err != nil {
		return nil, err
	}
	return asgChanges(group, cur, next), nil
}

// Apply implements runbook.StepType.
func (t *ASGScale) Apply(ctx context.Context, sc *runbook.StepContext, cfg cty.Value) (cty.Value, error) {
	region, err := cfgRegion(cfg)
	if err != nil {
		return cty.NilVal, err
	}
	group := cfgString(cfg, "group")
	if group == "" {
		return cty.NilVal, errors.New("asg_scale: group must be set")
	}
	tg, err := t.target(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("asg_scale %s: %w", group, err)
	}
	waitFor, _ := cfgDuration(cfg, "wait_for", 0)
	interval, _ := cfgPollInterval(cfg, asgDefaultPoll)
	client, err := t.clients.AutoScaling(ctx, region)
	if err != nil {
		return cty.NilVal, fmt.Errorf("asg_scale: Auto Scaling client for %s: %w", region, err)
	}
	g, err := describeGroup(ctx, client, group)
	if err != nil {
		return cty.NilVal, err
	}
	cur := capacityOf(g)
	next, err := tg.after(group, cur)
	if err != nil {
		return cty.NilVal, err
	}
	switch {
	case cur == next:
		logLine(sc, "%s already at min %d, max %d, desired %d", group, cur.min, cur.max, cur.desired)
	case cur.min == next.min && cur.max == next.max:
		_, err = client.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: aws.String(group), DesiredCapacity: aws.Int32(next.desired),
		})
	default:
		// One call, so the group never sits between an old bound and a new
		// desired capacity that it rejects.
		_, err = client.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(group), MinSize: aws.Int32(next.min), MaxSize: aws.Int32(next.max),
			DesiredCapacity: aws.Int32(next.desired),
		})
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("asg_scale: scale %s to %d: %w", group, next.desired, err)
	}
	if cur != next {
		logLine(sc, "%s: %s", group, asgChanges(group, cur, next)[0].Detail)
	}
	now := clockOf(sc)
	bound := waitBound(ctx, now, waitFor, asgDefaultWait)
	var inService int32
	err = pollUntil(ctx, now, interval, bound, func(ctx context.Context) (bool, error) {
		g, err := describeGroup(ctx, client, group)
		if err != nil {
			return false, err
		}
		var total int32
		inService, total = countInService(g)
		progress(sc, int64(min(inService, next.desired)), int64(next.desired), "instances")
		// Scaling down is done when the surplus has left the group.
		return inService >= next.desired && total <= next.desired, nil
	})
	if errors.Is(err, errWaitBound) {
		return cty.NilVal, fmt.Errorf("asg_scale %s: %d of %d instances healthy and InService: %w", group, inService, next.desired, err)
	}
	if err != nil {
		return cty.NilVal, err
	}
	return cty.ObjectVal(map[string]cty.Value{
		"previous_desired": cty.NumberIntVal(int64(cur.desired)),
		"previous_min":     cty.NumberIntVal(int64(cur.min)),
		"previous_max":     cty.NumberIntVal(int64(cur.max)),
		"desired":          cty.NumberIntVal(int64(next.desired)),
		"in_service":       cty.NumberIntVal(int64(inService)),
	}), nil
}

// countInService counts the group's healthy InService instances and all
// its instances.
func countInService(g astypes.AutoScalingGroup) (inService, total int32) {
	for _, in := range g.Instances {
		total++
		if in.LifecycleState == astypes.LifecycleStateInService && strings.EqualFold(aws.ToString(in.HealthStatus), "Healthy") {
			inService++
		}
	}
	return inService, total
}

func describeGroup(ctx context.Context, client *autoscaling.Client, group string) (astypes.AutoScalingGroup, error) {
	out, err := client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{group},
	})
	if err != nil {
		return astypes.AutoScalingGroup{}, fmt.Errorf("asg_scale: describe group %s: %w", group, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == group {
			return g, nil
		}
	}
	return astypes.AutoScalingGroup{}, fmt.Errorf("asg_scale: auto-scaling group %s not found", group)
}

// asgDrillState is a group's capacity before a drill scaled it.
type asgDrillState struct {
	Region  string `json:"region"`
	Group   string `json:"group"`
	Min     int32  `json:"min"`
	Max     int32  `json:"max"`
	Desired int32  `json:"desired"`
}

// DrillPlan implements runbook.Drillable: the group is scaled as the
// runbook says, and its capacity now is recorded so teardown scales it
// back.
func (t *ASGScale) DrillPlan(ctx context.Context, _ *runbook.StepContext, cfg cty.Value, _ runbook.Drill) (runbook.DrillPlan, error) {
	if !cfgKnown(cfg, "region") || !cfgKnown(cfg, "group") {
		return runbook.DrillPlan{Config: cfg, Redirects: []runbook.Change{{Action: "scale back at teardown",
			Target: "group chosen at apply", Detail: "to its capacity before the drill"}}}, nil
	}
	region, err := cfgRegion(cfg)
	if err != nil {
		return runbook.DrillPlan{}, err
	}
	group := cfgString(cfg, "group")
	client, err := t.clients.AutoScaling(ctx, region)
	if err != nil {
		return runbook.DrillPlan{}, fmt.Errorf("asg_scale: Auto Scaling client for %s: %w", region, err)
	}
	g, err := describeGroup(ctx, client, group)
	if err != nil {
		return runbook.DrillPlan{}, err
	}
	c := capacityOf(g)
	st := asgDrillState{Region: region, Group: group, Min: c.min, Max: c.max, Desired: c.desired}
	raw, err := json.Marshal(st)
	if err != nil {
		return runbook.DrillPlan{}, fmt.Errorf("asg_scale: record capacity: %w", err)
	}
	return runbook.DrillPlan{Config: cfg, State: raw, Redirects: []runbook.Change{{Action: "scale back at teardown",
		Target: group, Detail: fmt.Sprintf("to min %d, max %d, desired %d", c.min, c.max, c.desired)}}}, nil
}

// Teardown implements runbook.TearDowner: the group goes back to the
// capacity recorded before the drill scaled it.
func (t *ASGScale) Teardown(ctx context.Context, _ *runbook.StepContext, req runbook.TeardownRequest) error {
	var st asgDrillState
	if len(req.State) == 0 || json.Unmarshal(req.State, &st) != nil || st.Group == "" {
		// No capacity read before the step acted (the group was named by
		// an earlier step's outputs): the step's own outputs record it.
		var ok bool
		if st, ok = asgStateFromOutputs(req); !ok {
			report(req.Action, runbook.Change{Action: "none", Target: "asg_scale", Detail: "no capacity recorded: the group was not scaled"})
			return nil
		}
	}
	client, err := t.clients.AutoScaling(ctx, st.Region)
	if err != nil {
		return fmt.Errorf("asg_scale teardown: Auto Scaling client for %s: %w", st.Region, err)
	}
	g, err := describeGroup(ctx, client, st.Group)
	if err != nil {
		return fmt.Errorf("asg_scale teardown: %w", err)
	}
	cur, want := capacityOf(g), asgCapacity{min: st.Min, max: st.Max, desired: st.Desired}
	if cur == want {
		report(req.Action, runbook.Change{Action: "none", Target: st.Group,
			Detail: fmt.Sprintf("already at min %d, max %d, desired %d", want.min, want.max, want.desired)})
		return nil
	}
	_, err = client.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(st.Group), MinSize: aws.Int32(want.min), MaxSize: aws.Int32(want.max),
		DesiredCapacity: aws.Int32(want.desired),
	})
	if err != nil {
		return fmt.Errorf("asg_scale teardown: scale %s back to %d: %w", st.Group, want.desired, err)
	}
	report(req.Action, asgChanges(st.Group, cur, want)[0])
	return nil
}

// asgStateFromOutputs reads the capacity before the step from its
// outputs, when it finished.
func asgStateFromOutputs(req runbook.TeardownRequest) (asgDrillState, bool) {
	o := req.Outputs
	if o == cty.NilVal || o.IsNull() || !o.IsWhollyKnown() || !o.Type().IsObjectType() {
		return asgDrillState{}, false
	}
	num := func(name string) int32 {
		n, _, _ := cfgInt(o, name)
		return int32(n)
	}
	st := asgDrillState{Region: cfgString(req.Config, "region"), Group: cfgString(req.Config, "group"),
		Min: num("previous_min"), Max: num("previous_max"), Desired: num("previous_desired")}
	return st, st.Region != "" && st.Group != ""
}

// RecoveryPoints implements runbook.RecoveryPointer: scaling restores no
// data.
func (*ASGScale) RecoveryPoints(runbook.FinishedDrillStep) []runbook.RecoveryPoint { return nil }

// LoggedParams implements runbook.APIParams.
func (*ASGScale) LoggedParams() []string {
	return []string{"AutoScalingGroupName", "AutoScalingGroupNames", "DesiredCapacity", "MinSize", "MaxSize"}
}
