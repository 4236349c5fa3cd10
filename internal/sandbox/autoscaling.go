package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

const autoscalingNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// autoscalingService speaks the Auto Scaling query protocol.
type autoscalingService struct{ e *estate }

func (s *autoscalingService) identify(r *http.Request) (string, bool, error) { return identifyQuery(r) }

func (s *autoscalingService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	writeQueryError(w, autoscalingNS, c, e)
}

func (s *autoscalingService) faultErrors() faultErrors { return queryFaultErrors() }

func (s *autoscalingService) serve(w http.ResponseWriter, r *http.Request, c *call) {
	serveQuery(w, r, c, autoscalingNS, map[string]queryHandler{
		"DescribeAutoScalingGroups":    s.describeGroups,
		"DescribeAutoScalingInstances": s.describeInstances,
		"UpdateAutoScalingGroup":       s.updateGroup,
		"CreateAutoScalingGroup":       s.createGroup,
		"SetDesiredCapacity":           s.setDesired,
	}, s.e.lock)
}

func (e *estate) group(region, name string) *asGroup {
	for _, g := range e.st.Groups {
		if g.Region == region && g.Name == name {
			return g
		}
	}
	return nil
}

func (g *asGroup) arn() string {
	return "arn:aws:autoscaling:" + g.Region + ":" + accountID + ":autoScalingGroup:" +
		uuidFrom(g.Region+"/"+g.Name) + ":autoScalingGroupName/" + g.Name
}

func uuidFrom(s string) string {
	a := mix64(hashString(s))
	b := mix64(a)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a>>32), uint16(a>>16), a&0xfff, b>>52&0xfff, b&0xffffffffffff)
}

// lifecycle derives an Auto Scaling instance's lifecycle state at a time;
// "" when it is not in the group then (not launched yet, or gone).
func (e *estate) lifecycle(in *instance, now time.Time) string {
	terminated := !in.Terminated.IsZero() && !now.Before(in.Terminated)
	switch {
	case in.Launched.After(now):
		return ""
	case terminated && now.Before(in.Terminated.Add(terminateDelay)):
		return "Terminating"
	case terminated:
		return ""
	case now.Before(in.Launched.Add(e.opts.InstanceWarmup)):
		return "Pending"
	}
	return "InService"
}

// groupInstances lists the group's instances still in it, oldest first.
func (e *estate) groupInstances(g *asGroup, now time.Time) []*instance {
	var out []*instance
	for _, in := range e.st.Instances {
		if in.Group == g.Name && in.Region == g.Region && e.lifecycle(in, now) != "" {
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Launched.Before(out[j].Launched) })
	return out
}

// inService counts the group's InService instances at now.
func (e *estate) inService(region, name string, now time.Time) (int, bool) {
	g := e.group(region, name)
	if g == nil {
		return 0, false
	}
	n := 0
	for _, in := range e.groupInstances(g, now) {
		if e.lifecycle(in, now) == "InService" {
			n++
		}
	}
	return n, true
}

// reconcile launches or terminates instances until the group's live count
// matches its desired capacity. Scale-in terminates the newest first.
func (e *estate) reconcile(g *asGroup, now time.Time) {
	var live []*instance
	for _, in := range e.groupInstances(g, now) {
		if in.Terminated.IsZero() {
			live = append(live, in)
		}
	}
	for i := len(live); i < g.Desired; i++ {
		az := g.AZs[i%len(g.AZs)]
		in := &instance{ID: e.newID("i"), Region: g.Region, AZ: az, Group: g.Name, Type: "g5.xlarge",
			ImageID: fmt.Sprintf("ami-0%016x", hashString(g.Name)), Launched: now,
			Tags: []tag{{"Name", g.Name}}}
		e.st.Instances = append(e.st.Instances, in)
	}
	for i := len(live) - 1; i >= g.Desired; i-- {
		live[i].Terminated = now
	}
}

