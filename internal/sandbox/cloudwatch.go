package sandbox

import (
	"fmt"
	"net/http"
	"strings"
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

// speaksCBOR reports a request answered in RPC v2 CBOR: a CBOR request,
// unless the sandbox plays an endpoint that serves only the query protocol.
func (s *cloudwatchService) speaksCBOR(r *http.Request) bool {
	return isCBOR(r) && !s.e.opts.CloudWatchQueryOnly
}

func (s *cloudwatchService) identify(r *http.Request) (string, bool, error) {
	if isCBOR(r) && s.e.opts.CloudWatchQueryOnly {
		// A query endpoint routes by Action, not by path: the CBOR path is
		// a resource it does not have, answered with an XML error page.
		return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperation", "no such resource " + r.URL.Path}
	}
	if isCBOR(r) {
		op := strings.TrimPrefix(r.URL.Path, cborPathPrefix)
		if op == "" || strings.Contains(op, "/") {
			return "Unknown", false, &apiError{http.StatusNotFound, "UnknownOperationException", "unknown path " + r.URL.Path}
		}
		return op, isMutatingName(op), nil
	}
	return identifyQuery(r)
}

func (s *cloudwatchService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	if !s.speaksCBOR(r) {
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

func cwInvalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func cwMissing(name string) *apiError {
	return &apiError{http.StatusBadRequest, "MissingParameter", "The parameter " + name + " is required."}
}
