package sandbox

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// S3's part sizes: the smallest part but the last, and the largest.
const (
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
)

type multipartUpload struct {
	id, bucket, key string
	initiated       time.Time
	headers         *contentHeaders
	meta            objectMeta
	tags            map[string]string
	parts           map[int]*uploadPart
}

type uploadPart struct {
	body     *s3Body
	etag     string
	modified time.Time
}

func errNoSuchUpload(id string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchUpload",
		Message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed: " + id}
}

func (s *s3Service) handleCreateMultipartUpload(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	discard(r)
	if e := checkKey(t.key); e != nil {
		return e
	}
	tags, e := parseTagging(r.Header.Get("x-amz-tagging"))
	if e != nil {
		return e
	}
	s.mu.Lock()
	if _, e := s.bucketLocked(t.bucket, c.Now); e != nil {
		s.mu.Unlock()
		return e
	}
	u := &multipartUpload{id: s.ids.next(), bucket: t.bucket, key: t.key, initiated: c.Now,
		headers: contentHeadersFrom(r.Header), meta: metaFrom(r.Header), tags: tags, parts: map[int]*uploadPart{}}
	s.uploads[u.id] = u
	s.mu.Unlock()
	setIf(w.Header(), "x-amz-checksum-algorithm", r.Header.Get("x-amz-checksum-algorithm"))
	var out bytes.Buffer
	out.WriteString(`<InitiateMultipartUploadResult xmlns="` + s3XMLNS + `"><Bucket>`)
	xmlText(&out, t.bucket)
	out.WriteString("</Bucket><Key>")
	xmlText(&out, t.key)
	out.WriteString("</Key><UploadId>" + u.id + "</UploadId></InitiateMultipartUploadResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

// uploadFor finds the upload a part request names.
func (s *s3Service) uploadLocked(r *http.Request, t s3Target) (*multipartUpload, *apiError) {
	id := r.URL.Query().Get("uploadId")
	u, ok := s.uploads[id]
	if !ok || u.bucket != t.bucket || u.key != t.key {
		if _, ok := s.buckets[t.bucket]; !ok {
			return nil, errNoSuchBucket(t.bucket)
		}
		return nil, errNoSuchUpload(id)
	}
	return u, nil
}

func partNumber(r *http.Request) (int, *apiError) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

func (s *s3Service) handleUploadPart(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	n, e := partNumber(r)
	if e != nil {
		return e
	}
	body, sum, e := readS3Body(r)
	if e != nil {
		return e
	}
	p := &uploadPart{body: bytesBody(body), etag: md5ETag(body), modified: c.Now}
	s.mu.Lock()
	u, e := s.uploadLocked(r, t)
	if e == nil {
		u.parts[n] = p
	}
	s.mu.Unlock()
	if e != nil {
		return e
	}
	h := w.Header()
	h.Set("ETag", p.etag)
	if sum != nil {
		h.Set(checksumHeader(sum.algorithm), sum.value)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *s3Service) handleUploadPartCopy(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	discard(r)
	n, e := partNumber(r)
	if e != nil {
		return e
	}
	cs, e := parseCopySource(r.Header.Get("x-amz-copy-source"))
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.uploadLocked(r, t)
	if e != nil {
		return e
	}
	src, e := s.sourceVersionLocked(cs, c.Now)
	if e != nil {
		return e
	}
	if e := checkCopyPreconditions(r.Header, src); e != nil {
		return e
	}
	start, end := int64(0), src.size
	if rg := r.Header.Get("x-amz-copy-source-range"); rg != "" {
		a, b, ok := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !strings.HasPrefix(rg, "bytes=") || !ok || err1 != nil || err2 != nil || first < 0 || last < first || last >= src.size {
			return errInvalidArgument("Range specified is not valid for source object of size: " + strconv.FormatInt(src.size, 10))
		}
		start, end = first, last+1
	}
	if end-start > maxPartSize {
		return &apiError{Status: 400, Code: "EntityTooLarge", Message: "Your proposed upload exceeds the maximum allowed size"}
	}
	part := src.body.slice(start, end)
	p := &uploadPart{body: part, etag: bodyETag(part), modified: c.Now}
	u.parts[n] = p
	if src.id != "null" || cs.versionID != "" {
		w.Header().Set("x-amz-copy-source-version-id", src.id)
	}
	var out bytes.Buffer
	out.WriteString(`<CopyPartResult xmlns="` + s3XMLNS + `"><ETag>`)
	xmlText(&out, p.etag)
	out.WriteString("</ETag><LastModified>" + s3Time(p.modified) + "</LastModified></CopyPartResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

func (s *s3Service) handleCompleteMultipartUpload(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	body, _, e := readS3Body(r)
	if e != nil {
		return e
	}
	var req struct {
		Parts []struct {
			PartNumber int    `xml:"PartNumber"`
			ETag       string `xml:"ETag"`
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		return errMalformedXML()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.uploadLocked(r, t)
	if e != nil {
		return e
	}
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return e
	}
	var (
		bodies []*s3Body
		sums   []byte
		sizes  []int64
	)
	for i, rp := range req.Parts {
		if i > 0 && rp.PartNumber <= req.Parts[i-1].PartNumber {
			return &apiError{Status: 400, Code: "InvalidPartOrder", Message: "The list of parts was not in ascending order. Parts must be ordered by part number."}
		}
	}
	for i, rp := range req.Parts {
		p, ok := u.parts[rp.PartNumber]
		if !ok || normETag(rp.ETag) != normETag(p.etag) {
			return &apiError{Status: 400, Code: "InvalidPart", Message: "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
		}
		if i < len(req.Parts)-1 && p.body.len() < minPartSize {
			return &apiError{Status: 400, Code: "EntityTooSmall", Message: "Your proposed upload is smaller than the minimum allowed object size."}
		}
		bodies = append(bodies, p.body)
		sizes = append(sizes, p.body.len())
		raw, _ := hex.DecodeString(normETag(p.etag))
		sums = append(sums, raw...)
	}
	if e := checkWritePreconditions(r.Header, b.latest(t.key), t.key); e != nil {
		return e
	}
	sum := md5.Sum(sums)
	whole := concatBodies(bodies)
	v := &s3Version{modified: c.Now, size: whole.len(), body: whole,
		etag:    `"` + hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(len(req.Parts)) + `"`,
		headers: u.headers, meta: u.meta, tags: u.tags, partSizes: sizes}
	delete(s.uploads, u.id)
	s.putLocked(b, t.key, v, c.Now)
	if b.versioning != "" {
		w.Header().Set("x-amz-version-id", v.id)
	}
	var out bytes.Buffer
	out.WriteString(`<CompleteMultipartUploadResult xmlns="` + s3XMLNS + `"><Location>/`)
	xmlText(&out, t.bucket+"/"+t.key)
	out.WriteString("</Location><Bucket>")
	xmlText(&out, t.bucket)
	out.WriteString("</Bucket><Key>")
	xmlText(&out, t.key)
	out.WriteString("</Key><ETag>")
	xmlText(&out, v.etag)
	out.WriteString("</ETag></CompleteMultipartUploadResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

func (s *s3Service) handleAbortMultipartUpload(w http.ResponseWriter, r *http.Request, t s3Target) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.uploadLocked(r, t)
	if e != nil {
		return e
	}
	delete(s.uploads, u.id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *s3Service) handleListParts(w http.ResponseWriter, r *http.Request, t s3Target) *apiError {
	q := r.URL.Query()
	maxParts := 1000
	if mp := q.Get("max-parts"); mp != "" {
		n, err := strconv.Atoi(mp)
		if err != nil || n < 0 {
			return errInvalidArgument("max-parts must be a non-negative integer")
		}
		maxParts = min(n, 1000)
	}
	marker, _ := strconv.Atoi(q.Get("part-number-marker"))
	s.mu.Lock()
	u, e := s.uploadLocked(r, t)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	nums := make([]int, 0, len(u.parts))
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	truncated := len(nums) > maxParts
	if truncated {
		nums = nums[:maxParts]
	}
	var out bytes.Buffer
	out.WriteString(`<ListPartsResult xmlns="` + s3XMLNS + `"><Bucket>`)
	xmlText(&out, t.bucket)
	out.WriteString("</Bucket><Key>")
	xmlText(&out, t.key)
	out.WriteString("</Key><UploadId>" + u.id + "</UploadId><PartNumberMarker>" + strconv.Itoa(marker) + "</PartNumberMarker>")
	if truncated {
		out.WriteString("<NextPartNumberMarker>" + strconv.Itoa(nums[len(nums)-1]) + "</NextPartNumberMarker>")
	}
	out.WriteString("<MaxParts>" + strconv.Itoa(maxParts) + "</MaxParts><IsTruncated>" + strconv.FormatBool(truncated) + "</IsTruncated>")
	for _, n := range nums {
		p := u.parts[n]
		out.WriteString("<Part><PartNumber>" + strconv.Itoa(n) + "</PartNumber><LastModified>" + s3Time(p.modified) + "</LastModified><ETag>")
		xmlText(&out, p.etag)
		out.WriteString("</ETag><Size>" + strconv.FormatInt(p.body.len(), 10) + "</Size></Part>")
	}
	s.mu.Unlock()
	out.WriteString("<StorageClass>STANDARD</StorageClass></ListPartsResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

func (s *s3Service) handleListMultipartUploads(w http.ResponseWriter, t s3Target) *apiError {
	s.mu.Lock()
	if _, ok := s.buckets[t.bucket]; !ok {
		s.mu.Unlock()
		return errNoSuchBucket(t.bucket)
	}
	var ups []*multipartUpload
	for _, u := range s.uploads {
		if u.bucket == t.bucket {
			ups = append(ups, u)
		}
	}
	slices.SortFunc(ups, func(a, b *multipartUpload) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.initiated.Compare(b.initiated)
	})
	var out bytes.Buffer
	out.WriteString(`<ListMultipartUploadsResult xmlns="` + s3XMLNS + `"><Bucket>`)
	xmlText(&out, t.bucket)
	out.WriteString("</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>")
	for _, u := range ups {
		out.WriteString("<Upload><Key>")
		xmlText(&out, u.key)
		out.WriteString("</Key><UploadId>" + u.id + "</UploadId>" + ownerXML + "<StorageClass>STANDARD</StorageClass><Initiated>" + s3Time(u.initiated) + "</Initiated></Upload>")
	}
	s.mu.Unlock()
	out.WriteString("</ListMultipartUploadsResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}
