package awsx

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/pitr"
)

// maxListingBody bounds the response body kept per listing page. A page
// of 1,000 entries with 1,024-byte keys is about 1.5 MiB.
const maxListingBody = 32 << 20

// VersionListing is what to list with ListObjectVersions.
type VersionListing struct {
	Bucket string
	Prefix string
	// MaxKeys is the page size (S3 caps it at 1,000); 0 leaves S3's default.
	MaxKeys int32
	// Range restricts the listing to a key range: it starts after
	// Range.After and stops past Range.Through, so that disjoint ranges of a
	// prefix can be listed concurrently.
	Range pitr.Range
}

// VersionPaginator lists versions and delete markers page by page in their
// true order. The SDK's ListObjectVersionsOutput splits a page into
// Versions and DeleteMarkers, which loses how they interleave: a version
// and a delete marker written in the same second are then ordered by
// nothing. The paginator keeps the response body as received (a
// Deserialize middleware on the call) and reads the <Version> and
// <DeleteMarker> elements in document order. The call goes through the
// client's whole stack: signing, retries, the read-only guard and the
// observer all apply.
type VersionPaginator struct {
	client    *s3.Client
	l         VersionListing
	keyMarker string
	verMarker string
	done      bool
	pages     int
}

// NewVersionPaginator returns a paginator over l.
func NewVersionPaginator(client *s3.Client, l VersionListing) *VersionPaginator {
	return &VersionPaginator{client: client, l: l, keyMarker: l.Range.After}
}

// HasMorePages reports whether NextPage has more to return.
func (p *VersionPaginator) HasMorePages() bool { return !p.done }

// Pages is the number of listing requests made so far.
func (p *VersionPaginator) Pages() int { return p.pages }

// NextPage returns the next page's entries in listing order, with keys
// decoded. Entries past the range's upper bound are dropped and end the
// listing.
func (p *VersionPaginator) NextPage(ctx context.Context, optFns ...func(*s3.Options)) ([]pitr.Entry, error) {
	if p.done {
		return nil, errors.New("list versions: no more pages")
	}
	in := &s3.ListObjectVersionsInput{
		Bucket:       aws.String(p.l.Bucket),
		EncodingType: types.EncodingTypeUrl,
	}
	if p.l.Prefix != "" {
		in.Prefix = aws.String(p.l.Prefix)
	}
	if p.l.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(p.l.MaxKeys)
	}
	if p.keyMarker != "" {
		in.KeyMarker = aws.String(p.keyMarker)
		if p.verMarker != "" {
			in.VersionIdMarker = aws.String(p.verMarker)
		}
	}
	body := &capturedBody{}
	optFns = append(optFns, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(body, middleware.After)
		})
	})
	out, err := p.client.ListObjectVersions(ctx, in, optFns...)
	p.pages++
	if err != nil {
		return nil, fmt.Errorf("list versions of s3://%s/%s: %w", p.l.Bucket, p.l.Prefix, err)
	}
	page, err := parseVersions(body.data)
	if err != nil {
		return nil, fmt.Errorf("list versions of s3://%s/%s: %w", p.l.Bucket, p.l.Prefix, err)
	}
	if n := len(out.Versions) + len(out.DeleteMarkers); n != len(page.entries) {
		return nil, fmt.Errorf("list versions of s3://%s/%s: read %d entries from the response, the SDK %d", p.l.Bucket, p.l.Prefix, len(page.entries), n)
	}
	entries := page.entries
	if t := p.l.Range.Through; t != "" {
		for i, e := range entries {
			if e.Key > t {
				entries, p.done = entries[:i], true
				break
			}
		}
	}
	if !page.truncated {
		p.done = true
	}
	if !p.done {
		if page.nextKeyMarker == "" {
			return nil, fmt.Errorf("list versions of s3://%s/%s: truncated page without a next key marker", p.l.Bucket, p.l.Prefix)
		}
		p.keyMarker, p.verMarker = page.nextKeyMarker, page.nextVersionIDMarker
	}
	return entries, nil
}

