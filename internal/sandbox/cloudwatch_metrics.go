package sandbox

import (
	"math"
	"time"
)

// metricValue computes a metric the sandbox derives from its estate:
// AWS/S3 replication metrics from the S3 side, AWS/AutoScaling group
// metrics and the AI/Inference serving metrics from the fleet.
func (e *estate) metricValue(region, ns, name string, dims []dimension, at time.Time) (float64, bool) {
	dim := func(k string) string {
		for _, d := range dims {
			if d.Name == k {
				return d.Value
			}
		}
		return ""
	}
	switch ns {
	case "AWS/S3":
		src := dim("SourceBucket")
		if src == "" {
			return 0, false
		}
		if br, ok := e.s3.bucketRegion(src); !ok || br != region {
			return 0, false
		}
		dst, rule := dim("DestinationBucket"), dim("RuleId")
		found := false
		var v float64
		for _, st := range e.s3.replicationStats(src, at) {
			if dst != "" && st.DestinationBucket != dst || rule != "" && st.RuleID != rule {
				continue
			}
			found = true
			switch name {
			case "ReplicationLatency":
				v = math.Max(v, st.Latency.Seconds())
			case "OperationsPendingReplication":
				v += float64(st.PendingOps)
			case "BytesPendingReplication":
				v += float64(st.PendingBytes)
			case "OperationsFailedReplication":
				v += float64(st.FailedOps)
			default:
				return 0, false
			}
		}
		return v, found
	case "AWS/AutoScaling":
		g := e.group(region, dim("AutoScalingGroupName"))
		if g == nil {
			return 0, false
		}
		count := func(state string) float64 {
			n := 0
			for _, in := range e.groupInstances(g, at) {
				if !in.Launched.After(at) && (state == "" || e.lifecycle(in, at) == state) {
					n++
				}
			}
			return float64(n)
		}
		switch name {
		case "GroupInServiceInstances":
			return count("InService"), true
		case "GroupPendingInstances":
			return count("Pending"), true
		case "GroupTerminatingInstances":
			return count("Terminating"), true
		case "GroupTotalInstances":
			return count(""), true
		case "GroupDesiredCapacity":
			return float64(g.Desired), true
		case "GroupMinSize":
			return float64(g.Min), true
		case "GroupMaxSize":
			return float64(g.Max), true
		}
	case inferenceNS:
		// Serving metrics exist while the group has instances in service.
		g := e.group(region, dim("AutoScalingGroupName"))
		if g == nil {
			return 0, false
		}
		n, _ := e.inService(region, g.Name, at)
		if n == 0 {
			return 0, false
		}
		jitter := float64(mix64(uint64(at.Unix()/60)^hashString(g.Name))%100) / 100
		switch name {
		case "HTTPCode_5XX_Rate":
			return 0.1 + 0.2*jitter, true
		case "LatencyP99":
			return 140 + 60*jitter, true
		case "RequestCount":
			return math.Round(1000 * float64(n) * (0.9 + 0.2*jitter)), true
		}
	}
	return 0, false
}

// series samples a metric at period boundaries in [start, end), newest
// first. Replication metrics exist only as of now: the S3 side reports its
// current state, so they have one datapoint, at the latest boundary.
func (e *estate) series(region, ns, name string, dims []dimension, start, end, now time.Time, period time.Duration) ([]time.Time, []float64) {
	var ts []time.Time
	var vs []float64
	last := end
	if now.Before(last) {
		last = now.Add(time.Nanosecond)
	}
	t := last.Add(-time.Nanosecond).Truncate(period)
	for n := 0; !t.Before(start) && n < 1440; n++ {
		at := t
		if ns == "AWS/S3" || n == 0 {
			at = now
		}
		if v, ok := e.metricValue(region, ns, name, dims, at); ok {
			ts = append(ts, t)
			vs = append(vs, v)
		}
		if ns == "AWS/S3" {
			break
		}
		t = t.Add(-period)
	}
	return ts, vs
}

