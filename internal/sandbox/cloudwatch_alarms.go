package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

func (a *alarm) arn() string {
	return "arn:aws:cloudwatch:" + a.Region + ":" + accountID + ":alarm:" + a.Name
}

func (e *estate) alarm(region, name string) *alarm {
	for _, a := range e.st.Alarms {
		if a.Region == region && a.Name == name {
			return a
		}
	}
	return nil
}

func validComparison(op string) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold":
		return true
	}
	return false
}

func validAlarmState(s string) bool { return s == "OK" || s == "ALARM" || s == "INSUFFICIENT_DATA" }

func (e *estate) putAlarm(a *alarm) {
	for i, old := range e.st.Alarms {
		if old.Region == a.Region && old.Name == a.Name {
			e.st.Alarms[i] = a
			return
		}
	}
	e.st.Alarms = append(e.st.Alarms, a)
}

func (s *cloudwatchService) putMetricAlarm(in doc, c *call) (doc, *apiError) {
	name := dstr(in, "AlarmName")
	if name == "" {
		return nil, cwMissing("AlarmName")
	}
	if _, ok := in["Metrics"]; ok {
		return nil, cwInvalid("the sandbox does not evaluate metric math alarms; use MetricName and Namespace")
	}
	if dstr(in, "MetricName") == "" || dstr(in, "Namespace") == "" {
		return nil, cwMissing("MetricName and Namespace")
	}
	op := dstr(in, "ComparisonOperator")
	if !validComparison(op) {
		return nil, cwInvalid("ComparisonOperator %q is not valid", op)
	}
	th, ok := dnum(in, "Threshold")
	if !ok {
		return nil, cwMissing("Threshold")
	}
	period := dint(in, "Period", 0)
	if period < 10 || period > 60 && period%60 != 0 {
		return nil, cwInvalid("Period %d must be 10, 20, 30 or a multiple of 60", period)
	}
	evals := dint(in, "EvaluationPeriods", 0)
	if evals < 1 {
		return nil, cwInvalid("EvaluationPeriods must be at least 1")
	}
	stat := dstr(in, "Statistic")
	if stat == "" && dstr(in, "ExtendedStatistic") != "" {
		stat = dstr(in, "ExtendedStatistic")
	}
	a := &alarm{Name: name, Region: c.Region, Description: dstr(in, "AlarmDescription"),
		Namespace: dstr(in, "Namespace"), MetricName: dstr(in, "MetricName"), Statistic: stat, Unit: dstr(in, "Unit"),
		Dimensions: ddims(in, "Dimensions"), Period: period, EvaluationPeriods: evals,
		DatapointsToAlarm: dint(in, "DatapointsToAlarm", evals), Threshold: th, ComparisonOperator: op,
		TreatMissingData: dstr(in, "TreatMissingData"), ActionsEnabled: dbool(in, "ActionsEnabled", true),
		AlarmActions: dstrings(in, "AlarmActions"), OKActions: dstrings(in, "OKActions"),
		InsufficientData: dstrings(in, "InsufficientDataActions"), State: "INSUFFICIENT_DATA",
		StateReason: "Unchecked: Initial alarm creation", StateUpdated: c.Now, ConfigUpdated: c.Now}
	if old := s.e.alarm(c.Region, name); old != nil {
		if old.Composite {
			return nil, cwInvalid("alarm %s is a composite alarm", name)
		}
		a.State, a.StateReason, a.StateUpdated = old.State, old.StateReason, old.StateUpdated
	}
	s.e.putAlarm(a)
	return nil, nil
}

func (s *cloudwatchService) putCompositeAlarm(in doc, c *call) (doc, *apiError) {
	name, rule := dstr(in, "AlarmName"), dstr(in, "AlarmRule")
	if name == "" {
		return nil, cwMissing("AlarmName")
	}
	if rule == "" {
		return nil, cwMissing("AlarmRule")
	}
	if _, err := parseAlarmRule(rule); err != nil {
		return nil, cwInvalid("AlarmRule: %v", err)
	}
	a := &alarm{Name: name, Region: c.Region, Description: dstr(in, "AlarmDescription"), Composite: true,
		AlarmRule: rule, ActionsEnabled: dbool(in, "ActionsEnabled", true), AlarmActions: dstrings(in, "AlarmActions"),
		OKActions: dstrings(in, "OKActions"), InsufficientData: dstrings(in, "InsufficientDataActions"),
		State: "INSUFFICIENT_DATA", StateReason: "Unchecked: Initial alarm creation", StateUpdated: c.Now, ConfigUpdated: c.Now}
	if old := s.e.alarm(c.Region, name); old != nil && !old.Composite {
		return nil, cwInvalid("alarm %s is a metric alarm", name)
	}
	s.e.putAlarm(a)
	return nil, nil
}

