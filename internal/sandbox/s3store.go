package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// s3Bucket is one bucket. Keys are kept in a sorted slice plus a short
// unsorted tail of keys created since the last listing, merged on demand,
// so a put of a new key is O(1) and a listing page is a binary search away.
type s3Bucket struct {
	name        string
	region      string
	created     time.Time
	versioning  string // "", "Enabled" or "Suspended"
	objects     map[string]*s3Key
	sorted      []string
	unsorted    []string
	replication *replicationConfig
	tags        map[string]string // bucket tags, as PutBucketTagging set them
}

// s3Key holds one key's versions and delete markers, newest first.
type s3Key struct {
	versions []*s3Version
}

// s3Version is an object version or a delete marker.
type s3Version struct {
	id           string // "null" for the null version
	modified     time.Time
	size         int64
	etag         string // quoted, as S3 sends it
	body         *s3Body
	headers      *contentHeaders
	meta         objectMeta
	tags         map[string]string
	checksum     *objectChecksum
	partSizes    []int64 // sizes of the parts of an object completed from a multipart upload
	replication  replStatus
	deleteMarker bool
	destroyed    bool // removed from its key's history
}

// replStatus is a version's x-amz-replication-status.
type replStatus uint8

const (
	replNone replStatus = iota
	replPending
	replCompleted
	replFailed
	replReplica
)

func (r replStatus) String() string {
	switch r {
	case replPending:
		return "PENDING"
	case replCompleted:
		return "COMPLETED"
	case replFailed:
		return "FAILED"
	case replReplica:
		return "REPLICA"
	}
	return ""
}

func parseReplStatus(s string) replStatus {
	for r := replPending; r <= replReplica; r++ {
		if r.String() == s {
			return r
		}
	}
	return replNone
}

// objectMeta is user metadata sorted by name: a handful of pairs in one
// small slice costs a fraction of a map, which matters at 100,000 versions.
type objectMeta []metaPair

// metaPair is one x-amz-meta-* entry; fields are exported for persistence.
type metaPair struct {
	Name, Value string
}

