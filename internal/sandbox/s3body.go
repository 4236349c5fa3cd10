package sandbox

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxObjectSize bounds one request body: the sandbox keeps content in
// memory, so it refuses what AWS would accept in a single PUT but a laptop
// should not hold.
const maxObjectSize = 1 << 30

// checksumAlgorithms are the request checksums verified, in the order the
// stored checksum is chosen when a client sends several.
func checksumAlgorithms() []string {
	return []string{"CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256", "SHA512", "MD5"}
}

const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

func newChecksumHash(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64.MakeTable(crc64NVMEPoly))
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	case "SHA512":
		return sha512.New()
	case "MD5":
		return md5.New()
	}
	return nil
}

func checksumOf(alg string, data []byte) string {
	h := newChecksumHash(alg)
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func checksumHeader(alg string) string {
	return "x-amz-checksum-" + strings.ToLower(alg)
}

// readS3Body reads a request body as the SDK sends it, decoding aws-chunked
// framing (unsigned with trailers, or signed chunks), and verifies every
// integrity value the client gave: the payload SHA-256, Content-MD5 and the
// x-amz-checksum-* headers or trailers. It returns the content and the
// checksum to keep with the object.
func readS3Body(r *http.Request) ([]byte, *objectChecksum, *apiError) {
	sha := r.Header.Get("x-amz-content-sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-") || hasToken(r.Header.Get("Content-Encoding"), "aws-chunked")
	var (
		body     []byte
		trailers map[string]string
		err      error
	)
	if r.Body == nil {
		r.Body = http.NoBody
	}
	if chunked {
		body, trailers, err = decodeAWSChunked(bufio.NewReader(r.Body), maxObjectSize)
		if err != nil {
			if errors.Is(err, errBodyTooLarge{}) {
				return nil, nil, errEntityTooLarge()
			}
			return nil, nil, errInvalidRequest("invalid aws-chunked body: " + err.Error())
		}
		if d := r.Header.Get("x-amz-decoded-content-length"); d != "" {
			n, perr := strconv.ParseInt(d, 10, 64)
			if perr != nil || n != int64(len(body)) {
				return nil, nil, &apiError{Status: 400, Code: "IncompleteBody",
					Message: "You did not provide the number of bytes specified by the x-amz-decoded-content-length header"}
			}
		}
		for _, name := range strings.Split(r.Header.Get("x-amz-trailer"), ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if _, ok := trailers[name]; !ok {
				return nil, nil, errInvalidRequest("the trailer " + name + " was declared but not sent")
			}
		}
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxObjectSize+1))
		if err != nil {
			return nil, nil, errInvalidRequest("read request body: " + err.Error())
		}
		if len(body) > maxObjectSize {
			return nil, nil, errEntityTooLarge()
		}
		if len(sha) == 64 {
			sum := sha256.Sum256(body)
			if !strings.EqualFold(hex.EncodeToString(sum[:]), sha) {
				return nil, nil, &apiError{Status: 400, Code: "XAmzContentSHA256Mismatch",
					Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
			}
		}
	}
	if m := r.Header.Get("Content-MD5"); m != "" {
		want, derr := base64.StdEncoding.DecodeString(m)
		if derr != nil || len(want) != md5.Size {
			return nil, nil, &apiError{Status: 400, Code: "InvalidDigest", Message: "The Content-MD5 you specified was invalid."}
		}
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return nil, nil, &apiError{Status: 400, Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received."}
		}
	}
	var keep *objectChecksum
	for _, alg := range checksumAlgorithms() {
		h := checksumHeader(alg)
		v := r.Header.Get(h)
		if t, ok := trailers[h]; ok {
			v = t
		}
		if v == "" {
			continue
		}
		if got := checksumOf(alg, body); got != v {
			return nil, nil, &apiError{Status: 400, Code: "BadDigest",
				Message: "The " + alg + " you specified did not match the calculated checksum."}
		}
		if keep == nil && alg != "MD5" {
			keep = &objectChecksum{algorithm: alg, value: v}
		}
	}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-checksum-xxhash") {
			return nil, nil, errInvalidRequest("checksum algorithm " + lk + " is not supported")
		}
	}
	return body, keep, nil
}

// errBodyTooLarge reports a body over the size the sandbox keeps.
type errBodyTooLarge struct{}

func (errBodyTooLarge) Error() string { return "body too large" }

func errEntityTooLarge() *apiError {
	return &apiError{Status: 400, Code: "EntityTooLarge", Message: "Your proposed upload exceeds the maximum allowed size"}
}

func hasToken(header, token string) bool {
	for _, t := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// decodeAWSChunked decodes the aws-chunked content encoding:
//
//	<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//	[<trailer-name>:<value>\r\n ...]\r\n
//
// Chunk signatures are parsed but not checked: the sandbox accepts any
// credentials unless strict authentication is on, and chunk signing chains
// from the request signature that the server core verifies.
func decodeAWSChunked(br *bufio.Reader, limit int64) ([]byte, map[string]string, error) {
	var out []byte
	for {
		line, err := readCRLFLine(br)
		if err != nil {
			return nil, nil, err
		}
		sizeText, ext, _ := strings.Cut(line, ";")
		if ext != "" && !strings.HasPrefix(ext, "chunk-signature=") {
			return nil, nil, errors.New("unknown chunk extension " + strconv.Quote(ext))
		}
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return nil, nil, errors.New("bad chunk size " + strconv.Quote(sizeText))
		}
		if int64(len(out))+size > limit {
			return nil, nil, errBodyTooLarge{}
		}
		if size == 0 {
			break
		}
		start := len(out)
		out = append(out, make([]byte, size)...)
		if _, err := io.ReadFull(br, out[start:]); err != nil {
			return nil, nil, errors.New("chunk shorter than its size")
		}
		if crlf, err := readCRLFLine(br); err != nil || crlf != "" {
			return nil, nil, errors.New("chunk not terminated by CRLF")
		}
	}
	trailers := map[string]string{}
	for {
		line, err := readCRLFLine(br)
		if err == io.EOF && line == "" {
			// Some encoders end the body right after the last trailer.
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, errors.New("malformed trailer " + strconv.Quote(line))
		}
		trailers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	if out == nil {
		out = []byte{}
	}
	return out, trailers, nil
}

// readCRLFLine reads one line ending in CRLF, without the terminator.
func readCRLFLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if err == io.EOF && line == "" {
			return "", io.EOF
		}
		return "", errors.New("truncated line")
	}
	if len(line) > 4096 {
		return "", errors.New("line too long")
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", errors.New("line not terminated by CRLF")
	}
	return line[:len(line)-2], nil
}