func (s *autoscalingService) describeGroups(d *xmlDoc, f form, c *call) *apiError {
	max, err := f.int("MaxRecords", 50)
	if err != nil {
		return validationError("MaxRecords must be an integer")
	}
	if max < 1 || max > 100 {
		return validationError("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100 and greater than or equal to 1", max)
	}
	off, ok := parsePageToken("DescribeAutoScalingGroups", f.get("NextToken"))
	if !ok {
		return &apiError{http.StatusBadRequest, "InvalidNextToken", "The token provided is not valid"}
	}
	names := f.list("AutoScalingGroupNames.member")
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for _, p := range f.structs("Filters.member") {
		filters = append(filters, filter{f.get(p + ".Name"), f.list(p + ".Values.member")})
	}
	var sel []*asGroup
	for _, g := range s.e.st.Groups {
		if g.Region != c.Region || len(names) > 0 && !slices.Contains(names, g.Name) {
			continue
		}
		match := true
		for _, fl := range filters {
			var vals []string
			switch {
			case strings.HasPrefix(fl.name, "tag:"):
				if v, ok := tagValue(g.Tags, strings.TrimPrefix(fl.name, "tag:")); ok {
					vals = []string{v}
				}
			case fl.name == "tag-key":
				for _, t := range g.Tags {
					vals = append(vals, t.Key)
				}
			case fl.name == "tag-value":
				for _, t := range g.Tags {
					vals = append(vals, t.Value)
				}
			default:
				return validationError("Filter type %s is not correct. Allowed Filter types are: tag-key tag-value tag:<key>", fl.name)
			}
			hit := false
			for _, v := range vals {
				hit = hit || slices.Contains(fl.values, v)
			}
			match = match && hit
		}
		if match {
			sel = append(sel, g)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	lo, hi, next := page("DescribeAutoScalingGroups", len(sel), off, max)
	d.elem("AutoScalingGroups", func() {
		for _, g := range sel[lo:hi] {
			d.open("member")
			s.writeGroup(d, g, c.Now)
			d.close("member")
		}
	})
	d.opt("NextToken", next)
	return nil
}

func (s *autoscalingService) writeGroup(d *xmlDoc, g *asGroup, now time.Time) {
	d.leaf("AutoScalingGroupName", g.Name).leaf("AutoScalingGroupARN", g.arn()).
		open("LaunchTemplate").leaf("LaunchTemplateId", fmt.Sprintf("lt-0%016x", hashString(g.LaunchTemplate))).
		leaf("LaunchTemplateName", g.LaunchTemplate).leaf("Version", "$Latest").close("LaunchTemplate").
		leaf("MinSize", istr(g.Min)).leaf("MaxSize", istr(g.Max)).leaf("DesiredCapacity", istr(g.Desired)).
		leaf("DefaultCooldown", istr(g.DefaultCooldown))
	d.elem("AvailabilityZones", func() {
		for _, az := range g.AZs {
			d.leaf("member", az)
		}
	})
	d.leaf("HealthCheckType", g.HealthType).leaf("HealthCheckGracePeriod", istr(g.HealthCheckGracePeriod))
	d.elem("Instances", func() {
		for _, in := range s.e.groupInstances(g, now) {
			d.open("member").leaf("InstanceId", in.ID).leaf("InstanceType", in.Type).leaf("AvailabilityZone", in.AZ).
				leaf("LifecycleState", s.e.lifecycle(in, now)).leaf("HealthStatus", "Healthy").
				open("LaunchTemplate").leaf("LaunchTemplateName", g.LaunchTemplate).leaf("Version", "1").close("LaunchTemplate").
				leaf("ProtectedFromScaleIn", "false").close("member")
		}
	})
	d.leaf("CreatedTime", xmlTime(g.Created))
	d.elem("Tags", func() {
		for _, t := range g.Tags {
			d.open("member").leaf("ResourceId", g.Name).leaf("ResourceType", "auto-scaling-group").
				leaf("Key", t.Key).leaf("Value", t.Value).leaf("PropagateAtLaunch", "true").close("member")
		}
	})
	d.elem("TerminationPolicies", func() { d.leaf("member", "Default") })
	d.leaf("NewInstancesProtectedFromScaleIn", "false").leaf("ServiceLinkedRoleARN", g.ServiceLinkedRoleARN)
	if g.InstanceWarmup > 0 {
		d.leaf("DefaultInstanceWarmup", istr(g.InstanceWarmup))
	}
}

func (s *autoscalingService) describeInstances(d *xmlDoc, f form, c *call) *apiError {
	ids := f.list("InstanceIds.member")
	d.elem("AutoScalingInstances", func() {
		for _, g := range s.e.st.Groups {
			if g.Region != c.Region {
				continue
			}
			for _, in := range s.e.groupInstances(g, c.Now) {
				if len(ids) > 0 && !slices.Contains(ids, in.ID) {
					continue
				}
				d.open("member").leaf("InstanceId", in.ID).leaf("InstanceType", in.Type).leaf("AutoScalingGroupName", g.Name).
					leaf("AvailabilityZone", in.AZ).leaf("LifecycleState", s.e.lifecycle(in, c.Now)).
					leaf("HealthStatus", "HEALTHY").leaf("ProtectedFromScaleIn", "false").close("member")
			}
		}
	})
	return nil
}

func (s *autoscalingService) updateGroup(d *xmlDoc, f form, c *call) *apiError {
	name := f.get("AutoScalingGroupName")
	g := s.e.group(c.Region, name)
	if g == nil {
		return validationError("AutoScalingGroup name not found - %s", name)
	}
	min, max, desired := g.Min, g.Max, g.Desired
	var err error
	if min, err = f.int("MinSize", min); err != nil {
		return validationError("MinSize must be an integer")
	}
	if max, err = f.int("MaxSize", max); err != nil {
		return validationError("MaxSize must be an integer")
	}
	if desired, err = f.int("DesiredCapacity", desired); err != nil {
		return validationError("DesiredCapacity must be an integer")
	}
	if min < 0 || max < 0 || desired < 0 {
		return validationError("Sizes must not be negative")
	}
	if min > max {
		return validationError("The parameter MaxSize must be greater than or equal to MinSize. MinSize: %d, MaxSize: %d", min, max)
	}
	if !f.has("DesiredCapacity") {
		// AWS moves desired into the new bounds when only they change.
		desired = clamp(desired, min, max)
	}
	if desired < min || desired > max {
		return validationError("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	g.Min, g.Max, g.Desired = min, max, desired
	s.e.reconcile(g, c.Now)
	return nil
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func (s *autoscalingService) setDesired(d *xmlDoc, f form, c *call) *apiError {
	name := f.get("AutoScalingGroupName")
	g := s.e.group(c.Region, name)
	if g == nil {
		return validationError("AutoScalingGroup name not found - %s", name)
	}
	if !f.has("DesiredCapacity") {
		return validationError("1 validation error detected: Value null at 'desiredCapacity' failed to satisfy constraint: Member must not be null")
	}
	n, err := f.int("DesiredCapacity", 0)
	if err != nil {
		return validationError("DesiredCapacity must be an integer")
	}
	if n > g.Max {
		return validationError("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", n, g.Max)
	}
	if n < g.Min {
		return validationError("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", n, g.Min)
	}
	g.Desired = n
	s.e.reconcile(g, c.Now)
	return nil
}

func (s *autoscalingService) createGroup(d *xmlDoc, f form, c *call) *apiError {
	name := f.get("AutoScalingGroupName")
	if name == "" || len(name) > 255 {
		return validationError("AutoScalingGroupName must be 1 to 255 characters")
	}
	if s.e.group(c.Region, name) != nil {
		return &apiError{http.StatusBadRequest, "AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name " + name + " already exists"}
	}
	min, err1 := f.int("MinSize", -1)
	max, err2 := f.int("MaxSize", -1)
	if err1 != nil || err2 != nil || min < 0 || max < 0 {
		return validationError("MinSize and MaxSize are required non-negative integers")
	}
	desired, err := f.int("DesiredCapacity", min)
	if err != nil {
		return validationError("DesiredCapacity must be an integer")
	}
	if min > max || desired < min || desired > max {
		return validationError("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	azs := f.list("AvailabilityZones.member")
	if len(azs) == 0 {
		azs = []string{c.Region + "a", c.Region + "b"}
	}
	lt := f.get("LaunchTemplate.LaunchTemplateName")
	if lt == "" {
		lt = name
	}
	var tags []tag
	for _, p := range f.structs("Tags.member") {
		tags = setTag(tags, f.get(p+".Key"), f.get(p+".Value"))
	}
	g := &asGroup{Name: name, Region: c.Region, LaunchTemplate: lt, Min: min, Max: max, Desired: desired, AZs: azs,
		Created: c.Now, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300, Tags: tags,
		ServiceLinkedRoleARN: "arn:aws:iam::" + accountID + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}
	s.e.st.Groups = append(s.e.st.Groups, g)
	s.e.reconcile(g, c.Now)
	return nil
}
