package sandbox

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

// chunked frames data as aws-chunked in chunks of n bytes, with the given
// trailer lines and optional chunk signatures.
func chunked(data string, n int, signed bool, trailers ...string) string {
	var b strings.Builder
	ext := ""
	if signed {
		ext = ";chunk-signature=" + strings.Repeat("0", 64)
	}
	for len(data) > 0 {
		k := min(n, len(data))
		fmt.Fprintf(&b, "%x%s\r\n%s\r\n", k, ext, data[:k])
		data = data[k:]
	}
	fmt.Fprintf(&b, "0%s\r\n", ext)
	for _, t := range trailers {
		b.WriteString(t + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func rawPut(t *testing.T, h *s3Harness, key, body string, hdr map[string]string) (int, string) {
	t.Helper()
	r := must(http.NewRequest(http.MethodPut, h.srv.URL+"/sums-bucket/"+key, strings.NewReader(body)))(t)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp := must(http.DefaultClient.Do(r))(t)
	defer resp.Body.Close()
	b := must(io.ReadAll(resp.Body))(t)
	code := ""
	if i := strings.Index(string(b), "<Code>"); i >= 0 {
		code = string(b)[i+6 : strings.Index(string(b), "</Code>")]
	}
	return resp.StatusCode, code
}

func TestS3ChunkedBodiesAndChecksums(t *testing.T) {
	h := startS3Harness(t, s3Config{}, false)
	c := h.client(t, "us-east-1")
	must(c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("sums-bucket")}))(t)
	data := strings.Repeat("model-weights-", 1000)
	crc := checksumOf("CRC32", []byte(data))
	sha := checksumOf("SHA256", []byte(data))
	unsigned := map[string]string{
		"x-amz-content-sha256":         "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding":             "aws-chunked",
		"x-amz-decoded-content-length": strconv.Itoa(len(data)),
		"x-amz-trailer":                "x-amz-checksum-crc32",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	corrupt := []byte(chunked(data, 4096, false, "x-amz-checksum-crc32:"+crc))
	corrupt[10] ^= 1
	md5sum := md5.Sum([]byte(data))
	for _, tc := range []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"unsigned trailer", chunked(data, 4096, false, "x-amz-checksum-crc32:"+crc), unsigned, 200, ""},
		{"one chunk", chunked(data, len(data), false, "x-amz-checksum-crc32:"+crc), unsigned, 200, ""},
		{"signed chunks", chunked(data, 8192, true), with(unsigned, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-trailer", ""), 200, ""},
		{"signed chunks with trailer", chunked(data, 8192, true, "x-amz-checksum-sha256:"+sha, "x-amz-trailer-signature:"+strings.Repeat("0", 64)),
			with(unsigned, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-trailer", "x-amz-checksum-sha256"), 200, ""},
		{"corrupted chunk", string(corrupt), unsigned, 400, "BadDigest"},
		{"corrupted trailer", chunked(data, 4096, false, "x-amz-checksum-crc32:AAAAAA=="), unsigned, 400, "BadDigest"},
		{"missing trailer", chunked(data, 4096, false), unsigned, 400, "InvalidRequest"},
		{"short chunk", strings.Replace(chunked(data, 4096, false, "x-amz-checksum-crc32:"+crc), "1000\r\n", "1001\r\n", 1), unsigned, 400, "InvalidRequest"},
		{"bad size", "zz\r\nabc\r\n0\r\n\r\n", unsigned, 400, "InvalidRequest"},
		{"decoded length mismatch", chunked(data, 4096, false, "x-amz-checksum-crc32:"+crc), with(unsigned, "x-amz-decoded-content-length", "5"), 400, "IncompleteBody"},
		{"header checksum", data, map[string]string{"x-amz-checksum-crc32": crc}, 200, ""},
		{"header checksum mismatch", data + "x", map[string]string{"x-amz-checksum-crc32": crc}, 400, "BadDigest"},
		{"crc32c", data, map[string]string{"x-amz-checksum-crc32c": checksumOf("CRC32C", []byte(data))}, 200, ""},
		{"crc64nvme mismatch", data, map[string]string{"x-amz-checksum-crc64nvme": checksumOf("CRC64NVME", []byte("x"))}, 400, "BadDigest"},
		{"sha1", data, map[string]string{"x-amz-checksum-sha1": checksumOf("SHA1", []byte(data))}, 200, ""},
		{"content-md5", data, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(md5sum[:])}, 200, ""},
		{"content-md5 mismatch", data + "x", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(md5sum[:])}, 400, "BadDigest"},
		{"content-md5 malformed", data, map[string]string{"Content-MD5": "zz"}, 400, "InvalidDigest"},
		{"payload sha256 mismatch", data, map[string]string{"x-amz-content-sha256": strings.Repeat("ab", 32)}, 400, "XAmzContentSHA256Mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code := rawPut(t, h, "k", tc.body, tc.hdr)
			if status != tc.status || code != tc.code {
				t.Fatalf("status %d code %q, want %d %q", status, code, tc.status, tc.code)
			}
			if status == 200 {
				body, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("sums-bucket"), Key: aws.String("k")})
				if body != tc.body && body != data {
					t.Fatalf("stored %d bytes, want the decoded %d", len(body), len(data))
				}
			}
		})
	}
}

