package sandbox

import (
	"bytes"
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// s3Config is what the S3 service takes from the server options.
type s3Config struct {
	Seed           int64
	ReplicationLag time.Duration
	PrimaryRegion  string
	DRRegion       string
}

// s3Service is S3 over REST-XML: buckets, versions, multipart uploads,
// tags and cross-region replication, all in memory behind one mutex.
//
// As on AWS, a signed request for a bucket in another region is refused
// (AuthorizationHeaderMalformed, naming the bucket's region), so clients
// must address the DR bucket in the DR region. Departures from AWS: a
// single PUT holds at most 1 GiB (content lives in memory; larger objects
// are generated, see putSyntheticObjectAt), chunk signatures of signed
// aws-chunked bodies are parsed but not verified, and bucket settings other
// than versioning, replication and tags answer NotImplemented.
type s3Service struct {
	mu      sync.Mutex
	cfg     s3Config
	ids     idSource
	buckets map[string]*s3Bucket
	uploads map[string]*multipartUpload
	repl    replicationQueue
}

func newS3ServiceConfig(cfg s3Config) *s3Service {
	if cfg.PrimaryRegion == "" {
		cfg.PrimaryRegion = "us-east-1"
	}
	if cfg.DRRegion == "" {
		cfg.DRRegion = "us-west-2"
	}
	return &s3Service{
		cfg:     cfg,
		ids:     idSource{seed: uint64(cfg.Seed)},
		buckets: map[string]*s3Bucket{},
		uploads: map[string]*multipartUpload{},
		repl:    newReplicationQueue(),
	}
}

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Target is the bucket and key a request names, from a virtual-hosted
// Host header or the path.
type s3Target struct {
	bucket string
	key    string
}

// s3Locate finds the bucket and key. Virtual-hosted style is recognised on
// loopback names only (bucket.localhost, bucket.s3.localhost), since those
// are the hosts that resolve without DNS.
func s3Locate(r *http.Request) s3Target {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	path := r.URL.Path
	if r.URL.RawPath != "" {
		if p, err := url.PathUnescape(r.URL.RawPath); err == nil {
			path = p
		}
	}
	if b, ok := strings.CutSuffix(host, ".localhost"); ok {
		b = strings.TrimSuffix(b, ".s3")
		if b != "" && b != "s3" {
			return s3Target{bucket: b, key: strings.TrimPrefix(path, "/")}
		}
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	return s3Target{bucket: bucket, key: key}
}

// s3Operation names the S3 API operation a request asks for.
func s3Operation(r *http.Request, t s3Target) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	copySrc := r.Header.Get("x-amz-copy-source") != ""
	if t.bucket == "" {
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return "Unknown"
	}
	if t.key == "" {
		switch r.Method {
		case http.MethodPut:
			switch {
			case has("versioning"):
				return "PutBucketVersioning"
			case has("replication"):
				return "PutBucketReplication"
			case has("tagging"):
				return "PutBucketTagging"
			case len(q) == 0 || (len(q) == 1 && has("x-id")):
				return "CreateBucket"
			}
		case http.MethodGet:
			switch {
			case has("versioning"):
				return "GetBucketVersioning"
			case has("location"):
				return "GetBucketLocation"
			case has("replication"):
				return "GetBucketReplication"
			case has("versions"):
				return "ListObjectVersions"
			case has("uploads"):
				return "ListMultipartUploads"
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			case has("tagging"):
				return "GetBucketTagging"
			}
			for k := range q {
				if isBucketSubresource(k) {
					return "GetBucket" + k
				}
			}
			return "ListObjects"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodDelete:
			switch {
			case has("replication"):
				return "DeleteBucketReplication"
			case has("tagging"):
				return "DeleteBucketTagging"
			case len(q) == 0 || (len(q) == 1 && has("x-id")):
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects"
			}
		}
		return "Unknown"
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("uploadId") && copySrc:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case has("tagging"):
			return "PutObjectTagging"
		case copySrc:
			return "CopyObject"
		case has("acl") || has("retention") || has("legal-hold"):
			return "Unknown"
		}
		return "PutObject"
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		case has("acl") || has("attributes") || has("retention") || has("legal-hold") || has("torrent"):
			return "Unknown"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		}
	}
	return "Unknown"
}