func (s *cloudwatchService) deleteAlarms(in doc, c *call) (doc, *apiError) {
	names := dstrings(in, "AlarmNames")
	for _, n := range names {
		if s.e.alarm(c.Region, n) == nil {
			return nil, &apiError{http.StatusNotFound, "ResourceNotFound", "alarm " + n + " does not exist"}
		}
	}
	kept := s.e.st.Alarms[:0]
	for _, a := range s.e.st.Alarms {
		if a.Region != c.Region || !slices.Contains(names, a.Name) {
			kept = append(kept, a)
		}
	}
	s.e.st.Alarms = kept
	return nil, nil
}

func (s *cloudwatchService) setAlarmState(in doc, c *call) (doc, *apiError) {
	name, state, reason := dstr(in, "AlarmName"), dstr(in, "StateValue"), dstr(in, "StateReason")
	if name == "" || state == "" || reason == "" {
		return nil, cwMissing("AlarmName, StateValue and StateReason")
	}
	if !validAlarmState(state) {
		return nil, cwInvalid("StateValue %q is not OK, ALARM or INSUFFICIENT_DATA", state)
	}
	a := s.e.alarm(c.Region, name)
	if a == nil {
		return nil, &apiError{http.StatusNotFound, "ResourceNotFound", "alarm " + name + " does not exist"}
	}
	if a.State != state {
		a.StateUpdated = c.Now
	}
	a.State, a.StateReason = state, reason
	// The state holds until the alarm is next evaluated, one period on.
	p := time.Duration(a.Period) * time.Second
	if p < time.Minute {
		p = time.Minute
	}
	a.ManualUntil = c.Now.Add(p)
	return nil, nil
}

func compare(op string, v, th float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= th
	case "GreaterThanThreshold":
		return v > th
	case "LessThanThreshold":
		return v < th
	case "LessThanOrEqualToThreshold":
		return v <= th
	}
	return false
}

// alarmState evaluates an alarm lazily at now and records transitions.
func (e *estate) alarmState(a *alarm, now time.Time, depth int) string {
	next, reason := a.State, a.StateReason
	switch {
	case now.Before(a.ManualUntil):
	case a.Composite:
		if depth > alarmEvalMaxDeep {
			return a.State
		}
		rule, err := parseAlarmRule(a.AlarmRule)
		if err != nil {
			return a.State
		}
		if rule.eval(func(name string) string {
			if child := e.alarm(a.Region, name); child != nil {
				return e.alarmState(child, now, depth+1)
			}
			return "INSUFFICIENT_DATA"
		}) {
			next, reason = "ALARM", "Alarm rule "+a.AlarmRule+" is TRUE"
		} else {
			next, reason = "OK", "Alarm rule "+a.AlarmRule+" is FALSE"
		}
	default:
		v, ok := e.metricValue(a.Region, a.Namespace, a.MetricName, a.Dimensions, now)
		if !ok {
			if a.Namespace == "AWS/S3" || a.Namespace == "AWS/AutoScaling" || a.Namespace == inferenceNS {
				next, reason = missingDataState(a), "Insufficient Data: no datapoints were received"
			}
			break
		}
		word := map[bool]string{true: "was", false: "was not"}[compare(a.ComparisonOperator, v, a.Threshold)]
		reason = fmt.Sprintf("Threshold Crossed: 1 datapoint [%s] %s %s the threshold (%s).", ftoa(v), word,
			opWords(a.ComparisonOperator), ftoa(a.Threshold))
		if compare(a.ComparisonOperator, v, a.Threshold) {
			next = "ALARM"
		} else {
			next = "OK"
		}
	}
	if next != a.State {
		a.State, a.StateUpdated = next, now
	}
	a.StateReason = reason
	return a.State
}

func missingDataState(a *alarm) string {
	switch a.TreatMissingData {
	case "breaching":
		return "ALARM"
	case "notBreaching":
		return "OK"
	case "ignore":
		return a.State
	}
	return "INSUFFICIENT_DATA"
}

func opWords(op string) string {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return "greater than or equal to"
	case "GreaterThanThreshold":
		return "greater than"
	case "LessThanThreshold":
		return "less than"
	}
	return "less than or equal to"
}

