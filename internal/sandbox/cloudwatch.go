package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

const (
	cloudwatchNS     = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	cborPathPrefix   = "/service/GraniteServiceVersion20100801/operation/"
	inferenceNS      = "AI/Inference"
	alarmEvalMaxDeep = 8
)

// cloudwatchService speaks CloudWatch's RPC v2 CBOR protocol (the pinned
// SDK) and its query protocol (the AWS CLI and older SDKs). Both decode into
// the same generic document, so one set of handlers serves both.
type cloudwatchService struct{ e *estate }

type doc = map[string]any

func isCBOR(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, cborPathPrefix) || r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor"
}

func (s *cloudwatchService) identify(r *http.Request) (string, bool, error) {
	if isCBOR(r) {
		op := strings.TrimPrefix(r.URL.Path, cborPathPrefix)
		if op == "" || strings.Contains(op, "/") {
			return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperationException", "unknown path " + r.URL.Path}
		}
		return op, isMutatingName(op), nil
	}
	return identifyQuery(r)
}

// cwShape maps a query error code to the CBOR error shape of the model.
func cwShape(code string) (string, bool) {
	switch code {
	case "InvalidParameterValue":
		return "InvalidParameterValueException", true
	case "MissingParameter":
		return "MissingRequiredParameterException", true
	case "InvalidParameterCombination":
		return "InvalidParameterCombinationException", true
	case "ResourceNotFound", "InvalidNextToken":
		return code, true
	case "LimitExceeded":
		return "LimitExceededFault", true
	case "InvalidFormat":
		return "InvalidFormatFault", true
	}
	return "", false
}

func (s *cloudwatchService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	if !isCBOR(r) {
		writeQueryError(w, cloudwatchNS, c, e)
		return
	}
	typ := e.Code
	if shape, ok := cwShape(e.Code); ok {
		typ = "com.amazonaws.cloudwatch#" + shape
	}
	fault := "Sender"
	if e.Status >= 500 {
		fault = "Receiver"
	}
	// A query-compatible service tells the SDK every error's query code,
	// modelled or not (Throttling, InternalFailure), and the SDK reports it.
	w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
	writeCBOR(w, e.Status, doc{"__type": typ, "message": e.Message})
}

// faultErrors are the query protocol's in both protocols: over CBOR the
// query code travels in X-Amzn-Query-Error, which the SDK reports.
func (s *cloudwatchService) faultErrors() faultErrors { return queryFaultErrors() }

// cborEncoder writes timestamps as tag 1 epoch seconds, as Smithy's RPC v2
// CBOR protocol requires.
func cborEncoder() cbor.EncMode {
	m, _ := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	return m
}

// cborDecoder decodes maps with string keys, so documents from CBOR and
// from query parameters look alike.
func cborDecoder() cbor.DecMode {
	m, _ := cbor.DecOptions{DefaultMapType: reflect.TypeOf(doc{})}.DecMode()
	return m
}

func writeCBOR(w http.ResponseWriter, status int, v doc) {
	enc := cborEncoder()
	b, err := enc.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = enc.Marshal(doc{"__type": "InternalFailure", "message": "encode response"})
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away.
}

