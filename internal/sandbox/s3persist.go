package sandbox

import (
	"encoding/gob"
	"fmt"
	"io"
	"reflect"
	"slices"
	"time"
)

// s3Snapshot is the saved form of the S3 state.
type s3Snapshot struct {
	Seq     uint64
	Buckets []bucketSnapshot
	Uploads []uploadSnapshot
	Pending []replicationOpSnapshot
	Done    map[string][]replicationRecord
	MaxLag  time.Duration
	// Bodies and Metas are saved once however many versions share them
	// (replicas, copies, a revision's files); versions refer to them by
	// index plus one.
	Bodies  []*s3Body
	Metas   []objectMeta
	Headers []capturedHeaders
}

type bucketSnapshot struct {
	Name, Region string
	Created      time.Time
	Versioning   string
	Replication  *replicationConfig
	Tags         map[string]string
	Keys         []keySnapshot
}

type keySnapshot struct {
	Key      string
	Versions []versionSnapshot
}

type versionSnapshot struct {
	Object       capturedObject // without Key, Body, Meta and Headers
	BodyRef      int
	MetaRef      int
	HeadersRef   int
	DeleteMarker bool
	ChecksumAlg  string
	Checksum     string
	Replication  string
}

type uploadSnapshot struct {
	ID, Bucket, Key string
	Initiated       time.Time
	Headers         *capturedHeaders
	Meta            objectMeta
	Tags            map[string]string
	Parts           map[int]partSnapshot
}

type partSnapshot struct {
	Body     *s3Body
	ETag     string
	Modified time.Time
}

type replicationOpSnapshot struct {
	Src, Key, VersionID, Rule, Dest string
	Created, Due                    time.Time
}

func headersSnapshot(h *contentHeaders) *capturedHeaders {
	if h == nil {
		return nil
	}
	return &capturedHeaders{h.contentType, h.cacheControl, h.contentDisposition, h.contentEncoding, h.contentLanguage}
}

func (s *s3Service) saveState(w io.Writer) error {
	s.mu.Lock()
	snap := s3Snapshot{Seq: s.ids.seq, Done: s.repl.done, MaxLag: s.repl.maxLag}
	shared := sharedTables{snap: &snap, bodies: map[*s3Body]int{}, metas: map[uintptr]int{}, headerIdx: map[capturedHeaders]int{}}
	for _, b := range s.buckets {
		bs := bucketSnapshot{Name: b.name, Region: b.region, Created: b.created, Versioning: b.versioning, Replication: b.replication, Tags: b.tags}
		for _, k := range b.keys() {
			ks := keySnapshot{Key: k}
			for _, v := range b.objects[k].versions {
				vs := versionSnapshot{Object: captureVersion(k, v), DeleteMarker: v.deleteMarker, Replication: v.replication.String()}
				vs.BodyRef, vs.MetaRef = shared.body(v.body), shared.meta(v.meta)
				vs.HeadersRef = shared.headers(vs.Object.Headers)
				vs.Object.Key, vs.Object.Body, vs.Object.Meta, vs.Object.Headers = "", nil, nil, nil
				if v.checksum != nil {
					vs.ChecksumAlg, vs.Checksum = v.checksum.algorithm, v.checksum.value
				}
				ks.Versions = append(ks.Versions, vs)
			}
			bs.Keys = append(bs.Keys, ks)
		}
		snap.Buckets = append(snap.Buckets, bs)
	}
	for _, u := range s.uploads {
		us := uploadSnapshot{ID: u.id, Bucket: u.bucket, Key: u.key, Initiated: u.initiated,
			Headers: headersSnapshot(u.headers), Meta: u.meta, Tags: u.tags, Parts: map[int]partSnapshot{}}
		for n, p := range u.parts {
			us.Parts[n] = partSnapshot{Body: p.body, ETag: p.etag, Modified: p.modified}
		}
		snap.Uploads = append(snap.Uploads, us)
	}
	for _, op := range s.repl.pending {
		snap.Pending = append(snap.Pending, replicationOpSnapshot{Src: op.src, Key: op.key, VersionID: op.version.id,
			Rule: op.rule, Dest: op.dest, Created: op.created, Due: op.due})
	}
	// Encoding runs under the lock: the snapshot shares maps with the live
	// state.
	defer s.mu.Unlock()
	if err := gob.NewEncoder(w).Encode(&snap); err != nil {
		return fmt.Errorf("save s3 state: %w", err)
	}
	return nil
}

