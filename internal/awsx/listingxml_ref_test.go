package awsx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/drconsole/drconsole/internal/pitr"
)

// xmlEntry is a <Version> or a <DeleteMarker>.
type xmlEntry struct {
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// parseVersionsReference reads a listing page with encoding/xml: the
// reference the scanner in parseVersions is checked against.
func parseVersionsReference(doc []byte) (versionsPage, error) {
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
		e.Size, e.ETag, e.StorageClass = x.Size, x.ETag, x.StorageClass
	}
	return e, nil
}