// Over TLS the SDK sends its default request checksum as an aws-chunked
// trailer; GetObject with checksum mode returns what was stored.
func TestS3SDKChecksumsOverTLS(t *testing.T) {
	h := startS3Harness(t, s3Config{}, true)
	c := h.client(t, "us-east-1")
	ctx := context.Background()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tls-bucket")}))(t)
	data := strings.Repeat("x", 100_000)
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		p := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("k"), Body: strings.NewReader(data), ChecksumAlgorithm: alg}))(t)
		out := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled}))(t)
		b := must(io.ReadAll(out.Body))(t)
		out.Body.Close()
		got := aws.ToString(out.ChecksumCRC32) + aws.ToString(out.ChecksumCRC32C) + aws.ToString(out.ChecksumSHA256) + aws.ToString(out.ChecksumCRC64NVME)
		want := aws.ToString(p.ChecksumCRC32) + aws.ToString(p.ChecksumCRC32C) + aws.ToString(p.ChecksumSHA256) + aws.ToString(p.ChecksumCRC64NVME)
		if string(b) != data || got == "" || got != want {
			t.Fatalf("%q: body %d bytes, checksum %q want %q", alg, len(b), got, want)
		}
	}
	if h.chunked.Load() == 0 {
		t.Fatal("the SDK sent no aws-chunked body over TLS")
	}
}

func TestDecodeAWSChunkedTable(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		trailer  string
		ok       bool
	}{
		{"0\r\n\r\n", "", "", true},
		{"3\r\nabc\r\n0\r\n\r\n", "abc", "", true},
		{"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n", "abc", "AAAA", true},
		{"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n", "abc", "AAAA", true},
		{"3\r\nabcd\r\n0\r\n\r\n", "", "", false},
		{"3;foo=bar\r\nabc\r\n0\r\n\r\n", "", "", false},
		{"-3\r\nabc\r\n0\r\n\r\n", "", "", false},
		{"3\nabc\r\n0\r\n\r\n", "", "", false},
		{"3\r\nabc\r\n", "", "", false},
		{"3\r\nabc\r\n0\r\nnocolon\r\n\r\n", "", "", false},
	} {
		got, tr, err := decodeAWSChunked(bufio.NewReader(strings.NewReader(tc.in)), 1<<20)
		if (err == nil) != tc.ok {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if tc.ok && (string(got) != tc.want || tr["x-amz-checksum-crc32"] != tc.trailer) {
			t.Fatalf("%q: got %q trailers %v", tc.in, got, tr)
		}
	}
	if _, _, err := decodeAWSChunked(bufio.NewReader(strings.NewReader("10\r\n")), 4); err == nil {
		t.Fatal("a chunk over the limit was accepted")
	}
}