func (s *s3Service) loadState(r io.Reader) error {
	var snap s3Snapshot
	if err := gob.NewDecoder(r).Decode(&snap); err != nil {
		return fmt.Errorf("load s3 state: %w", err)
	}
	// Build the state apart and install it whole, so a bad file leaves the
	// service as it was.
	buckets := map[string]*s3Bucket{}
	uploads := map[string]*multipartUpload{}
	repl := newReplicationQueue()
	if snap.Done != nil {
		repl.done = snap.Done
	}
	repl.maxLag = snap.MaxLag
	for _, bs := range snap.Buckets {
		b := &s3Bucket{name: bs.Name, region: bs.Region, created: bs.Created, versioning: bs.Versioning,
			replication: bs.Replication, tags: bs.Tags, objects: make(map[string]*s3Key, len(bs.Keys))}
		for _, ks := range bs.Keys {
			o := &s3Key{versions: make([]*s3Version, 0, len(ks.Versions))}
			for i := range ks.Versions {
				vs := &ks.Versions[i]
				if vs.BodyRef > 0 && vs.BodyRef <= len(snap.Bodies) {
					vs.Object.Body = snap.Bodies[vs.BodyRef-1]
				}
				if vs.MetaRef > 0 && vs.MetaRef <= len(snap.Metas) {
					vs.Object.Meta = snap.Metas[vs.MetaRef-1]
				}
				if vs.HeadersRef > 0 && vs.HeadersRef <= len(snap.Headers) {
					h := snap.Headers[vs.HeadersRef-1]
					vs.Object.Headers = &h
				}
				vs.Object.Key = ks.Key
				v := vs.Object.version()
				v.deleteMarker, v.replication = vs.DeleteMarker, parseReplStatus(vs.Replication)
				if v.deleteMarker {
					v.body, v.etag = nil, ""
				} else if v.body.len() != v.size {
					return fmt.Errorf("load s3 state: %s/%s version %s: content missing or of the wrong size", bs.Name, ks.Key, v.id)
				}
				if vs.ChecksumAlg != "" {
					v.checksum = &objectChecksum{algorithm: vs.ChecksumAlg, value: vs.Checksum}
				}
				o.versions = append(o.versions, v)
			}
			if len(o.versions) > 0 {
				b.objects[ks.Key] = o
				b.sorted = append(b.sorted, ks.Key)
			}
		}
		if !slices.IsSorted(b.sorted) {
			slices.Sort(b.sorted)
		}
		buckets[b.name] = b
	}
	for _, us := range snap.Uploads {
		u := &multipartUpload{id: us.ID, bucket: us.Bucket, key: us.Key, initiated: us.Initiated,
			meta: us.Meta, tags: us.Tags, parts: map[int]*uploadPart{}}
		if h := us.Headers; h != nil {
			u.headers = &contentHeaders{h.ContentType, h.CacheControl, h.ContentDisposition, h.ContentEncoding, h.ContentLanguage}
		}
		for n, p := range us.Parts {
			if p.Body == nil {
				return fmt.Errorf("load s3 state: upload %s part %d: content missing", us.ID, n)
			}
			u.parts[n] = &uploadPart{body: p.Body, etag: p.ETag, modified: p.Modified}
		}
		uploads[u.id] = u
	}
	for _, ps := range snap.Pending {
		b := buckets[ps.Src]
		if b == nil {
			continue
		}
		v := b.findVersion(ps.Key, ps.VersionID)
		if v == nil {
			continue
		}
		repl.pending = append(repl.pending, &replicationOp{src: ps.Src, key: ps.Key, version: v,
			rule: ps.Rule, dest: ps.Dest, created: ps.Created, due: ps.Due})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids.seq = snap.Seq
	s.buckets, s.uploads, s.repl = buckets, uploads, repl
	return nil
}

// sharedTables numbers bodies and metadata maps for a snapshot.
type sharedTables struct {
	snap      *s3Snapshot
	bodies    map[*s3Body]int
	metas     map[uintptr]int
	headerIdx map[capturedHeaders]int
}

func (t *sharedTables) headers(h *capturedHeaders) int {
	if h == nil {
		return 0
	}
	if i, ok := t.headerIdx[*h]; ok {
		return i
	}
	t.snap.Headers = append(t.snap.Headers, *h)
	t.headerIdx[*h] = len(t.snap.Headers)
	return len(t.snap.Headers)
}

func (t *sharedTables) body(b *s3Body) int {
	if b == nil {
		return 0
	}
	if i, ok := t.bodies[b]; ok {
		return i
	}
	t.snap.Bodies = append(t.snap.Bodies, b)
	t.bodies[b] = len(t.snap.Bodies)
	return len(t.snap.Bodies)
}

func (t *sharedTables) meta(m objectMeta) int {
	if m == nil {
		return 0
	}
	// Versions that share metadata share its backing array.
	p := reflect.ValueOf(m).Pointer()
	if i, ok := t.metas[p]; ok {
		return i
	}
	t.snap.Metas = append(t.snap.Metas, m)
	t.metas[p] = len(t.snap.Metas)
	return len(t.snap.Metas)
}
