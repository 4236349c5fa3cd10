package sandbox

import (
	"fmt"
	"net/http"
)

// queryHandler answers one query-protocol operation, writing the elements
// of its <OpResult>.
type queryHandler func(d *xmlDoc, f form, c *call) *apiError

// identifyQuery names the Action of a query-protocol request.
func identifyQuery(r *http.Request) (string, bool, error) {
	op, _, err := queryAction(r)
	if err != nil {
		return "", false, err
	}
	return op, isMutatingName(op), nil
}

// queryAction parses a query-protocol request and names its Action.
func queryAction(r *http.Request) (string, form, error) {
	f, err := parseForm(r)
	if err != nil {
		return "", nil, err
	}
	op := f.get("Action")
	if op == "" {
		return "", nil, &apiError{http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action"}
	}
	return op, f, nil
}

// writeQueryError writes the query protocol's error shape.
func writeQueryError(w http.ResponseWriter, ns string, c *call, e *apiError) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	d := newXMLDoc()
	d.open("ErrorResponse", "xmlns", ns).open("Error").leaf("Type", typ).leaf("Code", e.Code).
		leaf("Message", e.Message).close("Error").leaf("RequestId", c.RequestID).close("ErrorResponse")
	sendXML(w, e.Status, d.bytes())
}

// serveQuery runs a handler and wraps its result the query protocol's way.
// lock, when not nil, is held around the handler.
func serveQuery(w http.ResponseWriter, r *http.Request, c *call, ns string, handlers map[string]queryHandler, lock func() func()) {
	h, ok := handlers[c.Operation]
	if !ok {
		writeQueryError(w, ns, c, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version", c.Operation)})
		return
	}
	f, err := parseForm(r)
	if err != nil {
		writeQueryError(w, ns, c, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	d := newXMLDoc()
	d.open(c.Operation+"Response", "xmlns", ns).open(c.Operation + "Result")
	var ae *apiError
	if lock != nil {
		unlock := lock()
		ae = h(d, f, c)
		unlock()
	} else {
		ae = h(d, f, c)
	}
	if ae != nil {
		writeQueryError(w, ns, c, ae)
		return
	}
	d.close(c.Operation+"Result").open("ResponseMetadata").leaf("RequestId", c.RequestID).close("ResponseMetadata").
		close(c.Operation + "Response")
	sendXML(w, http.StatusOK, d.bytes())
}

// queryFaultErrors are the common errors of the AWS query protocol, which
// the query-protocol services other than EC2 answer faults with.
func queryFaultErrors() faultErrors {
	return faultErrors{
		Throttle: apiError{http.StatusBadRequest, "Throttling", msgRateExceeded},
		Internal: apiError{http.StatusInternalServerError, "InternalFailure", msgInternal},
		Outage:   apiError{http.StatusServiceUnavailable, "ServiceUnavailable", msgUnavailable},
	}
}

func validationError(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, args...)}
}

func (e *estate) lock() func() {
	e.mu.Lock()
	return e.mu.Unlock
}
