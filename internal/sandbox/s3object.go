package sandbox

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	maxKeyLength = 1024
	// maxCopySize is the largest object CopyObject copies; larger ones
	// take a multipart upload with UploadPartCopy.
	maxCopySize = 5 << 30
)

func checkKey(key string) *apiError {
	if len(key) > maxKeyLength {
		return &apiError{Status: 400, Code: "KeyTooLongError", Message: "Your key is too long"}
	}
	return nil
}

// validVersionID accepts the ids the sandbox hands out and "null".
func validVersionID(id string) bool {
	if id == "null" {
		return true
	}
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

func errInvalidVersionID() *apiError {
	return errInvalidArgument("Invalid version id specified")
}

func metaFrom(h http.Header) objectMeta {
	var m map[string]string
	for k, vs := range h {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-amz-meta-"); ok && len(vs) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = strings.Join(vs, ",")
		}
	}
	return metaOf(m)
}

func contentHeadersFrom(h http.Header) *contentHeaders {
	c := contentHeaders{
		contentType:        h.Get("Content-Type"),
		cacheControl:       h.Get("Cache-Control"),
		contentDisposition: h.Get("Content-Disposition"),
		contentLanguage:    h.Get("Content-Language"),
	}
	// aws-chunked is transport framing, not the object's encoding.
	var enc []string
	for _, e := range strings.Split(h.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			enc = append(enc, e)
		}
	}
	c.contentEncoding = strings.Join(enc, ",")
	if c == (contentHeaders{}) {
		return nil
	}
	return &c
}

func normETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e == "*" || normETag(e) == normETag(etag) {
			return true
		}
	}
	return false
}

// checkWritePreconditions applies If-None-Match: * and If-Match to a write
// of key, given its current entry.
func checkWritePreconditions(h http.Header, cur *s3Version, key string) *apiError {
	exists := cur != nil && !cur.deleteMarker
	if inm := h.Get("If-None-Match"); inm != "" {
		if strings.TrimSpace(inm) != "*" {
			return errNotImplemented("If-None-Match with an ETag on a write")
		}
		if exists {
			return errPrecondition()
		}
	}
	if im := h.Get("If-Match"); im != "" {
		if !exists {
			return errNoSuchKey(key)
		}
		if !etagMatches(im, cur.etag) {
			return errPrecondition()
		}
	}
	return nil
}

