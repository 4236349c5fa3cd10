package sandbox

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listParams are the parameters the listing operations share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncoding       bool
}

func parseListParams(q url.Values) (listParams, *apiError) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: 1000}
	if mk := q.Get("max-keys"); mk != "" {
		n, err := strconv.Atoi(mk)
		if err != nil || n < 0 {
			return p, errInvalidArgument("Provided max-keys not an integer or within integer range")
		}
		p.maxKeys = min(n, 1000)
	}
	switch enc := q.Get("encoding-type"); enc {
	case "":
	case "url":
		p.urlEncoding = true
	default:
		return p, errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	return p, nil
}

// enc writes s as listing text, URL-encoded when the client asked for it.
func (p *listParams) enc(b *bytes.Buffer, s string) {
	if p.urlEncoding {
		s = strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
	}
	xmlText(b, s)
}

func (p *listParams) elem(b *bytes.Buffer, name, s string) {
	b.WriteString("<" + name + ">")
	p.enc(b, s)
	b.WriteString("</" + name + ">")
}

// commonPrefix is the rolled-up prefix of key under p, or "".
func (p *listParams) commonPrefix(key string) string {
	if p.delimiter == "" {
		return ""
	}
	rest := key[len(p.prefix):]
	if j := strings.Index(rest, p.delimiter); j >= 0 {
		return p.prefix + rest[:j+len(p.delimiter)]
	}
	return ""
}

// afterPrefix is the index of the first key past every key starting with
// cp; keys are UTF-8, so no key byte is 0xff.
func afterPrefix(keys []string, cp string) int {
	return keyFrom(keys, cp+"\xff")
}

const ownerXML = "<Owner><ID>" + sandboxOwnerID + "</ID><DisplayName>sandbox</DisplayName></Owner>"

func (s *s3Service) handleListObjectVersions(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	q := r.URL.Query()
	p, e := parseListParams(q)
	if e != nil {
		return e
	}
	keyMarker, vidMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		return errInvalidArgument("A version-id marker cannot be specified without a key marker.")
	}
	if vidMarker != "" && !validVersionID(vidMarker) {
		return errInvalidArgument("Invalid version id specified")
	}
	var out bytes.Buffer
	out.Grow(min(p.maxKeys, 1000)*400 + 1024)
	out.WriteString(`<ListVersionsResult xmlns="` + s3XMLNS + `"><Name>`)
	xmlText(&out, t.bucket)
	out.WriteString("</Name>")
	p.elem(&out, "Prefix", p.prefix)
	p.elem(&out, "KeyMarker", keyMarker)
	out.WriteString("<VersionIdMarker>")
	xmlText(&out, vidMarker)
	out.WriteString("</VersionIdMarker><MaxKeys>" + strconv.Itoa(p.maxKeys) + "</MaxKeys>")
	if p.delimiter != "" {
		p.elem(&out, "Delimiter", p.delimiter)
	}
	if p.urlEncoding {
		out.WriteString("<EncodingType>url</EncodingType>")
	}

	s.mu.Lock()
	b, e := s.bucketLocked(t.bucket, c.Now)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	keys := b.keys()
	from := p.prefix
	if keyMarker > from {
		from = keyMarker
	}
	i := keyFrom(keys, from)
	firstVersion := 0
	if i < len(keys) && keys[i] == keyMarker {
		if vidMarker == "" {
			i++
		} else {
			vs := b.objects[keyMarker].versions
			firstVersion = len(vs)
			for j, v := range vs {
				if v.id == vidMarker {
					firstVersion = j + 1
					break
				}
			}
		}
	}
	var (
		count            int
		truncated        bool
		lastKey, lastVid string
		prefixes         []string
	)
	var entries bytes.Buffer
	// An entry with its owner is about 400 bytes of XML.
	entries.Grow(min(p.maxKeys, 1000) * 400)
	size := make([]byte, 0, 20)