func (s *cloudwatchService) serve(w http.ResponseWriter, r *http.Request, c *call) {
	var in doc
	cborReq := isCBOR(r)
	if cborReq {
		b, err := readBody(r)
		if err != nil {
			s.writeError(w, r, c, &apiError{http.StatusBadRequest, "SerializationException", err.Error()})
			return
		}
		in = doc{}
		if len(b) > 0 {
			if err := cborDecoder().Unmarshal(b, &in); err != nil {
				s.writeError(w, r, c, &apiError{http.StatusBadRequest, "SerializationException", "request body is not CBOR: " + err.Error()})
				return
			}
		}
	} else {
		f, err := parseForm(r)
		if err != nil {
			s.writeError(w, r, c, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
			return
		}
		in = queryDoc(f)
	}
	handlers := map[string]func(doc, *call) (doc, *apiError){
		"PutMetricAlarm":      s.putMetricAlarm,
		"PutCompositeAlarm":   s.putCompositeAlarm,
		"DescribeAlarms":      s.describeAlarms,
		"DeleteAlarms":        s.deleteAlarms,
		"SetAlarmState":       s.setAlarmState,
		"GetMetricData":       s.getMetricData,
		"GetMetricStatistics": s.getMetricStatistics,
	}
	h, ok := handlers[c.Operation]
	if !ok {
		s.writeError(w, r, c, &apiError{http.StatusBadRequest, "InvalidAction", "the sandbox does not implement " + c.Operation})
		return
	}
	s.e.mu.Lock()
	out, ae := h(in, c)
	s.e.mu.Unlock()
	if ae != nil {
		s.writeError(w, r, c, ae)
		return
	}
	if out == nil {
		out = doc{}
	}
	if cborReq {
		writeCBOR(w, http.StatusOK, out)
		return
	}
	d := newXMLDoc()
	d.open(c.Operation+"Response", "xmlns", cloudwatchNS)
	if len(out) > 0 {
		d.open(c.Operation + "Result")
		writeDocXML(d, out)
		d.close(c.Operation + "Result")
	}
	d.open("ResponseMetadata").leaf("RequestId", c.RequestID).close("ResponseMetadata").close(c.Operation + "Response")
	sendXML(w, http.StatusOK, d.bytes())
}

// queryDoc turns query parameters (A.member.1.B=x) into a document
// ({"A": [{"B": "x"}]}).
func queryDoc(f form) doc {
	root := doc{}
	for k, vs := range f {
		if k == "Action" || k == "Version" || len(vs) == 0 {
			continue
		}
		insertPath(root, strings.Split(k, "."), vs[0])
	}
	return normalizeLists(root).(doc)
}

// insertPath stores v at path; lists are kept as maps of index while
// building ("member" then the 1-based index).
func insertPath(m doc, path []string, v string) {
	key := path[0]
	rest := path[1:]
	if len(rest) == 0 {
		m[key] = v
		return
	}
	if rest[0] == "member" && len(rest) >= 2 {
		lst, _ := m[key].(map[int]any)
		if lst == nil {
			lst = map[int]any{}
			m[key] = lst
		}
		i, _ := strconv.Atoi(rest[1])
		if len(rest) == 2 {
			lst[i] = v
			return
		}
		child, _ := lst[i].(doc)
		if child == nil {
			child = doc{}
			lst[i] = child
		}
		insertPath(child, rest[2:], v)
		return
	}
	child, _ := m[key].(doc)
	if child == nil {
		child = doc{}
		m[key] = child
	}
	insertPath(child, rest, v)
}

func normalizeLists(v any) any {
	switch t := v.(type) {
	case doc:
		for k, c := range t {
			t[k] = normalizeLists(c)
		}
		return t
	case map[int]any:
		idx := make([]int, 0, len(t))
		for i := range t {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, 0, len(idx))
		for _, i := range idx {
			out = append(out, normalizeLists(t[i]))
		}
		return out
	}
	return v
}

// writeDocXML writes a document the query protocol's way: lists as
// <member> elements, times in ISO 8601.
func writeDocXML(d *xmlDoc, m doc) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.open(k)
		writeValueXML(d, m[k])
		d.close(k)
	}
}

func writeValueXML(d *xmlDoc, v any) {
	switch t := v.(type) {
	case doc:
		writeDocXML(d, t)
	case []any:
		for _, x := range t {
			d.open("member")
			writeValueXML(d, x)
			d.close("member")
		}
	case []doc:
		for _, x := range t {
			d.open("member")
			writeDocXML(d, x)
			d.close("member")
		}
	case []string:
		for _, x := range t {
			d.leaf("member", x)
		}
	case []float64:
		for _, x := range t {
			d.leaf("member", ftoa(x))
		}
	case []time.Time:
		for _, x := range t {
			d.leaf("member", xmlTime(x))
		}
	case time.Time:
		d.b.WriteString(xmlTime(t))
	case float64:
		d.b.WriteString(ftoa(t))
	case int:
		d.b.WriteString(istr(t))
	case int64:
		d.b.WriteString(strconv.FormatInt(t, 10))
	case bool:
		d.b.WriteString(btoa(t))
	case string:
		d.b.WriteString(xmlEscape(t))
	}
}

