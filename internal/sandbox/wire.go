package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// xmlDoc builds an XML document by hand: the responses are many and small,
// and writing elements in order mirrors the AWS shapes directly.
type xmlDoc struct{ b bytes.Buffer }

func newXMLDoc() *xmlDoc {
	d := &xmlDoc{}
	d.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	return d
}

func (d *xmlDoc) open(name string, attrs ...string) *xmlDoc {
	d.b.WriteByte('<')
	d.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&d.b, ` %s="%s"`, attrs[i], xmlEscape(attrs[i+1]))
	}
	d.b.WriteByte('>')
	return d
}

func (d *xmlDoc) close(name string) *xmlDoc {
	d.b.WriteString("</" + name + ">")
	return d
}

// leaf writes <name>text</name>.
func (d *xmlDoc) leaf(name, text string) *xmlDoc {
	d.b.WriteString("<" + name + ">")
	d.b.WriteString(xmlEscape(text))
	d.b.WriteString("</" + name + ">")
	return d
}

// opt writes the leaf only when text is not empty.
func (d *xmlDoc) opt(name, text string) *xmlDoc {
	if text != "" {
		d.leaf(name, text)
	}
	return d
}

func (d *xmlDoc) elem(name string, body func()) *xmlDoc {
	d.open(name)
	body()
	return d.close(name)
}

func (d *xmlDoc) bytes() []byte { return d.b.Bytes() }

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // strings.Builder does not fail.
	return b.String()
}

func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func istr(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func btoa(b bool) string { return strconv.FormatBool(b) }

func sendXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away.
}

// form is a parsed query-protocol request (Action=...&Version=... in a
// form-encoded body or the URL query).
type form url.Values

func parseForm(r *http.Request) (form, error) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		b, err := readBody(r)
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		bq, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()}
		}
		for k, v := range bq {
			q[k] = append(q[k], v...)
		}
	}
	return form(q), nil
}

func (f form) get(k string) string { return url.Values(f).Get(k) }

func (f form) has(k string) bool { _, ok := f[k]; return ok }

// list reads a query list: prefix.1, prefix.2, ... (EC2 flat lists) or, with
// prefix "Names.member", the member-style lists of the other query services.
func (f form) list(prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if !f.has(k) {
			return out
		}
		out = append(out, f.get(k))
	}
}

// structs counts prefix.N.* entries, returning the prefixes "prefix.N".
func (f form) structs(prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		p := prefix + "." + strconv.Itoa(i)
		found := false
		for k := range f {
			if strings.HasPrefix(k, p+".") {
				found = true
				break
			}
		}
		if !found {
			return out
		}
		out = append(out, p)
	}
}

func (f form) int(k string, def int) (int, error) {
	v := f.get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf("%s: %q is not an integer", k, v)}
	}
	return n, nil
}

// Pagination tokens are opaque to clients: base64 of the offset, bound to
// the operation so a token is not accepted by another listing.
func pageToken(op string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(offset)))
}

func parsePageToken(op, tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	p, n, ok := strings.Cut(string(b), ":")
	if !ok || p != op {
		return 0, false
	}
	off, err := strconv.Atoi(n)
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}

// page slices n items from offset, returning the range and the next token.
func page(op string, total, offset, limit int) (lo, hi int, next string) {
	if offset > total {
		offset = total
	}
	hi = total
	if limit > 0 && offset+limit < total {
		hi = offset + limit
		next = pageToken(op, hi)
	}
	return offset, hi, next
}

func sendJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away.
}

// epoch is a timestamp in the REST-JSON default format (seconds since the
// epoch, with a fraction).
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// pathSegments splits a REST-JSON request's path into its unescaped
// segments (Backup, EFS).
func pathSegments(r *http.Request) []string {
	raw := strings.Trim(r.URL.EscapedPath(), "/")
	if raw == "" {
		return nil
	}
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}
