package sandbox

import (
	"slices"
	"strconv"
	"time"
)

func (e *estate) snapshot(region, id string) *snapshot {
	for _, sn := range e.st.Snapshots {
		if sn.ID == id && sn.Region == region {
			return sn
		}
	}
	return nil
}

// deleteSnapshot deletes a snapshot, in whatever state it is.
func (s *ec2Service) deleteSnapshot(d *xmlDoc, f form, c *call) *apiError {
	id := f.get("SnapshotId")
	if id == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter SnapshotId")
	}
	for i, sn := range s.e.st.Snapshots {
		if sn.ID != id || sn.Region != c.Region {
			continue
		}
		s.e.st.Snapshots = append(s.e.st.Snapshots[:i], s.e.st.Snapshots[i+1:]...)
		d.leaf("return", "true")
		return nil
	}
	return ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
}

// snapshotState derives a snapshot's state and progress from the clock.
func (e *estate) snapshotState(sn *snapshot, now time.Time) (state string, progress int) {
	dur := e.opts.SnapshotDuration
	if sn.Duration > 0 {
		dur = sn.Duration
	}
	el := now.Sub(sn.Start)
	if el < dur {
		p := int(el * 100 / dur)
		if p < 0 {
			p = 0
		}
		return "pending", p
	}
	if _, fail := tagValue(sn.Tags, snapshotFailTag); fail {
		return "error", 100
	}
	return "completed", 100
}

func (e *estate) newSnapshot(v *volume, desc string, tags []tag, now time.Time) *snapshot {
	sn := &snapshot{ID: e.newID("snap"), Region: v.Region, VolumeID: v.ID, VolumeSize: v.Size, Description: desc,
		Start: now, Tags: tags}
	e.st.Snapshots = append(e.st.Snapshots, sn)
	return sn
}

func (s *ec2Service) createSnapshot(d *xmlDoc, f form, c *call) *apiError {
	id := f.get("VolumeId")
	if id == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter VolumeId")
	}
	v := s.e.volume(c.Region, id)
	if v == nil {
		return ec2Err("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	sn := s.e.newSnapshot(v, f.get("Description"), tagSpecs(f, "snapshot"), c.Now)
	s.writeSnapshotFields(d, sn, c.Now, "status")
	return nil
}

func (s *ec2Service) writeSnapshotFields(d *xmlDoc, sn *snapshot, now time.Time, stateName string) {
	st, p := s.e.snapshotState(sn, now)
	d.leaf("snapshotId", sn.ID).leaf("volumeId", sn.VolumeID).leaf(stateName, st)
	if st == "error" {
		d.leaf("statusMessage", "The snapshot could not be completed.")
	}
	d.leaf("startTime", xmlTime(sn.Start)).leaf("progress", strconv.Itoa(p)+"%").leaf("ownerId", accountID).
		leaf("volumeSize", istr(sn.VolumeSize)).leaf("description", sn.Description).leaf("encrypted", "false").
		leaf("storageTier", "standard")
	writeTagSet(d, sn.Tags)
}

func (s *ec2Service) createSnapshots(d *xmlDoc, f form, c *call) *apiError {
	id := f.get("InstanceSpecification.InstanceId")
	if id == "" {
		return ec2Err("MissingParameter", "The request must contain the parameter InstanceSpecification.InstanceId")
	}
	in := s.e.instance(c.Region, id)
	if in == nil || s.e.instanceGone(in, c.Now) {
		return ec2Err("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	excluded := f.list("InstanceSpecification.ExcludeDataVolumeId")
	copyTags := f.get("CopyTagsFromSource") == "volume"
	tags := tagSpecs(f, "snapshot")
	d.open("snapshotSet")
	for _, v := range s.e.st.Volumes {
		if v.Region != c.Region || v.InstanceID != id || slices.Contains(excluded, v.ID) {
			continue
		}
		if f.get("InstanceSpecification.ExcludeBootVolume") == "true" && v.Device == "/dev/xvda" {
			continue
		}
		t := append([]tag(nil), tags...)
		if copyTags {
			for _, vt := range v.Tags {
				t = setTag(t, vt.Key, vt.Value)
			}
		}
		sn := s.e.newSnapshot(v, f.get("Description"), t, c.Now)
		d.open("item")
		s.writeSnapshotFields(d, sn, c.Now, "state")
		d.close("item")
	}
	d.close("snapshotSet")
	return nil
}

func (s *ec2Service) describeSnapshots(d *xmlDoc, f form, c *call) *apiError {
	max, ae := ec2MaxResults(f, 5, 1000)
	if ae != nil {
		return ae
	}
	ids := f.list("SnapshotId")
	if len(ids) > 0 && f.has("MaxResults") {
		return ec2Err("InvalidParameterCombination", "The parameter snapshotSet cannot be used with the parameter maxResults")
	}
	off, ok := parsePageToken("DescribeSnapshots", f.get("NextToken"))
	if !ok {
		return ec2Err("InvalidNextToken", "The token '%s' is invalid.", f.get("NextToken"))
	}
	for _, id := range ids {
		if s.e.snapshot(c.Region, id) == nil {
			return ec2Err("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
	}
	for _, o := range f.list("Owner") {
		if o != "self" && o != accountID && o != "amazon" {
			return ec2Err("InvalidUserID.Malformed", "Invalid user id: \"%s\"", o)
		}
	}
	owners := f.list("Owner")
	onlyAmazon := len(owners) > 0 && !slices.Contains(owners, "self") && !slices.Contains(owners, accountID)
	filters := ec2Filters(f)
	var sel []*snapshot
	for _, sn := range s.e.st.Snapshots {
		if onlyAmazon || sn.Region != c.Region || len(ids) > 0 && !slices.Contains(ids, sn.ID) {
			continue
		}
		st, p := s.e.snapshotState(sn, c.Now)
		ok, ae := matchFilters(filters, sn.Tags, func(name string) ([]string, bool) {
			switch name {
			case "snapshot-id":
				return []string{sn.ID}, true
			case "volume-id":
				return []string{sn.VolumeID}, true
			case "status":
				return []string{st}, true
			case "progress":
				return []string{strconv.Itoa(p) + "%"}, true
			case "owner-id":
				return []string{accountID}, true
			case "description":
				return []string{sn.Description}, true
			case "volume-size":
				return []string{istr(sn.VolumeSize)}, true
			case "start-time":
				return []string{xmlTime(sn.Start)}, true
			}
			return nil, false
		})
		if ae != nil {
			return ae
		}
		if ok {
			sel = append(sel, sn)
		}
	}
	lo, hi, next := page("DescribeSnapshots", len(sel), off, max)
	d.elem("snapshotSet", func() {
		for _, sn := range sel[lo:hi] {
			d.open("item")
			s.writeSnapshotFields(d, sn, c.Now, "status")
			d.close("item")
		}
	})
	d.opt("nextToken", next)
	return nil
}
