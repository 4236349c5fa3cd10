package sandbox

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// snapshotFailTag on a snapshot (through TagSpecifications or CreateTags)
// makes it end in the error state instead of completed, for testing how
// callers handle failed snapshots.
const snapshotFailTag = "sandbox:fail"

// ec2Service speaks the EC2 query protocol.
type ec2Service struct{ e *estate }

func (s *ec2Service) identify(r *http.Request) (string, bool, error) {
	op, f, err := queryAction(r)
	if err != nil {
		return "", false, err
	}
	// A dry run changes nothing.
	return op, isMutatingName(op) && f.get("DryRun") != "true", nil
}

// isMutatingName classifies an operation by AWS's naming convention.
func isMutatingName(op string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Head"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

func (s *ec2Service) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	d := newXMLDoc()
	d.open("Response").open("Errors").open("Error").leaf("Code", e.Code).leaf("Message", e.Message).
		close("Error").close("Errors").leaf("RequestID", c.RequestID).close("Response")
	sendXML(w, e.Status, d.bytes())
}

// faultErrors are EC2's: it throttles with RequestLimitExceeded, 503, and
// answers Unavailable while impaired.
func (s *ec2Service) faultErrors() faultErrors {
	return faultErrors{
		Throttle: apiError{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."},
		Internal: apiError{http.StatusInternalServerError, "InternalError", msgInternalS3},
		Outage:   apiError{http.StatusServiceUnavailable, "Unavailable", msgUnavailable},
	}
}

func ec2Err(code, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

func (s *ec2Service) serve(w http.ResponseWriter, r *http.Request, c *call) {
	f, _ := parseForm(r)
	if f.get("DryRun") == "true" {
		s.writeError(w, r, c, &apiError{http.StatusPreconditionFailed, "DryRunOperation",
			"Request would have succeeded, but DryRun flag is set."})
		return
	}
	handlers := map[string]func(*xmlDoc, form, *call) *apiError{
		"DescribeVolumes":   s.describeVolumes,
		"CreateVolume":      s.createVolume,
		"CreateTags":        s.createTags,
		"DescribeTags":      s.describeTags,
		"CreateSnapshot":    s.createSnapshot,
		"CreateSnapshots":   s.createSnapshots,
		"DescribeSnapshots": s.describeSnapshots,
		"DescribeInstances": s.describeInstances,
		"DeleteVolume":      s.deleteVolume,
		"DeleteSnapshot":    s.deleteSnapshot,
	}
	h, ok := handlers[c.Operation]
	if !ok {
		s.writeError(w, r, c, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("The action %s is not valid for this web service.", c.Operation)})
		return
	}
	d := newXMLDoc()
	d.open(c.Operation+"Response", "xmlns", ec2NS).leaf("requestId", c.RequestID)
	s.e.mu.Lock()
	ae := h(d, f, c)
	s.e.mu.Unlock()
	if ae != nil {
		s.writeError(w, r, c, ae)
		return
	}
	d.close(c.Operation + "Response")
	sendXML(w, http.StatusOK, d.bytes())
}

// ec2Filter is one Filter.N of a Describe call.
type ec2Filter struct {
	Name   string
	Values []string
}

func ec2Filters(f form) []ec2Filter {
	var out []ec2Filter
	for _, p := range f.structs("Filter") {
		out = append(out, ec2Filter{Name: f.get(p + ".Name"), Values: f.list(p + ".Value")})
	}
	return out
}

// globAny matches v against EC2 filter values, which allow * and ?.
func globAny(patterns []string, v string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, v); err == nil && ok || p == v {
			return true
		}
	}
	return false
}

