package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// credentialScope is what a SigV4 request says about itself.
type credentialScope struct {
	AccessKey, Date, Region, Service string
	SignedHeaders                    []string
	Signature                        string
	Presigned                        bool
	AmzDate                          string
	Expires                          time.Duration
}

// parseScope reads the SigV4 credential scope from the Authorization header
// or from the X-Amz-* query parameters of a presigned URL. ok is false for
// an unsigned request.
func parseScope(r *http.Request) (credentialScope, bool) {
	var sc credentialScope
	var cred string
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "AWS4-HMAC-SHA256 ") {
		for _, part := range strings.Split(strings.TrimPrefix(h, "AWS4-HMAC-SHA256 "), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				sc.SignedHeaders = strings.Split(v, ";")
			case "Signature":
				sc.Signature = v
			}
		}
		sc.AmzDate = r.Header.Get("X-Amz-Date")
	} else if q := r.URL.Query(); q.Get("X-Amz-Credential") != "" {
		cred = q.Get("X-Amz-Credential")
		sc.Presigned = true
		sc.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		sc.Signature = q.Get("X-Amz-Signature")
		sc.AmzDate = q.Get("X-Amz-Date")
		if secs, err := strconv.Atoi(q.Get("X-Amz-Expires")); err == nil {
			sc.Expires = time.Duration(secs) * time.Second
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return credentialScope{}, false
	}
	sc.AccessKey, sc.Date, sc.Region, sc.Service = parts[0], parts[1], parts[2], parts[3]
	return sc, true
}

// verify checks a request's SigV4 signature against the configured static
// credentials. It returns nil when the signature is good.
func (s *Server) verify(r *http.Request, sc credentialScope) *apiError {
	if sc.AccessKey == "" {
		return &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	if sc.AccessKey != s.opts.AccessKeyID {
		return &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	if sc.Presigned && sc.Expires > 0 {
		if t, err := time.Parse("20060102T150405Z", sc.AmzDate); err == nil && s.Now().After(t.Add(sc.Expires)) {
			return &apiError{http.StatusForbidden, "AccessDenied", "Request has expired"}
		}
	}
	payloadHash, err := payloadHash(r, sc)
	if err != nil {
		return &apiError{http.StatusBadRequest, "IncompleteBody", "could not read the request body"}
	}
	creq := canonicalRequest(r, sc, payloadHash)
	sum := sha256.Sum256([]byte(creq))
	scope := sc.Date + "/" + sc.Region + "/" + sc.Service + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + sc.AmzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := signingKey(s.opts.SecretAccessKey, sc.Date, sc.Region, sc.Service)
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(sc.Signature)) {
		return &apiError{http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return nil
}

// payloadHash is the hash the client signed: the X-Amz-Content-Sha256 header
// when present (including UNSIGNED-PAYLOAD and the aws-chunked streaming
// markers, whose chunks carry their own checksums), else the body's SHA-256.
func payloadHash(r *http.Request, sc credentialScope) (string, error) {
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		return h, nil
	}
	if sc.Presigned {
		return "UNSIGNED-PAYLOAD", nil
	}
	b, err := readBody(r)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func canonicalRequest(r *http.Request, sc credentialScope, payloadHash string) string {
	rawPath := r.RequestURI
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		rawPath = rawPath[:i]
	}
	if u, err := url.Parse(rawPath); err == nil && u.IsAbs() {
		rawPath = u.EscapedPath()
	}
	if rawPath == "" {
		rawPath = "/"
	}
	// S3 signs the path as sent; every other service escapes it once more.
	if sc.Service != "s3" {
		rawPath = awsEscape(rawPath, false)
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(rawPath)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, sc.Presigned))
	b.WriteByte('\n')
	for _, h := range sc.SignedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sc.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if r.ContentLength < 0 {
			return ""
		}
		return strconv.FormatInt(r.ContentLength, 10)
	case "transfer-encoding":
		return strings.Join(r.TransferEncoding, ",")
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalQuery(raw string, presigned bool) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{awsEscape(k, true), awsEscape(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// awsEscape percent-encodes everything but the unreserved characters (and
// '/' unless encodeSep), as SigV4 requires.
func awsEscape(s string, encodeSep bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSep {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}