// metaOf makes user metadata from a map (nil when empty).
func metaOf(m map[string]string) objectMeta {
	if len(m) == 0 {
		return nil
	}
	out := make(objectMeta, 0, len(m))
	for k, v := range m {
		out = append(out, metaPair{k, v})
	}
	slices.SortFunc(out, func(a, b metaPair) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// get returns the value of name, or "".
func (m objectMeta) get(name string) string {
	i, ok := slices.BinarySearchFunc(m, name, func(p metaPair, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return ""
	}
	return m[i].Value
}

// contentHeaders are the standard headers S3 stores with an object.
type contentHeaders struct {
	contentType        string
	cacheControl       string
	contentDisposition string
	contentEncoding    string
	contentLanguage    string
}

// objectChecksum is the checksum a client sent with the object.
type objectChecksum struct {
	algorithm string // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	value     string // base64
}

func md5ETag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// idSource makes version and upload ids: opaque 32-character strings as S3
// uses, deterministic from the seed and the order of events.
type idSource struct {
	seed uint64
	seq  uint64
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"

func (g *idSource) next() string {
	g.seq++
	var b [32]byte
	x := g.seed ^ (g.seq * 0x9e3779b97f4a7c15)
	for i := range b {
		if i%8 == 0 {
			x = mix64(x + uint64(i))
		}
		b[i] = idAlphabet[x&63]
		x >>= 6
	}
	return string(b[:])
}

// keys returns the bucket's keys in ascending order, merging keys created
// since the last call and dropping keys left without versions.
func (b *s3Bucket) keys() []string {
	if len(b.unsorted) == 0 {
		return b.sorted
	}
	slices.Sort(b.unsorted)
	merged := make([]string, 0, len(b.sorted)+len(b.unsorted))
	i, j := 0, 0
	for i < len(b.sorted) || j < len(b.unsorted) {
		var k string
		if j >= len(b.unsorted) || (i < len(b.sorted) && b.sorted[i] < b.unsorted[j]) {
			k = b.sorted[i]
			i++
		} else {
			k = b.unsorted[j]
			j++
		}
		if o := b.objects[k]; o != nil && len(o.versions) > 0 && (len(merged) == 0 || merged[len(merged)-1] != k) {
			merged = append(merged, k)
		}
	}
	b.sorted, b.unsorted = merged, nil
	return b.sorted
}

// keyFrom is the index of the first key >= k.
func keyFrom(keys []string, k string) int {
	return sort.SearchStrings(keys, k)
}

func (b *s3Bucket) entry(key string) *s3Key {
	o := b.objects[key]
	if o == nil {
		o = &s3Key{}
		b.objects[key] = o
		b.unsorted = append(b.unsorted, key)
	}
	return o
}

// latest is the key's current entry, or nil.
func (b *s3Bucket) latest(key string) *s3Version {
	o := b.objects[key]
	if o == nil || len(o.versions) == 0 {
		return nil
	}
	return o.versions[0]
}

func (b *s3Bucket) findVersion(key, id string) *s3Version {
	o := b.objects[key]
	if o == nil {
		return nil
	}
	for _, v := range o.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

// addVersion makes v the key's current entry. Unless versioning is
// Enabled, v is the null version and replaces the previous null version
// wherever it stood in the history.
func (s *s3Service) addVersion(b *s3Bucket, key string, v *s3Version) {
	o := b.entry(key)
	if b.versioning == "Enabled" {
		if v.id == "" {
			v.id = s.ids.next()
		}
	} else {
		v.id = "null"
		o.versions = slices.DeleteFunc(o.versions, func(x *s3Version) bool {
			if x.id == "null" {
				x.destroyed = true
				return true
			}
			return false
		})
	}
	o.versions = slices.Insert(o.versions, 0, v)
}

// removeVersion destroys one version or delete marker.
func (b *s3Bucket) removeVersion(key, id string) *s3Version {
	o := b.objects[key]
	if o == nil {
		return nil
	}
	for i, v := range o.versions {
		if v.id == id {
			v.destroyed = true
			o.versions = slices.Delete(o.versions, i, i+1)
			if len(o.versions) == 0 {
				delete(b.objects, key)
				b.dropKey(key)
			}
			return v
		}
	}
	return nil
}

func (b *s3Bucket) dropKey(key string) {
	if i := keyFrom(b.sorted, key); i < len(b.sorted) && b.sorted[i] == key {
		b.sorted = slices.Delete(b.sorted, i, i+1)
	}
	b.unsorted = slices.DeleteFunc(b.unsorted, func(k string) bool { return k == key })
}

func (b *s3Bucket) empty() bool {
	return len(b.objects) == 0
}

// bucket returns a bucket after bringing replication up to date, so every
// read sees the replicas due by now.
func (s *s3Service) bucketLocked(name string, now time.Time) (*s3Bucket, *apiError) {
	s.repl.materialize(s, now)
	b, ok := s.buckets[name]
	if !ok {
		return nil, errNoSuchBucket(name)
	}
	return b, nil
}

// validBucketName checks the rules S3 applies to new bucket names.
func validBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters", name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("bucket name %q may hold only lowercase letters, digits, '-' and '.'", name)
		}
		if (i == 0 || i == len(name)-1) && (c == '-' || c == '.') {
			return fmt.Errorf("bucket name %q must begin and end with a letter or digit", name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q must not hold two adjacent periods", name)
	}
	return nil
}

// createBucketLocked adds a bucket.
func (s *s3Service) createBucketLocked(name, region string, versioned bool, now time.Time) *apiError {
	if err := validBucketName(name); err != nil {
		return &apiError{Status: 400, Code: "InvalidBucketName", Message: err.Error()}
	}
	if _, ok := s.buckets[name]; ok {
		return &apiError{Status: 409, Code: "BucketAlreadyOwnedByYou",
			Message: "Your previous request to create the named bucket succeeded and you already own it."}
	}
	b := &s3Bucket{name: name, region: region, created: now, objects: map[string]*s3Key{}}
	if versioned {
		b.versioning = "Enabled"
	}
	s.buckets[name] = b
	return nil
}

// putLocked stores a new object version (or null version) and starts its
// replication.
func (s *s3Service) putLocked(b *s3Bucket, key string, v *s3Version, now time.Time) {
	s.addVersion(b, key, v)
	s.repl.enqueue(s, b, key, v, now)
}

// deleteLocked deletes key without a version id: a delete marker in a
// versioned bucket, removal of the null version otherwise.
func (s *s3Service) deleteLocked(b *s3Bucket, key string, now time.Time) *s3Version {
	if b.versioning == "" {
		b.removeVersion(key, "null")
		return nil
	}
	m := &s3Version{deleteMarker: true, modified: now}
	s.addVersion(b, key, m)
	s.repl.enqueue(s, b, key, m, now)
	return m
}