func (s *s3Service) handlePutObject(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	if e := checkKey(t.key); e != nil {
		return e
	}
	body, sum, e := readS3Body(r)
	if e != nil {
		return e
	}
	tags, e := parseTagging(r.Header.Get("x-amz-tagging"))
	if e != nil {
		return e
	}
	v := &s3Version{modified: c.Now, size: int64(len(body)), etag: md5ETag(body), body: bytesBody(body),
		headers: contentHeadersFrom(r.Header), meta: metaFrom(r.Header), tags: tags, checksum: sum}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return e
	}
	if e := checkWritePreconditions(r.Header, b.latest(t.key), t.key); e != nil {
		return e
	}
	s.putLocked(b, t.key, v, c.Now)
	h := w.Header()
	h.Set("ETag", v.etag)
	if b.versioning != "" {
		h.Set("x-amz-version-id", v.id)
	}
	if sum != nil {
		h.Set(checksumHeader(sum.algorithm), sum.value)
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// objectRead is what a GET or HEAD answers with, copied out under the lock.
type objectRead struct {
	v         s3Version
	versioned bool
}

func (s *s3Service) handleGetObject(w http.ResponseWriter, r *http.Request, c *call, t s3Target, head bool) *apiError {
	q := r.URL.Query()
	vid := q.Get("versionId")
	if _, ok := q["versionId"]; ok && !validVersionID(vid) {
		return errInvalidVersionID()
	}
	h := w.Header()
	s.mu.Lock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	var v *s3Version
	if vid != "" {
		v = b.findVersion(t.key, vid)
		if v == nil {
			s.mu.Unlock()
			return errNoSuchVersion(vid)
		}
	} else {
		v = b.latest(t.key)
		if v == nil {
			s.mu.Unlock()
			return errNoSuchKey(t.key)
		}
	}
	rd := objectRead{v: *v, versioned: b.versioning != ""}
	s.mu.Unlock()
	if rd.v.deleteMarker {
		h.Set("x-amz-delete-marker", "true")
		h.Set("x-amz-version-id", rd.v.id)
		h.Set("Last-Modified", httpTime(rd.v.modified))
		if vid != "" {
			h.Set("Allow", "DELETE")
			return &apiError{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
				Message: "The specified method is not allowed against this resource."}
		}
		return errNoSuchKey(t.key)
	}
	return writeObject(w, r, &rd, head)
}

func writeObject(w http.ResponseWriter, r *http.Request, rd *objectRead, head bool) *apiError {
	v := &rd.v
	h := w.Header()
	h.Set("ETag", v.etag)
	h.Set("Last-Modified", httpTime(v.modified))
	h.Set("Accept-Ranges", "bytes")
	if rd.versioned || v.id != "null" {
		h.Set("x-amz-version-id", v.id)
	}
	if e := checkReadPreconditions(r.Header, v); e != nil {
		return e
	}
	ct := "binary/octet-stream"
	if v.headers != nil {
		if v.headers.contentType != "" {
			ct = v.headers.contentType
		}
		setIf(h, "Cache-Control", v.headers.cacheControl)
		setIf(h, "Content-Disposition", v.headers.contentDisposition)
		setIf(h, "Content-Encoding", v.headers.contentEncoding)
		setIf(h, "Content-Language", v.headers.contentLanguage)
	}
	h.Set("Content-Type", ct)
	q := r.URL.Query()
	for _, o := range [...][2]string{{"response-content-type", "Content-Type"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
		{"response-content-language", "Content-Language"}, {"response-expires", "Expires"}} {
		setIf(h, o[1], q.Get(o[0]))
	}
	for _, p := range v.meta {
		h.Set("x-amz-meta-"+p.Name, p.Value)
	}
	if len(v.tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(v.tags)))
	}
	setIf(h, "x-amz-replication-status", v.replication.String())
	var (
		start, end int64
		partial    bool
		e          *apiError
	)
	if pn := q.Get("partNumber"); pn != "" {
		start, end, partial, e = partRange(pn, r.Header.Get("Range"), v)
		if e != nil {
			return e
		}
		if len(v.partSizes) > 0 {
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(v.partSizes)))
		}
	} else if start, end, partial, e = parseRange(r.Header.Get("Range"), v.size); e != nil {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(v.size, 10))
		return e
	}
	if !partial && v.checksum != nil && strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		h.Set(checksumHeader(v.checksum.algorithm), v.checksum.value)
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end-1, 10)+"/"+strconv.FormatInt(v.size, 10))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if !head && end > start {
		_ = v.body.writeRange(w, start, end)
	}
	return nil
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// checkReadPreconditions applies the conditional GET headers in the order
// and with the combinations S3 documents.
func checkReadPreconditions(h http.Header, v *s3Version) *apiError {
	im, inm := h.Get("If-Match"), h.Get("If-None-Match")
	ims, ius := h.Get("If-Modified-Since"), h.Get("If-Unmodified-Since")
	mod := v.modified.Truncate(time.Second)
	if im != "" {
		if !etagMatches(im, v.etag) {
			return errPrecondition()
		}
	} else if ius != "" {
		if t, err := http.ParseTime(ius); err == nil && mod.After(t) {
			return errPrecondition()
		}
	}
	notModified := &apiError{Status: http.StatusNotModified, Code: "NotModified", Message: "Not Modified"}
	if inm != "" {
		if etagMatches(inm, v.etag) {
			return notModified
		}
	} else if ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return notModified
		}
	}
	return nil
}

