package awsx

import (
	"fmt"
	"strings"
	"testing"
)

// listingDoc builds a ListVersionsResult of n entries, one in five a
// delete marker, with URL-encoded keys.
func listingDoc(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>models</Name><Prefix>models%2F</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><NextKeyMarker>models%2Fx</NextKeyMarker><NextVersionIdMarker>v</NextVersionIdMarker><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>`)
	for i := range n {
		key := fmt.Sprintf("models%%2Fllama-ft%%2Fcheckpoint-%06d.safetensors", i/5)
		if i%5 == 4 {
			fmt.Fprintf(&b, `<DeleteMarker><Owner><ID>0123456789abcdef</ID><DisplayName>ops</DisplayName></Owner><Key>%s</Key><VersionId>3HL4kqtJlcpXroDTDmJ%05dbSRg</VersionId><IsLatest>false</IsLatest><LastModified>2026-03-01T10:00:00.000Z</LastModified></DeleteMarker>`, key, i)
			continue
		}
		fmt.Fprintf(&b, `<Version><ETag>&quot;fba9dede5f27731c9771645a3986%04d&quot;</ETag><IsLatest>true</IsLatest><Key>%s</Key><LastModified>2026-03-01T10:00:00.000Z</LastModified><Owner><ID>0123456789abcdef</ID><DisplayName>ops</DisplayName></Owner><Size>434234</Size><StorageClass>STANDARD</StorageClass><VersionId>3HL4kqtJlcpXroDTDmJ%05dbSRg</VersionId></Version>`, i%10000, key, i)
	}
	b.WriteString(`</ListVersionsResult>`)
	return []byte(b.String())
}

// BenchmarkParseVersions reads a 1,000-entry listing page: the work the
// ordered lister adds to each ListObjectVersions call.
func BenchmarkParseVersions(b *testing.B) {
	doc := listingDoc(1000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := parseVersions(doc)
		if err != nil || len(p.entries) != 1000 {
			b.Fatal(err, len(p.entries))
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}
