package sandbox

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
)

func (s *s3Service) handleListBuckets(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	q := r.URL.Query()
	prefix, region := q.Get("prefix"), q.Get("bucket-region")
	s.mu.Lock()
	names := make([]string, 0, len(s.buckets))
	for n, b := range s.buckets {
		if strings.HasPrefix(n, prefix) && (region == "" || b.region == region) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out bytes.Buffer
	out.WriteString(`<ListAllMyBucketsResult xmlns="` + s3XMLNS + `"><Owner><ID>` + sandboxOwnerID + `</ID><DisplayName>sandbox</DisplayName></Owner><Buckets>`)
	for _, n := range names {
		b := s.buckets[n]
		out.WriteString("<Bucket><Name>")
		xmlText(&out, n)
		out.WriteString("</Name><CreationDate>" + s3Time(b.created) + "</CreationDate><BucketRegion>" + b.region + "</BucketRegion></Bucket>")
	}
	s.mu.Unlock()
	out.WriteString("</Buckets>")
	if prefix != "" {
		out.WriteString("<Prefix>")
		xmlText(&out, prefix)
		out.WriteString("</Prefix>")
	}
	out.WriteString("</ListAllMyBucketsResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

// sandboxOwnerID is the canonical user id of the sandbox account.
const sandboxOwnerID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"

func (s *s3Service) handleCreateBucket(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	body, _, e := readS3Body(r)
	if e != nil {
		return e
	}
	region := c.Region
	if len(bytes.TrimSpace(body)) > 0 {
		var cfg struct {
			LocationConstraint string `xml:"LocationConstraint"`
		}
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return errMalformedXML()
		}
		if cfg.LocationConstraint != "" {
			region = cfg.LocationConstraint
		}
	}
	if region == "" {
		region = s.cfg.PrimaryRegion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.createBucketLocked(t.bucket, region, false, c.Now); e != nil {
		return e
	}
	w.Header().Set("Location", "/"+t.bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *s3Service) handleHeadBucket(w http.ResponseWriter, c *call, t s3Target) *apiError {
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	s.mu.Unlock()
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	w.Header().Set("x-amz-bucket-region", b.region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *s3Service) handleDeleteBucket(w http.ResponseWriter, c *call, t s3Target) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return e
	}
	if !b.empty() {
		return &apiError{Status: 409, Code: "BucketNotEmpty", Message: "The bucket you tried to delete is not empty"}
	}
	delete(s.buckets, t.bucket)
	for id, u := range s.uploads {
		if u.bucket == t.bucket {
			delete(s.uploads, id)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *s3Service) handleGetBucketLocation(w http.ResponseWriter, t s3Target) *apiError {
	region, ok := s.bucketRegion(t.bucket)
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	if region == "us-east-1" {
		region = ""
	}
	var out bytes.Buffer
	out.WriteString(`<LocationConstraint xmlns="` + s3XMLNS + `">`)
	xmlText(&out, region)
	out.WriteString("</LocationConstraint>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

// bucketRegion reports the region a bucket lives in.
func (s *s3Service) bucketRegion(bucket string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return "", false
	}
	return b.region, true
}

func (s *s3Service) handlePutBucketVersioning(w http.ResponseWriter, r *http.Request, t s3Target) *apiError {
	body, _, e := readS3Body(r)
	if e != nil {
		return e
	}
	var cfg struct {
		Status    string `xml:"Status"`
		MfaDelete string `xml:"MfaDelete"`
	}
	if err := xml.Unmarshal(body, &cfg); err != nil || (cfg.Status != "Enabled" && cfg.Status != "Suspended") {
		return errMalformedXML()
	}
	if cfg.MfaDelete == "Enabled" {
		return errNotImplemented("MFA delete")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[t.bucket]
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	if cfg.Status == "Suspended" && b.replication != nil {
		return &apiError{Status: 409, Code: "InvalidBucketState",
			Message: "Versioning cannot be suspended on a bucket with a replication configuration"}
	}
	b.versioning = cfg.Status
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *s3Service) handleGetBucketVersioning(w http.ResponseWriter, t s3Target) *apiError {
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	var status string
	if ok {
		status = b.versioning
	}
	s.mu.Unlock()
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	out := `<VersioningConfiguration xmlns="` + s3XMLNS + `">`
	if status != "" {
		out += "<Status>" + status + "</Status>"
	}
	out += "</VersioningConfiguration>"
	writeXMLBytes(w, []byte(out))
	return nil
}

func (s *s3Service) handlePutBucketTagging(w http.ResponseWriter, r *http.Request, t s3Target) *apiError {
	tags, e := readTagging(r)
	if e != nil {
		return e
	}
	return s.setBucketTags(w, t, tags)
}

func (s *s3Service) handleDeleteBucketTagging(w http.ResponseWriter, t s3Target) *apiError {
	return s.setBucketTags(w, t, nil)
}

func (s *s3Service) setBucketTags(w http.ResponseWriter, t s3Target, tags map[string]string) *apiError {
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	if ok {
		b.tags = tags
	}
	s.mu.Unlock()
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleGetBucketTagging answers NoSuchTagSet for a bucket without tags, as
// S3 does.
func (s *s3Service) handleGetBucketTagging(w http.ResponseWriter, t s3Target) *apiError {
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	var tags map[string]string
	if ok {
		tags = b.tags
	}
	s.mu.Unlock()
	if !ok {
		return errNoSuchBucket(t.bucket)
	}
	if len(tags) == 0 {
		return &apiError{Status: http.StatusNotFound, Code: "NoSuchTagSet", Message: "The TagSet does not exist"}
	}
	return writeTagging(w, tags)
}