// partRange is the byte range a GET with partNumber reads: one part of a
// multipart object, or the whole of any other object as its only part.
func partRange(pn, rangeHeader string, v *s3Version) (int64, int64, bool, *apiError) {
	n, err := strconv.Atoi(pn)
	if err != nil || n < 1 || n > 10000 {
		return 0, 0, false, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	if rangeHeader != "" {
		return 0, 0, false, errInvalidRequest("Cannot specify both Range header and partNumber query parameter")
	}
	unsatisfiable := &apiError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidPartNumber",
		Message: "The requested partnumber is not satisfiable"}
	if len(v.partSizes) == 0 {
		if n != 1 {
			return 0, 0, false, unsatisfiable
		}
		return 0, v.size, false, nil
	}
	if n > len(v.partSizes) {
		return 0, 0, false, unsatisfiable
	}
	var start int64
	for _, sz := range v.partSizes[:n-1] {
		start += sz
	}
	return start, start + v.partSizes[n-1], true, nil
}

// parseRange reads a single byte range; the half-open [start,end) it names
// and whether it is partial.
func parseRange(spec string, size int64) (int64, int64, bool, *apiError) {
	if spec == "" {
		return 0, size, false, nil
	}
	rs, ok := strings.CutPrefix(spec, "bytes=")
	if !ok || strings.Contains(rs, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(rs, "-")
	if !ok {
		return 0, size, false, nil
	}
	invalid := &apiError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidRange",
		Message: "The requested range is not satisfiable"}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 {
			return 0, 0, false, invalid
		}
		return max(size-n, 0), size, true, nil
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, size, false, nil
	}
	end := size - 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return 0, size, false, nil
		}
	}
	if start >= size {
		return 0, 0, false, invalid
	}
	return start, min(end, size-1) + 1, true, nil
}

func (s *s3Service) handleDeleteObject(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	q := r.URL.Query()
	vid := q.Get("versionId")
	if _, ok := q["versionId"]; ok && !validVersionID(vid) {
		return errInvalidVersionID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return e
	}
	h := w.Header()
	if im := r.Header.Get("If-Match"); im != "" {
		cur := b.latest(t.key)
		if vid != "" {
			cur = b.findVersion(t.key, vid)
		}
		if cur == nil || cur.deleteMarker {
			return errNoSuchKey(t.key)
		}
		if !etagMatches(im, cur.etag) {
			return errPrecondition()
		}
	}
	if vid != "" {
		if v := b.removeVersion(t.key, vid); v != nil && v.deleteMarker {
			h.Set("x-amz-delete-marker", "true")
		}
		h.Set("x-amz-version-id", vid)
	} else if m := s.deleteLocked(b, t.key, c.Now); m != nil {
		h.Set("x-amz-delete-marker", "true")
		h.Set("x-amz-version-id", m.id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *s3Service) handleDeleteObjects(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	body, _, e := readS3Body(r)
	if e != nil {
		return e
	}
	var req struct {
		Quiet   bool `xml:"Quiet"`
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML()
	}
	s.mu.Lock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	var out bytes.Buffer
	out.WriteString(`<DeleteResult xmlns="` + s3XMLNS + `">`)
	for _, o := range req.Objects {
		if o.VersionID != "" && !validVersionID(o.VersionID) {
			out.WriteString("<Error><Key>")
			xmlText(&out, o.Key)
			out.WriteString("</Key><VersionId>")
			xmlText(&out, o.VersionID)
			out.WriteString("</VersionId><Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message></Error>")
			continue
		}
		var marker bool
		var markerID string
		if o.VersionID != "" {
			if v := b.removeVersion(o.Key, o.VersionID); v != nil && v.deleteMarker {
				marker, markerID = true, v.id
			}
		} else if m := s.deleteLocked(b, o.Key, c.Now); m != nil {
			marker, markerID = true, m.id
		}
		if req.Quiet {
			continue
		}
		out.WriteString("<Deleted><Key>")
		xmlText(&out, o.Key)
		out.WriteString("</Key>")
		if o.VersionID != "" {
			out.WriteString("<VersionId>")
			xmlText(&out, o.VersionID)
			out.WriteString("</VersionId>")
		}
		if marker {
			out.WriteString("<DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>" + markerID + "</DeleteMarkerVersionId>")
		}
		out.WriteString("</Deleted>")
	}
	s.mu.Unlock()
	out.WriteString("</DeleteResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}
