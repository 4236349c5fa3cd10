package awsx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drconsole/drconsole/internal/pitr"
)

// versionsPage is what parseVersions reads from a ListVersionsResult.
type versionsPage struct {
	entries             []pitr.Entry
	truncated           bool
	nextKeyMarker       string
	nextVersionIDMarker string
}

// parseVersions reads a ListVersionsResult document, keeping its
// <Version> and <DeleteMarker> entries in document order and decoding
// keys when the response says they are URL-encoded.
//
// It is a small scanner for this one document shape rather than
// encoding/xml, which allocates for every token and made reading a page
// cost more than the request itself; the tests check it against
// encoding/xml on generated and fuzzed documents.
func parseVersions(doc []byte) (versionsPage, error) {
	var page versionsPage
	s := &xmlScanner{doc: doc}
	if err := s.prolog(); err != nil {
		return page, err
	}
	root, self, err := s.startTag()
	if err != nil {
		return page, err
	}
	if root != "ListVersionsResult" {
		return page, fmt.Errorf("read listing XML: the answer is <%s>, not <ListVersionsResult>", root)
	}
	var urlEncoded bool
	var nextKey string
	if !self {
		for {
			name, self, end, err := s.child(root)
			if err != nil {
				return page, err
			}
			if end {
				break
			}
			switch name {
			case "Version", "DeleteMarker":
				if self {
					return page, fmt.Errorf("read listing XML: empty <%s>", name)
				}
				e, err := s.entry(name)
				if err != nil {
					return page, err
				}
				page.entries = append(page.entries, e)
			case "IsTruncated", "NextKeyMarker", "NextVersionIdMarker", "EncodingType":
				v, err := s.text(name, self)
				if err != nil {
					return page, err
				}
				switch name {
				case "IsTruncated":
					page.truncated = v == "true"
				case "NextKeyMarker":
					nextKey = v
				case "NextVersionIdMarker":
					page.nextVersionIDMarker = v
				case "EncodingType":
					urlEncoded = v == "url"
				}
			default:
				if err := s.skip(name, self, 1); err != nil {
					return page, err
				}
			}
		}
	}
	if err := s.epilog(); err != nil {
		return page, err
	}
	page.nextKeyMarker = nextKey
	if urlEncoded {
		if page.nextKeyMarker, err = decodeKey(nextKey); err != nil {
			return page, err
		}
		for i := range page.entries {
			if page.entries[i].Key, err = decodeKey(page.entries[i].Key); err != nil {
				return page, err
			}
		}
	}
	return page, nil
}

// entry reads the children of a <Version> or <DeleteMarker>.
func (s *xmlScanner) entry(kind string) (pitr.Entry, error) {
	e := pitr.Entry{IsDeleteMarker: kind == "DeleteMarker"}
	var lastModified, size string
	for {
		name, self, end, err := s.child(kind)
		if err != nil {
			return e, err
		}
		if end {
			break
		}
		var dst *string
		var v string
		switch name {
		case "Key":
			dst = &e.Key
		case "VersionId":
			dst = &e.VersionID
		case "ETag":
			dst = &e.ETag
		case "LastModified":
			dst = &lastModified
		case "Size":
			dst = &size
		case "IsLatest":
			dst = &v
		case "StorageClass":
			dst = &e.StorageClass
		default:
			if err := s.skip(name, self, 2); err != nil {
				return e, err
			}
			continue
		}
		if *dst, err = s.text(name, self); err != nil {
			return e, err
		}
		if name == "IsLatest" && strings.TrimSpace(v) != "" {
			if e.IsLatest, err = strconv.ParseBool(strings.TrimSpace(v)); err != nil {
				return e, fmt.Errorf("listing entry: IsLatest %q: %w", v, err)
			}
		}
	}
	if e.Key == "" {
		return e, errors.New("listing entry without a key")
	}
	lm, err := time.Parse(time.RFC3339Nano, lastModified)
	if err != nil {
		return e, fmt.Errorf("listing entry %q: LastModified %q: %w", e.Key, lastModified, err)
	}
	e.LastModified = lm.UTC()
	if e.IsDeleteMarker {
		e.ETag, e.StorageClass = "", ""
		return e, nil
	}
	if size != "" {
		if e.Size, err = strconv.ParseInt(strings.TrimSpace(size), 10, 64); err != nil {
			return e, fmt.Errorf("listing entry %q: Size %q: %w", e.Key, size, err)
		}
	}
	return e, nil
}

// maxDepth bounds element nesting in a listing document.
const maxDepth = 32

// xmlScanner walks the elements of a document.
type xmlScanner struct {
	doc []byte
	pos int
}