func FuzzDecodeAWSChunked(f *testing.F) {
	f.Add([]byte(chunked("hello world", 4, false, "x-amz-checksum-crc32:AAAA")))
	f.Add([]byte(chunked("hello", 2, true)))
	f.Fuzz(func(t *testing.T, in []byte) {
		data, _, err := decodeAWSChunked(bufio.NewReader(strings.NewReader(string(in))), 1<<16)
		if err == nil && len(data) > len(in) {
			t.Fatalf("decoded %d bytes from %d", len(data), len(in))
		}
		if err == nil {
			// Re-encoding what was decoded decodes to the same bytes.
			again, _, err := decodeAWSChunked(bufio.NewReader(strings.NewReader(chunked(string(data), 7, false))), 1<<16)
			if err != nil || string(again) != string(data) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

func TestParseRangeTable(t *testing.T) {
	for _, tc := range []struct {
		spec       string
		size       int64
		start, end int64
		partial    bool
		invalid    bool
	}{
		{"", 10, 0, 10, false, false},
		{"bytes=0-0", 10, 0, 1, true, false},
		{"bytes=2-4", 10, 2, 5, true, false},
		{"bytes=8-", 10, 8, 10, true, false},
		{"bytes=-3", 10, 7, 10, true, false},
		{"bytes=-30", 10, 0, 10, true, false},
		{"bytes=5-100", 10, 5, 10, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=4-2", 10, 0, 10, false, false},
		{"bytes=1-2,4-5", 10, 0, 10, false, false},
		{"items=1-2", 10, 0, 10, false, false},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=--1", 85, 0, 85, false, false},
	} {
		s, e, p, err := parseRange(tc.spec, tc.size)
		if (err != nil) != tc.invalid || (!tc.invalid && (s != tc.start || e != tc.end || p != tc.partial)) {
			t.Fatalf("%q/%d = %d %d %v %v", tc.spec, tc.size, s, e, p, err)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add("bytes=1-5", int64(10))
	f.Add("bytes=-5", int64(3))
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			return
		}
		s, e, _, err := parseRange(spec, size)
		if err == nil && (s < 0 || e > size || s > e) {
			t.Fatalf("%q/%d gave [%d,%d)", spec, size, s, e)
		}
	})
}

func TestS3LocateAndOperation(t *testing.T) {
	for _, tc := range []struct {
		method, host, target string
		hdr                  string
		bucket, key, op      string
	}{
		{"GET", "127.0.0.1:9000", "/", "", "", "", "ListBuckets"},
		{"GET", "127.0.0.1:9000", "/b1/k/x?versionId=1", "", "b1", "k/x", "GetObject"},
		{"GET", "bkt.localhost:9000", "/k", "", "bkt", "k", "GetObject"},
		{"GET", "bkt.s3.localhost", "/?versions", "", "bkt", "", "ListObjectVersions"},
		{"GET", "s3.localhost", "/bkt?list-type=2", "", "bkt", "", "ListObjectsV2"},
		{"PUT", "localhost", "/bkt/k?partNumber=1&uploadId=u", "src/k", "bkt", "k", "UploadPartCopy"},
		{"PUT", "localhost", "/bkt/k?partNumber=1&uploadId=u", "", "bkt", "k", "UploadPart"},
		{"PUT", "localhost", "/bkt/k", "src/k", "bkt", "k", "CopyObject"},
		{"PUT", "localhost", "/bkt?versioning", "", "bkt", "", "PutBucketVersioning"},
		{"PUT", "localhost", "/bkt?x-id=CreateBucket", "", "bkt", "", "CreateBucket"},
		{"POST", "localhost", "/bkt?delete", "", "bkt", "", "DeleteObjects"},
		{"POST", "localhost", "/bkt/k?uploads", "", "bkt", "k", "CreateMultipartUpload"},
		{"DELETE", "localhost", "/bkt/k?uploadId=u", "", "bkt", "k", "AbortMultipartUpload"},
		{"GET", "localhost", "/bkt?policy", "", "bkt", "", "GetBucketpolicy"},
		{"GET", "localhost", "/bkt/a%20b/c", "", "bkt", "a b/c", "GetObject"},
	} {
		r := must(http.NewRequest(tc.method, "http://"+tc.host+tc.target, nil))(t)
		if tc.hdr != "" {
			r.Header.Set("x-amz-copy-source", tc.hdr)
		}
		loc := s3Locate(r)
		if loc.bucket != tc.bucket || loc.key != tc.key || s3Operation(r, loc) != tc.op {
			t.Fatalf("%s %s%s = %q %q %s", tc.method, tc.host, tc.target, loc.bucket, loc.key, s3Operation(r, loc))
		}
	}
}

// FuzzS3RequestParsing feeds arbitrary request lines and headers to the
// request parsers: they must answer, never fail.
func FuzzS3RequestParsing(f *testing.F) {
	f.Add("GET", "/bucket/key?versionId=x", "bucket.localhost", "src/k?versionId=null", "a=1&b=2", "bytes=0-1")
	f.Add("PUT", "/b/%ZZ", "s3.localhost:80", "%", "%%", "bytes=--")
	f.Fuzz(func(t *testing.T, method, target, host, copySrc, tagging, rng string) {
		r, err := http.NewRequest("GET", "http://localhost/", nil)
		if err != nil {
			t.Skip()
		}
		r.Method = method
		if u, err := url.ParseRequestURI(target); err == nil {
			r.URL = u
		}
		r.Host = host
		r.Header.Set("x-amz-copy-source", copySrc)
		loc := s3Locate(r)
		_ = s3Operation(r, loc)
		if cs, e := parseCopySource(copySrc); e == nil && (cs.bucket == "" || cs.key == "") {
			t.Fatalf("copy source %q parsed to an empty bucket or key", copySrc)
		}
		if tags, e := parseTagging(tagging); e == nil && len(tags) > 10 {
			t.Fatalf("%d tags accepted", len(tags))
		}
		_, _, _, _ = parseRange(rng, 100)
	})
}