// isBucketSubresource reports bucket configurations the sandbox does not
// keep; asking for them is answered NotImplemented rather than mistaken for
// a listing.
func isBucketSubresource(k string) bool {
	switch k {
	case "acl", "policy", "lifecycle", "encryption", "cors", "website", "logging",
		"notification", "object-lock", "ownershipControls", "publicAccessBlock",
		"accelerate", "requestPayment", "analytics", "inventory", "metrics",
		"intelligent-tiering", "policyStatus":
		return true
	}
	return false
}

func (s *s3Service) identify(r *http.Request) (string, bool, error) {
	op := s3Operation(r, s3Locate(r))
	mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
	return op, mutating, nil
}

func (s *s3Service) serve(w http.ResponseWriter, r *http.Request, c *call) {
	w.Header().Set("x-amz-request-id", c.RequestID)
	if err := s.dispatch(w, r, c, s3Locate(r), c.Operation); err != nil {
		s.writeError(w, r, c, err)
	}
}

func (s *s3Service) dispatch(w http.ResponseWriter, r *http.Request, c *call, t s3Target, op string) *apiError {
	signed := r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Credential") != ""
	if signed && t.bucket != "" && op != "CreateBucket" && op != "GetBucketLocation" {
		if e := s.checkRegion(w, t.bucket, c.Region); e != nil {
			return e
		}
	}
	switch op {
	case "ListBuckets":
		return s.handleListBuckets(w, r, c)
	case "CreateBucket":
		return s.handleCreateBucket(w, r, c, t)
	case "HeadBucket":
		return s.handleHeadBucket(w, c, t)
	case "DeleteBucket":
		return s.handleDeleteBucket(w, c, t)
	case "GetBucketLocation":
		return s.handleGetBucketLocation(w, t)
	case "PutBucketVersioning":
		return s.handlePutBucketVersioning(w, r, t)
	case "GetBucketVersioning":
		return s.handleGetBucketVersioning(w, t)
	case "PutBucketReplication":
		return s.handlePutBucketReplication(w, r, t)
	case "GetBucketReplication":
		return s.handleGetBucketReplication(w, t)
	case "DeleteBucketReplication":
		return s.handleDeleteBucketReplication(w, t)
	case "PutBucketTagging":
		return s.handlePutBucketTagging(w, r, t)
	case "GetBucketTagging":
		return s.handleGetBucketTagging(w, t)
	case "DeleteBucketTagging":
		return s.handleDeleteBucketTagging(w, t)
	case "ListObjectVersions":
		return s.handleListObjectVersions(w, r, c, t)
	case "ListObjectsV2":
		return s.handleListObjectsV2(w, r, c, t)
	case "ListObjects":
		return s.handleListObjectsV1(w, r, c, t)
	case "PutObject":
		return s.handlePutObject(w, r, c, t)
	case "GetObject":
		return s.handleGetObject(w, r, c, t, false)
	case "HeadObject":
		return s.handleGetObject(w, r, c, t, true)
	case "DeleteObject":
		return s.handleDeleteObject(w, r, c, t)
	case "DeleteObjects":
		return s.handleDeleteObjects(w, r, c, t)
	case "CopyObject":
		return s.handleCopyObject(w, r, c, t)
	case "PutObjectTagging":
		return s.handlePutObjectTagging(w, r, c, t)
	case "GetObjectTagging":
		return s.handleGetObjectTagging(w, r, c, t)
	case "DeleteObjectTagging":
		return s.handleDeleteObjectTagging(w, r, c, t)
	case "CreateMultipartUpload":
		return s.handleCreateMultipartUpload(w, r, c, t)
	case "UploadPart":
		return s.handleUploadPart(w, r, c, t)
	case "UploadPartCopy":
		return s.handleUploadPartCopy(w, r, c, t)
	case "CompleteMultipartUpload":
		return s.handleCompleteMultipartUpload(w, r, c, t)
	case "AbortMultipartUpload":
		return s.handleAbortMultipartUpload(w, r, t)
	case "ListParts":
		return s.handleListParts(w, r, t)
	case "ListMultipartUploads":
		return s.handleListMultipartUploads(w, t)
	}
	return errNotImplemented(op)
}

