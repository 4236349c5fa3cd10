package awsx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/drconsole/drconsole/internal/pitr"
)

// emptyListing is what the SDK's deserializer reads in place of a page.
const emptyListing = `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ListVersionsResult>`

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
	// order refuses a listing out of S3's order, across pages.
	order pitr.OrderCheck
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
		o.APIOptions = append(o.APIOptions, body.install)
	})
	_, err := p.client.ListObjectVersions(ctx, in, optFns...)
	p.pages++
	if err != nil {
		return nil, fmt.Errorf("list versions of s3://%s/%s: %w", p.l.Bucket, p.l.Prefix, err)
	}
	page, err := parseVersions(body.data)
	if err != nil {
		return nil, fmt.Errorf("list versions of s3://%s/%s: %w", p.l.Bucket, p.l.Prefix, err)
	}
	entries := page.entries
	for _, e := range entries {
		if err := p.order.Check(e); err != nil {
			return nil, fmt.Errorf("list versions of s3://%s/%s: %w", p.l.Bucket, p.l.Prefix, err)
		}
	}
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

// capturedBody is a Deserialize middleware that keeps a successful
// response's body for parseVersions and hands the SDK's deserializer an
// empty result instead: reading the page twice, once into a shape that
// has lost its order, would double the client's work per page. Error
// responses pass through untouched, so the SDK still reads them (and the
// retryer still sees SlowDown). It sees each attempt's raw response; a
// retried call keeps the last.
type capturedBody struct {
	data []byte
}

func (*capturedBody) ID() string { return "drconsole.CaptureListing" }

// install puts the middleware right inside the operation's deserializer
// and outside S3's check for errors sent with status 200, which turns
// those into 500s first: an error document is then retried and reported,
// never read as a short listing.
func (c *capturedBody) install(st *middleware.Stack) error {
	if _, ok := st.Deserialize.Get("OperationDeserializer"); ok {
		return st.Deserialize.Insert(c, "OperationDeserializer", middleware.After)
	}
	return st.Deserialize.Add(c, middleware.After)
}

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
	if rerr != nil {
		return out, md, &bodyReadError{err: rerr}
	}
	if len(data) > maxListingBody {
		return out, md, fmt.Errorf("listing page larger than %d bytes", maxListingBody)
	}
	c.data = data
	resp.Body = io.NopCloser(strings.NewReader(emptyListing))
	resp.ContentLength = int64(len(emptyListing))
	return out, md, nil
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

// bodyReadError is a listing page cut off in transit. It says it is a
// connection error, which the SDK's retryer retries.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string         { return "read listing page: " + e.err.Error() }
func (e *bodyReadError) Unwrap() error         { return e.err }
func (e *bodyReadError) ConnectionError() bool { return true }