// timeRange reads a metric query's StartTime and EndTime.
func timeRange(in doc) (start, end time.Time, e *apiError) {
	start, ok1 := dtime(in, "StartTime")
	end, ok2 := dtime(in, "EndTime")
	if !ok1 || !ok2 {
		return start, end, cwMissing("StartTime and EndTime")
	}
	if !start.Before(end) {
		return start, end, cwInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	return start, end, nil
}

func (s *cloudwatchService) getMetricData(in doc, c *call) (doc, *apiError) {
	start, end, ae := timeRange(in)
	if ae != nil {
		return nil, ae
	}
	queries := dlist(in, "MetricDataQueries")
	if len(queries) == 0 {
		return nil, cwMissing("MetricDataQueries")
	}
	results := []any{}
	for _, qv := range queries {
		q, _ := qv.(doc)
		id := dstr(q, "Id")
		if id == "" {
			return nil, cwMissing("MetricDataQueries.Id")
		}
		if !dbool(q, "ReturnData", true) {
			continue
		}
		ms, _ := q["MetricStat"].(doc)
		if ms == nil {
			return nil, cwInvalid("query %s: the sandbox evaluates MetricStat queries only", id)
		}
		mt, _ := ms["Metric"].(doc)
		period := dint(ms, "Period", 60)
		if period < 1 {
			return nil, cwInvalid("query %s: Period must be positive", id)
		}
		ns, name := dstr(mt, "Namespace"), dstr(mt, "MetricName")
		ts, vs := s.e.series(c.Region, ns, name, ddims(mt, "Dimensions"), start, end, c.Now, time.Duration(period)*time.Second)
		if dstr(in, "ScanBy") == "TimestampAscending" {
			for i, j := 0, len(ts)-1; i < j; i, j = i+1, j-1 {
				ts[i], ts[j] = ts[j], ts[i]
				vs[i], vs[j] = vs[j], vs[i]
			}
		}
		label := dstr(q, "Label")
		if label == "" {
			label = name
		}
		tsl, vsl := []any{}, []any{}
		for i := range ts {
			tsl = append(tsl, ts[i])
			vsl = append(vsl, vs[i])
		}
		results = append(results, doc{"Id": id, "Label": label, "StatusCode": "Complete", "Timestamps": tsl, "Values": vsl})
	}
	return doc{"MetricDataResults": results, "Messages": []any{}}, nil
}

func (s *cloudwatchService) getMetricStatistics(in doc, c *call) (doc, *apiError) {
	ns, name := dstr(in, "Namespace"), dstr(in, "MetricName")
	if ns == "" || name == "" {
		return nil, cwMissing("Namespace and MetricName")
	}
	start, end, ae := timeRange(in)
	if ae != nil {
		return nil, ae
	}
	period := dint(in, "Period", 0)
	if period < 1 {
		return nil, cwMissing("Period")
	}
	stats, ext := dstrings(in, "Statistics"), dstrings(in, "ExtendedStatistics")
	if len(stats) == 0 && len(ext) == 0 {
		return nil, cwMissing("Statistics or ExtendedStatistics")
	}
	ts, vs := s.e.series(c.Region, ns, name, ddims(in, "Dimensions"), start, end, c.Now, time.Duration(period)*time.Second)
	unit := metricUnit(ns, name)
	points := []any{}
	for i := range ts {
		p := doc{"Timestamp": ts[i], "Unit": unit}
		for _, st := range stats {
			switch st {
			case "Average", "Maximum", "Minimum", "Sum":
				p[st] = vs[i]
			case "SampleCount":
				p[st] = 1.0
			default:
				return nil, cwInvalid("Statistics %q is not valid", st)
			}
		}
		if len(ext) > 0 {
			e := doc{}
			for _, x := range ext {
				e[x] = vs[i]
			}
			p["ExtendedStatistics"] = e
		}
		points = append(points, p)
	}
	return doc{"Label": name, "Datapoints": points}, nil
}

func metricUnit(ns, name string) string {
	switch name {
	case "ReplicationLatency":
		return "Seconds"
	case "BytesPendingReplication":
		return "Bytes"
	case "LatencyP99":
		return "Milliseconds"
	case "HTTPCode_5XX_Rate":
		return "Percent"
	}
	return "Count"
}