// ListVersions lists l page by page, calling fn with each page's entries
// in true listing order. It stops at the first error, fn's included.
func ListVersions(ctx context.Context, client *s3.Client, l VersionListing, fn func([]pitr.Entry) error) error {
	p := NewVersionPaginator(client, l)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

// VersionCursor reads l as a pitr.Cursor, listing a page at a time as the
// planner asks for more: the target side of a restore into another bucket
// or prefix.
func VersionCursor(ctx context.Context, client *s3.Client, l VersionListing) pitr.Cursor {
	p := NewVersionPaginator(client, l)
	return pitr.PageCursor(func() ([]pitr.Entry, bool, error) {
		if !p.HasMorePages() {
			return nil, false, nil
		}
		page, err := p.NextPage(ctx)
		return page, err == nil, err
	})
}

// capturedBody is a Deserialize middleware that keeps a copy of a
// successful response's body and hands the deserializer an identical one.
// It sits innermost, so it sees each attempt's raw response; a retried
// call keeps the last.
type capturedBody struct {
	data []byte
}

func (*capturedBody) ID() string { return "drconsole.CaptureListing" }

func (c *capturedBody) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 200 || resp.StatusCode > 299 || resp.Body == nil {
		return out, md, err
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxListingBody+1))
	resp.Body.Close()
	if rerr == nil && len(data) > maxListingBody {
		rerr = fmt.Errorf("listing page larger than %d bytes", maxListingBody)
	}
	if rerr != nil {
		return out, md, fmt.Errorf("read listing page: %w", rerr)
	}
	c.data = data
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return out, md, nil
}

// versionsPage is what parseVersions reads from a ListVersionsResult.
type versionsPage struct {
	entries             []pitr.Entry
	truncated           bool
	nextKeyMarker       string
	nextVersionIDMarker string
}

// xmlEntry is a <Version> or a <DeleteMarker>.
type xmlEntry struct {
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

// parseVersions reads a ListVersionsResult document, keeping its entries
// in document order and decoding keys when the response says they are
// URL-encoded.
func parseVersions(doc []byte) (versionsPage, error) {
	var page versionsPage
	var urlEncoded bool
	var nextKey string
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return page, fmt.Errorf("read listing XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth != 2 {
				continue
			}
			switch t.Name.Local {
			case "Version", "DeleteMarker":
				var x xmlEntry
				if err := d.DecodeElement(&x, &t); err != nil {
					return page, fmt.Errorf("read listing XML: %w", err)
				}
				depth--
				e, err := x.entry(t.Name.Local == "DeleteMarker")
				if err != nil {
					return page, err
				}
				page.entries = append(page.entries, e)
			case "IsTruncated", "NextKeyMarker", "NextVersionIdMarker", "EncodingType":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return page, fmt.Errorf("read listing XML: %w", err)
				}
				depth--
				switch t.Name.Local {
				case "IsTruncated":
					page.truncated = s == "true"
				case "NextKeyMarker":
					nextKey = s
				case "NextVersionIdMarker":
					page.nextVersionIDMarker = s
				case "EncodingType":
					urlEncoded = s == "url"
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	page.nextKeyMarker = nextKey
	if urlEncoded {
		var err error
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

func (x xmlEntry) entry(deleteMarker bool) (pitr.Entry, error) {
	if x.Key == "" {
		return pitr.Entry{}, errors.New("listing entry without a key")
	}
	lm, err := time.Parse(time.RFC3339Nano, x.LastModified)
	if err != nil {
		return pitr.Entry{}, fmt.Errorf("listing entry %q: LastModified %q: %w", x.Key, x.LastModified, err)
	}
	e := pitr.Entry{
		Key:            x.Key,
		VersionID:      x.VersionID,
		IsDeleteMarker: deleteMarker,
		IsLatest:       x.IsLatest,
		LastModified:   lm.UTC(),
	}
	if !deleteMarker {
		e.Size, e.ETag = x.Size, x.ETag
	}
	return e, nil
}

// decodeKey undoes S3's encoding-type=url, which encodes a space as "+"
// and a literal "+" as "%2B", as form encoding does.
func decodeKey(s string) (string, error) {
	k, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decode listed key %q: %w", s, err)
	}
	return k, nil
}