// matchFilters applies the filters: attr answers a filter name with the
// resource's values for it (nil: the filter is unknown).
func matchFilters(fs []ec2Filter, tags []tag, attr func(name string) ([]string, bool)) (bool, *apiError) {
	for _, fl := range fs {
		var vals []string
		switch {
		case strings.HasPrefix(fl.Name, "tag:"):
			if v, ok := tagValue(tags, strings.TrimPrefix(fl.Name, "tag:")); ok {
				vals = []string{v}
			}
		case fl.Name == "tag-key":
			for _, t := range tags {
				vals = append(vals, t.Key)
			}
		case fl.Name == "tag-value":
			for _, t := range tags {
				vals = append(vals, t.Value)
			}
		default:
			v, known := attr(fl.Name)
			if !known {
				return false, ec2Err("InvalidParameterValue", "The filter '%s' is invalid", fl.Name)
			}
			vals = v
		}
		hit := false
		for _, v := range vals {
			if globAny(fl.Values, v) {
				hit = true
				break
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// tagSpecs reads TagSpecification.N for one resource type.
func tagSpecs(f form, resourceType string) []tag {
	var out []tag
	for _, p := range f.structs("TagSpecification") {
		if rt := f.get(p + ".ResourceType"); rt != "" && rt != resourceType {
			continue
		}
		for _, tp := range f.structs(p + ".Tag") {
			out = setTag(out, f.get(tp+".Key"), f.get(tp+".Value"))
		}
	}
	return out
}

func writeTagSet(d *xmlDoc, tags []tag) {
	if len(tags) == 0 {
		return
	}
	d.elem("tagSet", func() {
		for _, t := range tags {
			d.open("item").leaf("key", t.Key).leaf("value", t.Value).close("item")
		}
	})
}

// ec2MaxResults reads MaxResults: below lo is an error, above hi is capped,
// as EC2 does.
func ec2MaxResults(f form, lo, hi int) (int, *apiError) {
	n, err := f.int("MaxResults", 0)
	if err != nil {
		return 0, ec2Err("InvalidParameterValue", "MaxResults must be an integer")
	}
	if f.has("MaxResults") && n < lo {
		return 0, ec2Err("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, lo-1)
	}
	return min(n, hi), nil
}

func (e *estate) volume(region, id string) *volume {
	for _, v := range e.st.Volumes {
		if v.ID == id && v.Region == region {
			return v
		}
	}
	return nil
}

func (e *estate) instance(region, id string) *instance {
	for _, in := range e.st.Instances {
		if in.ID == id && in.Region == region {
			return in
		}
	}
	return nil
}

func (v *volume) state() string {
	if v.InstanceID != "" {
		return "in-use"
	}
	return "available"
}

func (s *ec2Service) describeVolumes(d *xmlDoc, f form, c *call) *apiError {
	max, ae := ec2MaxResults(f, 5, 500)
	if ae != nil {
		return ae
	}
	ids := f.list("VolumeId")
	if len(ids) > 0 && f.has("MaxResults") {
		return ec2Err("InvalidParameterCombination", "The parameter volumeSet cannot be used with the parameter maxResults")
	}
	off, ok := parsePageToken("DescribeVolumes", f.get("NextToken"))
	if !ok {
		return ec2Err("InvalidNextToken", "The token '%s' is invalid.", f.get("NextToken"))
	}
	for _, id := range ids {
		if s.e.volume(c.Region, id) == nil {
			return ec2Err("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	filters := ec2Filters(f)
	var sel []*volume
	for _, v := range s.e.st.Volumes {
		if v.Region != c.Region || len(ids) > 0 && !slices.Contains(ids, v.ID) {
			continue
		}
		ok, ae := matchFilters(filters, v.Tags, func(name string) ([]string, bool) {
			switch name {
			case "volume-id":
				return []string{v.ID}, true
			case "status":
				return []string{v.state()}, true
			case "availability-zone":
				return []string{v.AZ}, true
			case "size":
				return []string{istr(v.Size)}, true
			case "snapshot-id":
				return []string{v.SnapshotID}, true
			case "volume-type":
				return []string{v.VolumeType}, true
			case "attachment.instance-id":
				return []string{v.InstanceID}, true
			case "attachment.status":
				if v.InstanceID != "" {
					return []string{"attached"}, true
				}
				return nil, true
			case "encrypted":
				return []string{btoa(v.Encrypted)}, true
			}
			return nil, false
		})
		if ae != nil {
			return ae
		}
		if ok {
			sel = append(sel, v)
		}
	}
	lo, hi, next := page("DescribeVolumes", len(sel), off, max)
	d.elem("volumeSet", func() {
		for _, v := range sel[lo:hi] {
			d.open("item")
			writeVolumeFields(d, v)
			d.close("item")
		}
	})
	d.opt("nextToken", next)
	return nil
}

func writeVolumeFields(d *xmlDoc, v *volume) {
	d.leaf("volumeId", v.ID).leaf("size", istr(v.Size)).leaf("snapshotId", v.SnapshotID).
		leaf("availabilityZone", v.AZ).leaf("status", v.state()).leaf("createTime", xmlTime(v.Created))
	d.elem("attachmentSet", func() {
		if v.InstanceID != "" {
			d.open("item").leaf("volumeId", v.ID).leaf("instanceId", v.InstanceID).leaf("device", v.Device).
				leaf("status", "attached").leaf("attachTime", xmlTime(v.Created)).leaf("deleteOnTermination", "false").close("item")
		}
	})
	writeTagSet(d, v.Tags)
	d.leaf("volumeType", v.VolumeType).leaf("encrypted", btoa(v.Encrypted)).leaf("multiAttachEnabled", "false")
	if v.VolumeType == "gp3" {
		d.leaf("iops", "3000").leaf("throughput", "125")
	}
}

// deleteVolume deletes a volume that no instance has attached, as EC2
// does (VolumeInUse otherwise).
func (s *ec2Service) deleteVolume(d *xmlDoc, f form, c *call) *apiError {
	id := f.get("VolumeId")
	if id == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter VolumeId")
	}
	for i, v := range s.e.st.Volumes {
		if v.ID != id || v.Region != c.Region {
			continue
		}
		if v.InstanceID != "" {
			return ec2Err("VolumeInUse", "Volume %s is currently attached to %s", id, v.InstanceID)
		}
		s.e.st.Volumes = append(s.e.st.Volumes[:i], s.e.st.Volumes[i+1:]...)
		d.leaf("return", "true")
		return nil
	}
	return ec2Err("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
}

func (s *ec2Service) createVolume(d *xmlDoc, f form, c *call) *apiError {
	az := f.get("AvailabilityZone")
	if az == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter AvailabilityZone")
	}
	if !strings.HasPrefix(az, c.Region) {
		return ec2Err("InvalidParameterValue", "Invalid availability zone: [%s]", az)
	}
	size, err := f.int("Size", 0)
	if err != nil {
		return ec2Err("InvalidParameterValue", "Size must be an integer")
	}
	v := &volume{Region: c.Region, AZ: az, Size: size, VolumeType: f.get("VolumeType"), Created: c.Now,
		Encrypted: f.get("Encrypted") == "true", Tags: tagSpecs(f, "volume")}
	if v.VolumeType == "" {
		v.VolumeType = "gp3"
	}
	if id := f.get("SnapshotId"); id != "" {
		sn := s.e.snapshot(c.Region, id)
		if sn == nil {
			return ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
		if st, _ := s.e.snapshotState(sn, c.Now); st != "completed" {
			return ec2Err("IncorrectState", "Snapshot is in invalid state - %s", st)
		}
		v.SnapshotID = sn.ID
		if v.Size == 0 {
			v.Size = sn.VolumeSize
		}
		if v.Size < sn.VolumeSize {
			return ec2Err("InvalidParameterValue", "The volume size is invalid for the given snapshot: size must be at least %d GiB", sn.VolumeSize)
		}
	}
	if v.Size <= 0 {
		return ec2Err("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	v.ID = s.e.newID("vol")
	s.e.st.Volumes = append(s.e.st.Volumes, v)
	writeVolumeFields(d, v)
	return nil
}

func (s *ec2Service) createTags(d *xmlDoc, f form, c *call) *apiError {
	ids := f.list("ResourceId")
	if len(ids) == 0 {
		return ec2Err("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	var tags []tag
	for _, p := range f.structs("Tag") {
		k := f.get(p + ".Key")
		if k == "" {
			return ec2Err("InvalidParameterValue", "Tag keys must not be empty")
		}
		tags = append(tags, tag{k, f.get(p + ".Value")})
	}
	var targets []*[]tag
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "vol-"):
			v := s.e.volume(c.Region, id)
			if v == nil {
				return ec2Err("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
			}
			targets = append(targets, &v.Tags)
		case strings.HasPrefix(id, "snap-"):
			sn := s.e.snapshot(c.Region, id)
			if sn == nil {
				return ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
			}
			targets = append(targets, &sn.Tags)
		case strings.HasPrefix(id, "i-"):
			in := s.e.instance(c.Region, id)
			if in == nil {
				return ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
			}
			targets = append(targets, &in.Tags)
		default:
			return ec2Err("InvalidID", "The ID '%s' is not valid", id)
		}
	}
	for _, t := range targets {
		for _, tg := range tags {
			*t = setTag(*t, tg.Key, tg.Value)
		}
	}
	d.leaf("return", "true")
	return nil
}

func (s *ec2Service) describeTags(d *xmlDoc, f form, c *call) *apiError {
	max, ae := ec2MaxResults(f, 5, 1000)
	if ae != nil {
		return ae
	}
	off, ok := parsePageToken("DescribeTags", f.get("NextToken"))
	if !ok {
		return ec2Err("InvalidNextToken", "The token '%s' is invalid.", f.get("NextToken"))
	}
	type row struct{ id, typ, k, v string }
	var rows []row
	add := func(id, typ string, tags []tag) {
		for _, t := range tags {
			rows = append(rows, row{id, typ, t.Key, t.Value})
		}
	}
	for _, v := range s.e.st.Volumes {
		if v.Region == c.Region {
			add(v.ID, "volume", v.Tags)
		}
	}
	for _, sn := range s.e.st.Snapshots {
		if sn.Region == c.Region {
			add(sn.ID, "snapshot", sn.Tags)
		}
	}
	for _, in := range s.e.st.Instances {
		if in.Region == c.Region && !s.e.instanceGone(in, c.Now) {
			add(in.ID, "instance", in.Tags)
		}
	}
	filters := ec2Filters(f)
	var sel []row
	for _, r := range rows {
		ok, ae := matchFilters(filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "resource-id":
				return []string{r.id}, true
			case "resource-type":
				return []string{r.typ}, true
			case "key":
				return []string{r.k}, true
			case "value":
				return []string{r.v}, true
			}
			return nil, false
		})
		if ae != nil {
			return ae
		}
		if ok {
			sel = append(sel, r)
		}
	}
	lo, hi, next := page("DescribeTags", len(sel), off, max)
	d.elem("tagSet", func() {
		for _, r := range sel[lo:hi] {
			d.open("item").leaf("resourceId", r.id).leaf("resourceType", r.typ).leaf("key", r.k).leaf("value", r.v).close("item")
		}
	})
	d.opt("nextToken", next)
	return nil
}

// instanceGone reports whether a terminated instance has left EC2's view.
func (e *estate) instanceGone(in *instance, now time.Time) bool {
	return !in.Terminated.IsZero() && !now.Before(in.Terminated.Add(terminateDelay+time.Hour))
}

// ec2State derives the instance state from the clock.
func (e *estate) ec2State(in *instance, now time.Time) (string, int) {
	terminated := !in.Terminated.IsZero() && !now.Before(in.Terminated)
	switch {
	case terminated && now.Before(in.Terminated.Add(terminateDelay)):
		return "shutting-down", 32
	case terminated:
		return "terminated", 48
	case now.Before(in.Launched.Add(e.opts.InstanceWarmup)):
		return "pending", 0
	}
	return "running", 16
}

func (s *ec2Service) describeInstances(d *xmlDoc, f form, c *call) *apiError {
	max, ae := ec2MaxResults(f, 5, 1000)
	if ae != nil {
		return ae
	}
	ids := f.list("InstanceId")
	off, ok := parsePageToken("DescribeInstances", f.get("NextToken"))
	if !ok {
		return ec2Err("InvalidNextToken", "The token '%s' is invalid.", f.get("NextToken"))
	}
	for _, id := range ids {
		if in := s.e.instance(c.Region, id); in == nil || s.e.instanceGone(in, c.Now) {
			return ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	filters := ec2Filters(f)
	var sel []*instance
	for _, in := range s.e.st.Instances {
		if in.Region != c.Region || s.e.instanceGone(in, c.Now) || len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		st, _ := s.e.ec2State(in, c.Now)
		ok, ae := matchFilters(filters, s.e.instanceTags(in), func(name string) ([]string, bool) {
			switch name {
			case "instance-id":
				return []string{in.ID}, true
			case "instance-state-name":
				return []string{st}, true
			case "availability-zone":
				return []string{in.AZ}, true
			case "instance-type":
				return []string{in.Type}, true
			}
			return nil, false
		})
		if ae != nil {
			return ae
		}
		if ok {
			sel = append(sel, in)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Launched.Before(sel[j].Launched) })
	lo, hi, next := page("DescribeInstances", len(sel), off, max)
	d.elem("reservationSet", func() {
		for _, in := range sel[lo:hi] {
			st, code := s.e.ec2State(in, c.Now)
			d.open("item").leaf("reservationId", "r-"+strings.TrimPrefix(in.ID, "i-")).leaf("ownerId", accountID)
			d.open("instancesSet").open("item")
			d.leaf("instanceId", in.ID).leaf("imageId", in.ImageID).
				open("instanceState").leaf("code", istr(code)).leaf("name", st).close("instanceState").
				leaf("instanceType", in.Type).leaf("launchTime", xmlTime(in.Launched)).
				open("placement").leaf("availabilityZone", in.AZ).close("placement")
			if st == "running" || st == "pending" {
				d.leaf("privateIpAddress", privateIP(in.ID))
			}
			d.elem("blockDeviceMapping", func() {
				for _, v := range s.e.st.Volumes {
					if v.InstanceID == in.ID {
						d.open("item").leaf("deviceName", v.Device).open("ebs").leaf("volumeId", v.ID).leaf("status", "attached").
							leaf("attachTime", xmlTime(v.Created)).leaf("deleteOnTermination", "false").close("ebs").close("item")
					}
				}
			})
			writeTagSet(d, s.e.instanceTags(in))
			d.close("item").close("instancesSet").close("item")
		}
	})
	d.opt("nextToken", next)
	return nil
}

// instanceTags adds the tag Auto Scaling puts on the instances it launches.
func (e *estate) instanceTags(in *instance) []tag {
	if in.Group == "" {
		return in.Tags
	}
	return setTag(append([]tag(nil), in.Tags...), "aws:autoscaling:groupName", in.Group)
}

func privateIP(id string) string {
	h := mix64(uint64(len(id)) ^ hashString(id))
	return fmt.Sprintf("10.%d.%d.%d", h&0x7f, h>>8&0xff, h>>16&0xfe+1)
}

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