func (s *cloudwatchService) alarmDoc(a *alarm, now time.Time) doc {
	state := s.e.alarmState(a, now, 0)
	m := doc{"AlarmName": a.Name, "AlarmArn": a.arn(), "AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated,
		"ActionsEnabled": a.ActionsEnabled, "StateValue": state, "StateReason": a.StateReason,
		"StateUpdatedTimestamp": a.StateUpdated, "StateTransitionedTimestamp": a.StateUpdated,
		"AlarmActions": strs(a.AlarmActions), "OKActions": strs(a.OKActions), "InsufficientDataActions": strs(a.InsufficientData)}
	if a.Description != "" {
		m["AlarmDescription"] = a.Description
	}
	if a.Composite {
		m["AlarmRule"] = a.AlarmRule
		return m
	}
	dims := []any{}
	for _, d := range a.Dimensions {
		dims = append(dims, doc{"Name": d.Name, "Value": d.Value})
	}
	m["MetricName"], m["Namespace"], m["Dimensions"] = a.MetricName, a.Namespace, dims
	m["Period"], m["EvaluationPeriods"], m["DatapointsToAlarm"] = a.Period, a.EvaluationPeriods, a.DatapointsToAlarm
	m["Threshold"], m["ComparisonOperator"] = a.Threshold, a.ComparisonOperator
	if strings.HasPrefix(a.Statistic, "p") {
		m["ExtendedStatistic"] = a.Statistic
	} else if a.Statistic != "" {
		m["Statistic"] = a.Statistic
	}
	if a.Unit != "" {
		m["Unit"] = a.Unit
	}
	if a.TreatMissingData != "" {
		m["TreatMissingData"] = a.TreatMissingData
	}
	return m
}

func (s *cloudwatchService) describeAlarms(in doc, c *call) (doc, *apiError) {
	names, prefix := dstrings(in, "AlarmNames"), dstr(in, "AlarmNamePrefix")
	if len(names) > 0 && prefix != "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be used together"}
	}
	max := dint(in, "MaxRecords", 50)
	if max < 1 || max > 100 {
		return nil, cwInvalid("MaxRecords must be between 1 and 100")
	}
	state := dstr(in, "StateValue")
	if state != "" && !validAlarmState(state) {
		return nil, cwInvalid("StateValue %q is not OK, ALARM or INSUFFICIENT_DATA", state)
	}
	types := dstrings(in, "AlarmTypes")
	wantMetric, wantComposite := len(types) == 0, false
	for _, t := range types {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
			wantComposite = true
		default:
			return nil, cwInvalid("AlarmTypes %q is not MetricAlarm or CompositeAlarm", t)
		}
	}
	off, ok := parsePageToken("DescribeAlarms", dstr(in, "NextToken"))
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "InvalidNextToken", "The next token is not valid"}
	}
	children, parents := dstr(in, "ChildrenOfAlarmName"), dstr(in, "ParentsOfAlarmName")
	if (children != "" || parents != "") && (len(names) > 0 || prefix != "" || state != "" || children != "" && parents != "") {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterCombination",
			"ChildrenOfAlarmName and ParentsOfAlarmName cannot be used with each other or with other filters"}
	}
	related := func(a *alarm) bool {
		switch {
		case children != "":
			if p := s.e.alarm(c.Region, children); p != nil && p.Composite {
				if r, err := parseAlarmRule(p.AlarmRule); err == nil {
					return slices.Contains(r.names(), a.Name)
				}
			}
			return false
		case parents != "":
			if !a.Composite {
				return false
			}
			r, err := parseAlarmRule(a.AlarmRule)
			return err == nil && slices.Contains(r.names(), parents)
		}
		return true
	}
	var sel []*alarm
	for _, a := range s.e.st.Alarms {
		if a.Region != c.Region || !related(a) || a.Composite && !wantComposite || !a.Composite && !wantMetric ||
			len(names) > 0 && !slices.Contains(names, a.Name) || !strings.HasPrefix(a.Name, prefix) {
			continue
		}
		if state != "" && s.e.alarmState(a, c.Now, 0) != state {
			continue
		}
		sel = append(sel, a)
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	lo, hi, next := page("DescribeAlarms", len(sel), off, max)
	metric, composite := []any{}, []any{}
	for _, a := range sel[lo:hi] {
		if a.Composite {
			composite = append(composite, s.alarmDoc(a, c.Now))
		} else {
			metric = append(metric, s.alarmDoc(a, c.Now))
		}
	}
	out := doc{"MetricAlarms": metric, "CompositeAlarms": composite}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}
