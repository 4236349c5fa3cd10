package sandbox_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/drconsole/drconsole/internal/sandbox"
)

func lifecycles(g astypes.AutoScalingGroup) map[astypes.LifecycleState]int {
	m := map[astypes.LifecycleState]int{}
	for _, in := range g.Instances {
		m[in.LifecycleState]++
	}
	return m
}

func TestAutoScalingScaleOutWarmupScaleIn(t *testing.T) {
	e := start(t, sandbox.Options{Seed: 1, InstanceWarmup: time.Minute})
	c := autoscaling.NewFromConfig(e.region("us-west-2"))
	group := func() astypes.AutoScalingGroup {
		out := must(c.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: []string{sandbox.DefaultNames().DRGroup}}))(t)
		if len(out.AutoScalingGroups) != 1 {
			t.Fatalf("%d groups named %s", len(out.AutoScalingGroups), sandbox.DefaultNames().DRGroup)
		}
		return out.AutoScalingGroups[0]
	}
	g := group()
	if *g.DesiredCapacity != 0 || *g.MinSize != 0 || *g.MaxSize != 8 || len(g.Instances) != 0 {
		t.Fatalf("seeded DR group: desired %d min %d max %d, %d instances", *g.DesiredCapacity, *g.MinSize, *g.MaxSize, len(g.Instances))
	}
	must(c.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), DesiredCapacity: aws.Int32(3)}))(t)
	if lc := lifecycles(group()); lc[astypes.LifecycleStatePending] != 3 {
		t.Fatalf("after scale-out: %v, want 3 Pending", lc)
	}
	e.advance(59 * time.Second)
	if lc := lifecycles(group()); lc[astypes.LifecycleStatePending] != 3 {
		t.Fatalf("before warm-up ends: %v", lc)
	}
	e.advance(time.Second)
	if lc := lifecycles(group()); lc[astypes.LifecycleStateInService] != 3 {
		t.Fatalf("after warm-up: %v, want 3 InService", lc)
	}
	// EC2 sees the same instances.
	ec := ec2.NewFromConfig(e.region("us-west-2"))
	res := must(ec.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:aws:autoscaling:groupName"), Values: []string{sandbox.DefaultNames().DRGroup}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}}}}))(t)
	if len(res.Reservations) != 3 {
		t.Fatalf("%d running DR instances in EC2, want 3", len(res.Reservations))
	}

	_, err := c.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), DesiredCapacity: aws.Int32(9)})
	wantCode(t, err, "ValidationError", 400)
	_, err = c.UpdateAutoScalingGroup(e.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup), MinSize: aws.Int32(5), MaxSize: aws.Int32(4)})
	wantCode(t, err, "ValidationError", 400)
	_, err = c.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("nope"), DesiredCapacity: aws.Int32(1)})
	wantCode(t, err, "ValidationError", 400)

	must(c.UpdateAutoScalingGroup(e.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(sandbox.DefaultNames().DRGroup),
		MinSize: aws.Int32(1), DesiredCapacity: aws.Int32(1)}))(t)
	g = group()
	if lc := lifecycles(g); lc[astypes.LifecycleStateInService] != 1 || lc[astypes.LifecycleStateTerminating] != 2 {
		t.Fatalf("after scale-in: %v, want 1 InService, 2 Terminating", lc)
	}
	if *g.MinSize != 1 || *g.DesiredCapacity != 1 {
		t.Fatalf("after update: min %d desired %d", *g.MinSize, *g.DesiredCapacity)
	}
	e.advance(time.Minute)
	if g := group(); len(g.Instances) != 1 {
		t.Fatalf("%d instances after termination, want 1", len(g.Instances))
	}
}

func TestAutoScalingPagination(t *testing.T) {
	e := start(t, sandbox.Options{Empty: true})
	c := autoscaling.NewFromConfig(e.cfg)
	for _, n := range []string{"g-a", "g-b", "g-c", "g-d", "g-e"} {
		must(c.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(n),
			MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1), AvailabilityZones: []string{"us-east-1a"},
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("lt")}}))(t)
	}
	_, err := c.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g-a"),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(2)})
	wantCode(t, err, "AlreadyExists", 400)
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(2)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out := must(p.NextPage(e.ctx))(t)
		pages++
		for _, g := range out.AutoScalingGroups {
			names = append(names, *g.AutoScalingGroupName)
			if len(g.Instances) != 1 {
				t.Errorf("group %s has %d instances, want 1", *g.AutoScalingGroupName, len(g.Instances))
			}
		}
	}
	if pages != 3 || len(names) != 5 || names[0] != "g-a" || names[4] != "g-e" {
		t.Fatalf("pages %d, names %v", pages, names)
	}
	_, err = c.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidNextToken", 400)
	_, err = c.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError", 400)
}