outer:
	for ; i < len(keys) && p.maxKeys > 0; i++ {
		k := keys[i]
		if !strings.HasPrefix(k, p.prefix) {
			break
		}
		if cp := p.commonPrefix(k); cp != "" {
			next := afterPrefix(keys, cp) - 1
			if cp <= keyMarker {
				i = next
				continue
			}
			if count == p.maxKeys {
				truncated = true
				break
			}
			prefixes = append(prefixes, cp)
			count++
			lastKey, lastVid = cp, ""
			i = next
			firstVersion = 0
			continue
		}
		vs := b.objects[k].versions
		for j := firstVersion; j < len(vs); j++ {
			if count == p.maxKeys {
				truncated = true
				break outer
			}
			v := vs[j]
			if v.deleteMarker {
				entries.WriteString("<DeleteMarker>")
			} else {
				entries.WriteString("<Version>")
			}
			p.elem(&entries, "Key", k)
			entries.WriteString("<VersionId>" + v.id + "</VersionId><IsLatest>")
			if j == 0 {
				entries.WriteString("true")
			} else {
				entries.WriteString("false")
			}
			entries.WriteString("</IsLatest><LastModified>" + s3Time(v.modified) + "</LastModified>")
			if v.deleteMarker {
				entries.WriteString(ownerXML + "</DeleteMarker>")
			} else {
				entries.WriteString("<ETag>&quot;" + normETag(v.etag) + "&quot;</ETag><Size>")
				entries.Write(strconv.AppendInt(size[:0], v.size, 10))
				entries.WriteString("</Size>" + ownerXML + "<StorageClass>STANDARD</StorageClass></Version>")
			}
			count++
			lastKey, lastVid = k, v.id
		}
		firstVersion = 0
	}
	s.mu.Unlock()

	if truncated {
		p.elem(&out, "NextKeyMarker", lastKey)
		if lastVid != "" {
			out.WriteString("<NextVersionIdMarker>" + lastVid + "</NextVersionIdMarker>")
		}
	}
	out.WriteString("<IsTruncated>" + strconv.FormatBool(truncated) + "</IsTruncated>")
	out.Write(entries.Bytes())
	for _, cp := range prefixes {
		out.WriteString("<CommonPrefixes>")
		p.elem(&out, "Prefix", cp)
		out.WriteString("</CommonPrefixes>")
	}
	out.WriteString("</ListVersionsResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

// currentListing is a page of a bucket's current objects.
type currentListing struct {
	contents  []listedObject
	prefixes  []string
	truncated bool
	last      string
}

type listedObject struct {
	key      string
	modified string
	etag     string
	size     int64
}

// listCurrentLocked lists the keys after `after` whose current entry is an
// object (not a delete marker), rolling up common prefixes.
func listCurrentLocked(b *s3Bucket, p *listParams, after string) currentListing {
	var l currentListing
	keys := b.keys()
	from := p.prefix
	if after >= from {
		from = after + "\x00"
	}
	count := 0
	for i := keyFrom(keys, from); i < len(keys) && p.maxKeys > 0; i++ {
		k := keys[i]
		if !strings.HasPrefix(k, p.prefix) {
			break
		}
		v := b.objects[k].versions[0]
		cp := p.commonPrefix(k)
		if cp == "" && v.deleteMarker {
			continue
		}
		if cp != "" {
			next := afterPrefix(keys, cp) - 1
			if cp <= after || !hasCurrentObject(b, keys[i:next+1]) {
				i = next
				continue
			}
			if count == p.maxKeys {
				l.truncated = true
				break
			}
			l.prefixes = append(l.prefixes, cp)
			l.last = cp
			count++
			i = next
			continue
		}
		if count == p.maxKeys {
			l.truncated = true
			break
		}
		l.contents = append(l.contents, listedObject{key: k, modified: s3Time(v.modified), etag: v.etag, size: v.size})
		l.last = k
		count++
	}
	return l
}

func hasCurrentObject(b *s3Bucket, keys []string) bool {
	for _, k := range keys {
		if !b.objects[k].versions[0].deleteMarker {
			return true
		}
	}
	return false
}

func (l *currentListing) writeEntries(out *bytes.Buffer, p *listParams) {
	size := make([]byte, 0, 20)
	for _, o := range l.contents {
		out.WriteString("<Contents>")
		p.elem(out, "Key", o.key)
		out.WriteString("<LastModified>" + o.modified + "</LastModified><ETag>&quot;" + normETag(o.etag) + "&quot;</ETag><Size>")
		out.Write(strconv.AppendInt(size[:0], o.size, 10))
		out.WriteString("</Size><StorageClass>STANDARD</StorageClass></Contents>")
	}
	for _, cp := range l.prefixes {
		out.WriteString("<CommonPrefixes>")
		p.elem(out, "Prefix", cp)
		out.WriteString("</CommonPrefixes>")
	}
}

// listCurrent lists a bucket's current objects after key after.
func (s *s3Service) listCurrent(c *call, bucket string, p *listParams, after string) (currentListing, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bucket, c.Now)
	if e != nil {
		return currentListing{}, e
	}
	return listCurrentLocked(b, p, after), nil
}