// Accessors tolerate both encodings: CBOR numbers arrive typed, query
// values as strings.
func dstr(m doc, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func dnum(m doc, k string) (float64, bool) {
	switch v := m[k].(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

func dint(m doc, k string, def int) int {
	if f, ok := dnum(m, k); ok {
		return int(f)
	}
	return def
}

func dbool(m doc, k string, def bool) bool {
	switch v := m[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return def
}

func dlist(m doc, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func dstrings(m doc, k string) []string {
	var out []string
	for _, v := range dlist(m, k) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dtime(m doc, k string) (time.Time, bool) {
	switch v := m[k].(type) {
	case time.Time:
		return v.UTC(), true
	case cbor.Tag:
		if f, ok := dnum(doc{"v": v.Content}, "v"); ok {
			return time.UnixMilli(int64(f * 1000)).UTC(), true
		}
	case float64, uint64, int64:
		f, _ := dnum(m, k)
		return time.UnixMilli(int64(f * 1000)).UTC(), true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

func ddims(m doc, k string) []dimension {
	var out []dimension
	for _, v := range dlist(m, k) {
		if dm, ok := v.(doc); ok {
			out = append(out, dimension{dstr(dm, "Name"), dstr(dm, "Value")})
		}
	}
	return out
}

func cwInvalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func cwMissing(name string) *apiError {
	return &apiError{http.StatusBadRequest, "MissingParameter", "The parameter " + name + " is required."}
}

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

func strs(v []string) []any {
	out := make([]any, 0, len(v))
	for _, s := range v {
		out = append(out, s)
	}
	return out
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

// alarmRule is a parsed composite alarm rule: ALARM(name), OK(name),
// INSUFFICIENT_DATA(name), TRUE, FALSE, combined with AND, OR, NOT and
// parentheses.
type alarmRule struct {
	op          string // "state", "and", "or", "not", "const"
	state, name string
	value       bool
	kids        []*alarmRule
}

func (r *alarmRule) eval(stateOf func(string) string) bool {
	switch r.op {
	case "state":
		return stateOf(r.name) == r.state
	case "and":
		return r.kids[0].eval(stateOf) && r.kids[1].eval(stateOf)
	case "or":
		return r.kids[0].eval(stateOf) || r.kids[1].eval(stateOf)
	case "not":
		return !r.kids[0].eval(stateOf)
	}
	return r.value
}

// names lists the alarms a rule refers to.
func (r *alarmRule) names() []string {
	if r.op == "state" {
		return []string{r.name}
	}
	var out []string
	for _, k := range r.kids {
		out = append(out, k.names()...)
	}
	return out
}

type ruleParser struct {
	toks []string
	pos  int
}

func tokenizeRule(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, string(ch))
			i++
		case ch == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote at %d", i)
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()\"", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseAlarmRule(s string) (*alarmRule, error) {
	toks, err := tokenizeRule(s)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks}
	r, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return r, nil
}

func (p *ruleParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *ruleParser) or() (*alarmRule, error) { return p.binary("or", p.and) }

func (p *ruleParser) and() (*alarmRule, error) { return p.binary("and", p.unary) }

// binary parses operands joined by the keyword op (either case), left to
// right; next parses one operand, which binds tighter.
func (p *ruleParser) binary(op string, next func() (*alarmRule, error)) (*alarmRule, error) {
	l, err := next()
	for err == nil && strings.EqualFold(p.peek(), op) {
		p.pos++
		var r *alarmRule
		if r, err = next(); err == nil {
			l = &alarmRule{op: op, kids: []*alarmRule{l, r}}
		}
	}
	return l, err
}

func (p *ruleParser) unary() (*alarmRule, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("unexpected end of rule")
	case strings.EqualFold(t, "NOT"):
		p.pos++
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &alarmRule{op: "not", kids: []*alarmRule{k}}, nil
	case t == "(":
		p.pos++
		r, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return r, nil
	case strings.EqualFold(t, "TRUE") || strings.EqualFold(t, "FALSE"):
		p.pos++
		return &alarmRule{op: "const", value: strings.EqualFold(t, "TRUE")}, nil
	}
	state := strings.ToUpper(t)
	if !validAlarmState(state) {
		return nil, fmt.Errorf("expected ALARM, OK, INSUFFICIENT_DATA, NOT, TRUE, FALSE or (, got %q", t)
	}
	p.pos++
	if p.peek() != "(" {
		return nil, fmt.Errorf("%s must be followed by (alarm-name)", t)
	}
	p.pos++
	name := strings.Trim(p.peek(), `"`)
	if name == "" || name == ")" {
		return nil, fmt.Errorf("%s() needs an alarm name", t)
	}
	p.pos++
	if p.peek() != ")" {
		return nil, fmt.Errorf("missing ) after %s(%s", t, name)
	}
	p.pos++
	return &alarmRule{op: "state", state: state, name: name}, nil
}
