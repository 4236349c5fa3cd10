package sandbox

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
)

// parseTagging reads tags in the URL-query form of x-amz-tagging.
func parseTagging(s string) (map[string]string, *apiError) {
	if s == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	tags := map[string]string{}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, errInvalidArgument("duplicate tag key " + k)
		}
		tags[k] = vs[0]
	}
	return tags, validateTags(tags)
}

func validateTags(tags map[string]string) *apiError {
	if len(tags) > 10 {
		return &apiError{Status: 400, Code: "BadRequest", Message: "Object tags cannot be greater than 10"}
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 {
			return &apiError{Status: 400, Code: "InvalidTag", Message: "The TagKey you have provided is invalid"}
		}
		if len(v) > 256 {
			return &apiError{Status: 400, Code: "InvalidTag", Message: "The TagValue you have provided is invalid"}
		}
	}
	return nil
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  struct {
		Tags []tagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

// taggedVersionLocked finds the version a tagging request names.
func (s *s3Service) taggedVersionLocked(r *http.Request, c *call, t s3Target) (*s3Version, *apiError) {
	q := r.URL.Query()
	vid := q.Get("versionId")
	if _, ok := q["versionId"]; ok && !validVersionID(vid) {
		return nil, errInvalidVersionID()
	}
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		return nil, e
	}
	var v *s3Version
	if vid != "" {
		if v = b.findVersion(t.key, vid); v == nil {
			return nil, errNoSuchVersion(vid)
		}
	} else if v = b.latest(t.key); v == nil {
		return nil, errNoSuchKey(t.key)
	}
	if v.deleteMarker {
		return nil, &apiError{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource."}
	}
	return v, nil
}

func (s *s3Service) handlePutObjectTagging(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	tags, e := readTagging(r)
	if e != nil {
		return e
	}
	return s.setTags(w, r, c, t, tags, http.StatusOK)
}

// readTagging reads and checks a Tagging document, for objects and buckets.
func readTagging(r *http.Request) (map[string]string, *apiError) {
	body, _, e := readS3Body(r)
	if e != nil {
		return nil, e
	}
	var tx taggingXML
	if err := xml.Unmarshal(body, &tx); err != nil {
		return nil, errMalformedXML()
	}
	tags := map[string]string{}
	for _, tg := range tx.TagSet.Tags {
		if _, dup := tags[tg.Key]; dup {
			return nil, &apiError{Status: 400, Code: "InvalidTag", Message: "Cannot provide multiple Tags with the same key"}
		}
		tags[tg.Key] = tg.Value
	}
	if e := validateTags(tags); e != nil {
		return nil, e
	}
	return tags, nil
}

// writeTagging answers with a Tagging document, keys in order.
func writeTagging(w http.ResponseWriter, tags map[string]string) *apiError {
	tx := taggingXML{Xmlns: s3XMLNS}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tx.TagSet.Tags = []tagXML{}
	for _, k := range keys {
		tx.TagSet.Tags = append(tx.TagSet.Tags, tagXML{Key: k, Value: tags[k]})
	}
	return writeXML(w, &tx)
}

// setTags replaces the tags of the version a tagging request names and
// answers with status.
func (s *s3Service) setTags(w http.ResponseWriter, r *http.Request, c *call, t s3Target, tags map[string]string, status int) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, e := s.taggedVersionLocked(r, c, t)
	if e != nil {
		return e
	}
	v.tags = tags
	w.Header().Set("x-amz-version-id", v.id)
	w.WriteHeader(status)
	return nil
}

func (s *s3Service) handleGetObjectTagging(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	s.mu.Lock()
	v, e := s.taggedVersionLocked(r, c, t)
	var tags map[string]string
	var id string
	if e == nil {
		tags, id = v.tags, v.id
	}
	s.mu.Unlock()
	if e != nil {
		return e
	}
	w.Header().Set("x-amz-version-id", id)
	return writeTagging(w, tags)
}

func (s *s3Service) handleDeleteObjectTagging(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	return s.setTags(w, r, c, t, nil, http.StatusNoContent)
}