// writeListHead opens a ListBucketResult (both versions of ListObjects)
// with the bucket's name and the prefix listed.
func writeListHead(out *bytes.Buffer, bucket string, p *listParams) {
	out.WriteString(`<ListBucketResult xmlns="` + s3XMLNS + `"><Name>`)
	xmlText(out, bucket)
	out.WriteString("</Name>")
	p.elem(out, "Prefix", p.prefix)
}

func (s *s3Service) handleListObjectsV2(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	q := r.URL.Query()
	p, e := parseListParams(q)
	if e != nil {
		return e
	}
	token, startAfter := q.Get("continuation-token"), q.Get("start-after")
	after := startAfter
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errInvalidArgument("The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	l, e := s.listCurrent(c, t.bucket, &p, after)
	if e != nil {
		return e
	}

	var out bytes.Buffer
	writeListHead(&out, t.bucket, &p)
	if p.delimiter != "" {
		p.elem(&out, "Delimiter", p.delimiter)
	}
	out.WriteString("<MaxKeys>" + strconv.Itoa(p.maxKeys) + "</MaxKeys><KeyCount>" +
		strconv.Itoa(len(l.contents)+len(l.prefixes)) + "</KeyCount><IsTruncated>" + strconv.FormatBool(l.truncated) + "</IsTruncated>")
	if p.urlEncoding {
		out.WriteString("<EncodingType>url</EncodingType>")
	}
	if token != "" {
		out.WriteString("<ContinuationToken>" + token + "</ContinuationToken>")
	}
	if startAfter != "" {
		p.elem(&out, "StartAfter", startAfter)
	}
	if l.truncated {
		out.WriteString("<NextContinuationToken>" + base64.RawURLEncoding.EncodeToString([]byte(l.last)) + "</NextContinuationToken>")
	}
	l.writeEntries(&out, &p)
	out.WriteString("</ListBucketResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}

func (s *s3Service) handleListObjectsV1(w http.ResponseWriter, r *http.Request, c *call, t s3Target) *apiError {
	q := r.URL.Query()
	p, e := parseListParams(q)
	if e != nil {
		return e
	}
	marker := q.Get("marker")
	l, e := s.listCurrent(c, t.bucket, &p, marker)
	if e != nil {
		return e
	}

	var out bytes.Buffer
	writeListHead(&out, t.bucket, &p)
	p.elem(&out, "Marker", marker)
	if p.delimiter != "" {
		p.elem(&out, "Delimiter", p.delimiter)
	}
	out.WriteString("<MaxKeys>" + strconv.Itoa(p.maxKeys) + "</MaxKeys><IsTruncated>" + strconv.FormatBool(l.truncated) + "</IsTruncated>")
	if p.urlEncoding {
		out.WriteString("<EncodingType>url</EncodingType>")
	}
	if l.truncated {
		p.elem(&out, "NextMarker", l.last)
	}
	l.writeEntries(&out, &p)
	out.WriteString("</ListBucketResult>")
	writeXMLBytes(w, out.Bytes())
	return nil
}
