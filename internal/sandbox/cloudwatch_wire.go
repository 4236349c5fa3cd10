package sandbox

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// doc is a CloudWatch request or response in either protocol: a CBOR map,
// or query parameters turned into one by queryDoc.
type doc = map[string]any

// isCBOR reports a request in the RPC v2 CBOR protocol.
func isCBOR(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, cborPathPrefix) || r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor"
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

func strs(v []string) []any {
	out := make([]any, 0, len(v))
	for _, s := range v {
		out = append(out, s)
	}
	return out
}