func (s *xmlScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("read listing XML at byte %d: %s", s.pos, fmt.Sprintf(format, args...))
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (s *xmlScanner) skipSpace() {
	for s.pos < len(s.doc) && isSpace(s.doc[s.pos]) {
		s.pos++
	}
}

// skipTo moves past the next occurrence of end.
func (s *xmlScanner) skipTo(end string) error {
	i := bytes.Index(s.doc[s.pos:], []byte(end))
	if i < 0 {
		return s.errorf("unterminated %q", end)
	}
	s.pos += i + len(end)
	return nil
}

// misc skips whitespace, comments and processing instructions.
func (s *xmlScanner) misc() error {
	for {
		s.skipSpace()
		if skipped, err := s.skipMarkup(false); err != nil || !skipped {
			return err
		}
	}
}

// skipMarkup passes over a comment or a processing instruction at the
// scanner's position, and a CDATA section too when cdata is set (inside an
// element). skipped is false when there is none.
func (s *xmlScanner) skipMarkup(cdata bool) (skipped bool, err error) {
	rest := s.doc[s.pos:]
	switch {
	case cdata && bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return true, s.skipTo("]]>")
	case bytes.HasPrefix(rest, []byte("<!--")):
		return true, s.skipTo("-->")
	case bytes.HasPrefix(rest, []byte("<?")):
		return true, s.skipTo("?>")
	}
	return false, nil
}

func (s *xmlScanner) prolog() error {
	if err := s.misc(); err != nil {
		return err
	}
	if s.pos >= len(s.doc) {
		return s.errorf("no document element")
	}
	return nil
}

func (s *xmlScanner) epilog() error {
	if err := s.misc(); err != nil {
		return err
	}
	if s.pos != len(s.doc) {
		return s.errorf("content after the document element")
	}
	return nil
}

// localName strips a namespace prefix. The names a listing uses come
// back as constants, so reading a tag allocates nothing.
func localName(b []byte) string {
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		b = b[i+1:]
	}
	for _, n := range [...]string{"Version", "DeleteMarker", "Key", "VersionId", "IsLatest",
		"LastModified", "ETag", "Size", "Owner", "ID", "DisplayName", "StorageClass",
		"ChecksumAlgorithm", "ChecksumType", "RestoreStatus", "IsRestoreInProgress", "RestoreExpiryDate",
		"ListVersionsResult", "Name", "Prefix", "KeyMarker", "VersionIdMarker", "NextKeyMarker",
		"NextVersionIdMarker", "MaxKeys", "Delimiter", "EncodingType", "IsTruncated", "CommonPrefixes"} {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// startTag reads "<name attrs...>" or "<name/>".
func (s *xmlScanner) startTag() (name string, self bool, err error) {
	if s.pos >= len(s.doc) || s.doc[s.pos] != '<' {
		return "", false, s.errorf("want an element")
	}
	s.pos++
	start := s.pos
	for s.pos < len(s.doc) && !isSpace(s.doc[s.pos]) && s.doc[s.pos] != '>' && s.doc[s.pos] != '/' {
		s.pos++
	}
	if s.pos == start || s.pos >= len(s.doc) {
		return "", false, s.errorf("bad start tag")
	}
	name = localName(s.doc[start:s.pos])
	if c := s.doc[start]; c == '!' || c == '?' || c == '<' || c == '=' || c == '"' || c == '\'' {
		return "", false, s.errorf("bad start tag")
	}
	// Attributes: skipped, honouring quotes.
	for s.pos < len(s.doc) {
		switch c := s.doc[s.pos]; c {
		case '"', '\'':
			i := bytes.IndexByte(s.doc[s.pos+1:], c)
			if i < 0 {
				return "", false, s.errorf("unterminated attribute")
			}
			s.pos += i + 2
		case '<':
			return "", false, s.errorf("bad start tag")
		case '/':
			if s.pos+1 < len(s.doc) && s.doc[s.pos+1] == '>' {
				s.pos += 2
				return name, true, nil
			}
			return "", false, s.errorf("bad start tag")
		case '>':
			s.pos++
			return name, false, nil
		default:
			s.pos++
		}
	}
	return "", false, s.errorf("unterminated start tag")
}

// endTag reads "</name>" and checks the name.
func (s *xmlScanner) endTag(want string) error {
	if !bytes.HasPrefix(s.doc[s.pos:], []byte("</")) {
		return s.errorf("want </%s>", want)
	}
	s.pos += 2
	i := bytes.IndexByte(s.doc[s.pos:], '>')
	if i < 0 {
		return s.errorf("unterminated end tag")
	}
	name := localName(bytes.TrimRight(s.doc[s.pos:s.pos+i], " \t\r\n"))
	if name != want {
		return s.errorf("</%s> closes <%s>", name, want)
	}
	s.pos += i + 1
	return nil
}

// child moves to the next child element of parent: its name, or end true
// when parent's end tag was read instead. Text between children must be
// whitespace.
func (s *xmlScanner) child(parent string) (name string, self, end bool, err error) {
	if err := s.misc(); err != nil {
		return "", false, false, err
	}
	if s.pos >= len(s.doc) {
		return "", false, false, s.errorf("unterminated <%s>", parent)
	}
	if s.doc[s.pos] != '<' {
		return "", false, false, s.errorf("text in <%s>", parent)
	}
	if bytes.HasPrefix(s.doc[s.pos:], []byte("</")) {
		return "", false, true, s.endTag(parent)
	}
	name, self, err = s.startTag()
	return name, self, false, err
}

// text reads an element's character data up to its end tag, resolving
// entities and CDATA sections.
func (s *xmlScanner) text(name string, self bool) (string, error) {
	if self {
		return "", nil
	}
	var buf []byte
	plain := true
	start := s.pos
	for {
		i := bytes.IndexByte(s.doc[s.pos:], '<')
		if i < 0 {
			return "", s.errorf("unterminated <%s>", name)
		}
		chunk := s.doc[s.pos : s.pos+i]
		if plain && bytes.IndexByte(chunk, '&') < 0 && bytes.HasPrefix(s.doc[s.pos+i:], []byte("</")) {
			s.pos += i
			v := string(s.doc[start:s.pos])
			return v, s.endTag(name)
		}
		if plain {
			plain = false
			buf = append(buf, s.doc[start:s.pos]...)
		}
		var err error
		if buf, err = s.unescape(buf, chunk); err != nil {
			return "", err
		}
		s.pos += i
		rest := s.doc[s.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest, []byte("]]>"))
			if j < 0 {
				return "", s.errorf("unterminated CDATA")
			}
			buf = append(buf, rest[len("<![CDATA["):j]...)
			s.pos += j + len("]]>")
		case bytes.HasPrefix(rest, []byte("</")):
			return string(buf), s.endTag(name)
		default:
			skipped, err := s.skipMarkup(false)
			if err != nil {
				return "", err
			}
			if skipped {
				continue
			}
			// An element inside a value: S3 sends none; skip it as
			// encoding/xml would.
			child, self, err := s.startTag()
			if err != nil {
				return "", err
			}
			if err := s.skip(child, self, 1); err != nil {
				return "", err
			}
		}
	}
}

// unescape appends chunk to buf with XML's entity and character
// references resolved.
func (s *xmlScanner) unescape(buf, chunk []byte) ([]byte, error) {
	for {
		i := bytes.IndexByte(chunk, '&')
		if i < 0 {
			return append(buf, chunk...), nil
		}
		buf = append(buf, chunk[:i]...)
		chunk = chunk[i:]
		j := bytes.IndexByte(chunk, ';')
		if j < 0 {
			return nil, s.errorf("unterminated entity")
		}
		ref := string(chunk[1:j])
		chunk = chunk[j+1:]
		switch ref {
		case "lt":
			buf = append(buf, '<')
		case "gt":
			buf = append(buf, '>')
		case "amp":
			buf = append(buf, '&')
		case "apos":
			buf = append(buf, '\'')
		case "quot":
			buf = append(buf, '"')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ref, "#x"):
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			case strings.HasPrefix(ref, "#"):
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			default:
				err = errors.New("unknown entity")
			}
			if err != nil || !utf8.ValidRune(rune(n)) || n == 0 {
				return nil, s.errorf("bad reference &%s;", ref)
			}
			buf = utf8.AppendRune(buf, rune(n))
		}
	}
}

// skip passes over an element whose start tag was read, and its children.
func (s *xmlScanner) skip(name string, self bool, depth int) error {
	if self {
		return nil
	}
	if depth > maxDepth {
		return s.errorf("elements nested too deep")
	}
	for {
		i := bytes.IndexByte(s.doc[s.pos:], '<')
		if i < 0 {
			return s.errorf("unterminated <%s>", name)
		}
		s.pos += i
		if bytes.HasPrefix(s.doc[s.pos:], []byte("</")) {
			return s.endTag(name)
		}
		skipped, err := s.skipMarkup(true)
		if err != nil {
			return err
		}
		if skipped {
			continue
		}
		child, self, err := s.startTag()
		if err != nil {
			return err
		}
		if err := s.skip(child, self, depth+1); err != nil {
			return err
		}
	}
}
