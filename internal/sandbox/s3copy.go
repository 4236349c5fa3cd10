package sandbox

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// copySource is a parsed x-amz-copy-source header.
type copySource struct {
	bucket, key, versionID string
}

func parseCopySource(h string) (copySource, *apiError) {
	bad := errInvalidArgument("Invalid copy source: " + h)
	path, query, _ := strings.Cut(h, "?")
	path, err := url.PathUnescape(path)
	if err != nil {
		return copySource{}, bad
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return copySource{}, bad
	}
	cs := copySource{bucket: bucket, key: key}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return copySource{}, bad
		}
		cs.versionID = q.Get("versionId")
		if _, ok := q["versionId"]; ok && !validVersionID(cs.versionID) {
			return copySource{}, errInvalidVersionID()
		}
	}
	return cs, nil
}

// sourceVersionLocked finds the version a copy reads.
func (s *s3Service) sourceVersionLocked(cs copySource, now time.Time) (*s3Version, *apiError) {
	b, e := s.bucketLocked(cs.bucket, now)
	if e != nil {
		return nil, e
	}
	if cs.versionID != "" {
		v := b.findVersion(cs.key, cs.versionID)
		if v == nil {
			return nil, errNoSuchVersion(cs.versionID)
		}
		if v.deleteMarker {
			return nil, errInvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return v, nil
	}
	v := b.latest(cs.key)
	if v == nil || v.deleteMarker {
		return nil, errNoSuchKey(cs.key)
	}
	return v, nil
}

// checkCopyPreconditions applies the x-amz-copy-source-if-* headers.
func checkCopyPreconditions(h http.Header, v *s3Version) *apiError {
	mod := v.modified.Truncate(time.Second)
	if im := h.Get("x-amz-copy-source-if-match"); im != "" && !etagMatches(im, v.etag) {
		return errPrecondition()
	}
	if inm := h.Get("x-amz-copy-source-if-none-match"); inm != "" && etagMatches(inm, v.etag) {
		return errPrecondition()
	}
	if ius := h.Get("x-amz-copy-source-if-unmodified-since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && mod.After(t) {
			return errPrecondition()
		}
	}
	if ims := h.Get("x-amz-copy-source-if-modified-since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return errPrecondition()
		}
	}
	return nil
}

func (s *s3Service) handleCopyObject(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	discard(r)
	if e := checkKey(t.key); e != nil {
		return e
	}
	cs, e := parseCopySource(r.Header.Get("x-amz-copy-source"))
	if e != nil {
		return e
	}
	metaDir := r.Header.Get("x-amz-metadata-directive")
	tagDir := r.Header.Get("x-amz-tagging-directive")
	for _, d := range []string{metaDir, tagDir} {
		if d != "" && d != "COPY" && d != "REPLACE" {
			return errInvalidArgument("Unknown directive: " + d)
		}
	}
	var tags map[string]string
	if tagDir == "REPLACE" {
		if tags, e = parseTagging(r.Header.Get("x-amz-tagging")); e != nil {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src, e := s.sourceVersionLocked(cs, c.Now)
	if e != nil {
		return e
	}
	if e := checkCopyPreconditions(r.Header, src); e != nil {
		return e
	}
	if src.size > maxCopySize {
		return errInvalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: " + strconv.Itoa(maxCopySize))
	}
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return e
	}
	if cs.bucket == t.bucket && cs.key == t.key && src == b.latest(t.key) && metaDir != "REPLACE" && tagDir != "REPLACE" {
		return errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if e := checkWritePreconditions(r.Header, b.latest(t.key), t.key); e != nil {
		return e
	}
	v := &s3Version{modified: c.Now, size: src.size, etag: src.etag, body: src.body,
		headers: src.headers, meta: src.meta, tags: src.tags, checksum: src.checksum}
	if len(src.partSizes) > 0 {
		// A copy is stored whole, so its ETag is the content's MD5.
		v.etag = bodyETag(src.body)
		v.checksum = nil
	}
	if metaDir == "REPLACE" {
		v.headers, v.meta = contentHeadersFrom(r.Header), metaFrom(r.Header)
	}
	if tagDir == "REPLACE" {
		v.tags = tags
	}
	s.putLocked(b, t.key, v, c.Now)
	h := w.Header()
	if b.versioning != "" {
		h.Set("x-amz-version-id", v.id)
	}
	if cs.versionID != "" || src.id != "null" {
		h.Set("x-amz-copy-source-version-id", src.id)
	}
	var out bytes.Buffer
	out.WriteString(`<CopyObjectResult xmlns="` + s3XMLNS + `"><ETag>`)
	xmlText(&out, v.etag)
	out.WriteString("</ETag><LastModified>" + s3Time(v.modified) + "</LastModified></CopyObjectResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}