// checkRegion answers as AWS does when a request for a bucket is signed for
// another region: the caller must address the bucket's own region.
func (s *s3Service) checkRegion(w http.ResponseWriter, bucket, region string) *apiError {
	if region == "" {
		return nil
	}
	s.mu.Lock()
	b, ok := s.buckets[bucket]
	s.mu.Unlock()
	if !ok || b.region == region {
		return nil
	}
	w.Header().Set("x-amz-bucket-region", b.region)
	return &apiError{Status: http.StatusBadRequest, Code: "AuthorizationHeaderMalformed",
		Message: "The authorization header is malformed; the region '" + region + "' is wrong; expecting '" + b.region + "'"}
}

func (s *s3Service) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	if e.Code == "InvalidClientTokenId" {
		// S3's name for an access key it does not know.
		e = &apiError{Status: e.Status, Code: "InvalidAccessKeyId", Message: e.Message}
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if c != nil {
		h.Set("x-amz-request-id", c.RequestID)
	}
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead || e.Status == http.StatusNotModified {
		return
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xmlText(&b, e.Code)
	b.WriteString("</Code><Message>")
	xmlText(&b, e.Message)
	b.WriteString("</Message>")
	if region := w.Header().Get("x-amz-bucket-region"); region != "" && e.Code == "AuthorizationHeaderMalformed" {
		// Clients that follow region redirects read the bucket's region here.
		b.WriteString("<Region>")
		xmlText(&b, region)
		b.WriteString("</Region>")
	}
	if c != nil {
		b.WriteString("<RequestId>")
		xmlText(&b, c.RequestID)
		b.WriteString("</RequestId>")
	}
	b.WriteString("<Resource>")
	xmlText(&b, r.URL.Path)
	b.WriteString("</Resource></Error>")
	_, _ = w.Write(b.Bytes())
}

// faultErrors are S3's: it throttles with SlowDown, 503.
func (s *s3Service) faultErrors() faultErrors {
	return faultErrors{
		Throttle: apiError{http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."},
		Internal: apiError{http.StatusInternalServerError, "InternalError", msgInternalS3},
		Outage:   apiError{http.StatusServiceUnavailable, "ServiceUnavailable", msgUnavailable},
	}
}

func errNotImplemented(op string) *apiError {
	return &apiError{Status: http.StatusNotImplemented, Code: "NotImplemented",
		Message: "A header or operation you provided implies functionality that is not implemented: " + op}
}

func errNoSuchBucket(b string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist: " + b}
}

func errNoSuchKey(k string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "NoSuchKey", Message: "The specified key does not exist: " + k}
}

func errNoSuchVersion(v string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "NoSuchVersion", Message: "The specified version does not exist: " + v}
}

func errInvalidArgument(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: msg}
}

func errInvalidRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: msg}
}

func errMalformedXML() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "MalformedXML",
		Message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

func errPrecondition() *apiError {
	return &apiError{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
		Message: "At least one of the pre-conditions you specified did not hold"}
}

// writeXML answers 200 with an XML document.
func writeXML(w http.ResponseWriter, v any) *apiError {
	out, err := xml.Marshal(v)
	if err != nil {
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalError", Message: "encode response: " + err.Error()}
	}
	writeXMLBytes(w, out)
	return nil
}

func writeXMLBytes(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

// xmlText writes s escaped for XML character data.
func xmlText(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s))
}

// s3Time formats a listing timestamp as S3 does: one-second precision.
func s3Time(t time.Time) string {
	return xmlTime(t.Truncate(time.Second))
}

func httpTime(t time.Time) string {
	return t.UTC().Format(http.TimeFormat)
}
