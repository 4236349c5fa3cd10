package sandbox

import (
	"fmt"
	"time"
)

// newS3Service builds the S3 service for a server's options.
func newS3Service(o *Options) *s3Service {
	lag := o.ReplicationLag
	if lag == 0 {
		lag = 30 * time.Second
	}
	return newS3ServiceConfig(s3Config{Seed: o.Seed, ReplicationLag: lag,
		PrimaryRegion: o.PrimaryRegion, DRRegion: o.DRRegion})
}

// createBucket adds a bucket, for the estate seeding and restores.
func (s *s3Service) createBucket(name, region string, versioned bool, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.createBucketLocked(name, region, versioned, now); e != nil {
		return fmt.Errorf("create bucket %s: %w", name, e)
	}
	return nil
}

// putObjectAt stores an object version as if PUT at now; replication
// applies. The version id is "null" unless the bucket is versioned.
func (s *s3Service) putObjectAt(bucket, key string, body []byte, meta map[string]string, now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bucket, now)
	if e != nil {
		return "", fmt.Errorf("put %s/%s: %w", bucket, key, e)
	}
	if e := checkKey(key); e != nil {
		return "", fmt.Errorf("put %s/%s: %w", bucket, key, e)
	}
	v := &s3Version{modified: now, size: int64(len(body)), etag: md5ETag(body), body: &s3Body{data: body}, meta: cloneMeta(meta)}
	s.putLocked(b, key, v, now)
	return v.id, nil
}

// deleteObjectAt deletes key as a DELETE without version id at now would:
// the delete marker's version id, or "" when the bucket is unversioned.
func (s *s3Service) deleteObjectAt(bucket, key string, now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bucket, now)
	if e != nil {
		return "", fmt.Errorf("delete %s/%s: %w", bucket, key, e)
	}
	if m := s.deleteLocked(b, key, now); m != nil {
		return m.id, nil
	}
	return "", nil
}

func cloneMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// bucketCapture is a backup of a bucket: its current objects at one time,
// content included. Fields are exported so a recovery point can be saved
// with the rest of the estate.
type bucketCapture struct {
	Bucket  string
	Region  string
	At      time.Time
	Objects []capturedObject
}

// capturedObject is one object of a capture.
type capturedObject struct {
	Key       string
	VersionID string
	ETag      string
	Size      int64
	Modified  time.Time
	Data      []byte
	Synth     uint64 // nonzero: content generated from this seed (Data nil)
	Meta      map[string]string
	Tags      map[string]string
	Headers   *capturedHeaders
	PartSizes []int64
}

type capturedHeaders struct {
	ContentType, CacheControl, ContentDisposition, ContentEncoding, ContentLanguage string
}

// Bytes is the total content size of the capture.
func (c *bucketCapture) Bytes() int64 {
	var n int64
	for _, o := range c.Objects {
		n += o.Size
	}
	return n
}

// captureBucket takes a backup of bucket as it stood at `at`: for each key,
// the newest entry no later than `at`, if that entry is an object.
func (s *s3Service) captureBucket(bucket string, at time.Time) (*bucketCapture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bucket, at)
	if e != nil {
		return nil, fmt.Errorf("capture bucket %s: %w", bucket, e)
	}
	c := &bucketCapture{Bucket: bucket, Region: b.region, At: at}
	for _, k := range b.keys() {
		for _, v := range b.objects[k].versions {
			if v.modified.After(at) {
				continue
			}
			if !v.deleteMarker {
				c.Objects = append(c.Objects, captureVersion(k, v))
			}
			break
		}
	}
	return c, nil
}

func captureVersion(key string, v *s3Version) capturedObject {
	o := capturedObject{Key: key, VersionID: v.id, ETag: v.etag, Size: v.size, Modified: v.modified,
		Meta: v.meta, Tags: v.tags, PartSizes: v.partSizes}
	if v.body != nil {
		o.Data, o.Synth = v.body.data, v.body.synth
	}
	if h := v.headers; h != nil {
		o.Headers = &capturedHeaders{h.contentType, h.cacheControl, h.contentDisposition, h.contentEncoding, h.contentLanguage}
	}
	return o
}

func (o *capturedObject) version() *s3Version {
	v := &s3Version{id: o.VersionID, size: o.Size, etag: o.ETag, modified: o.Modified,
		body: &s3Body{data: o.Data, synth: o.Synth, size: o.Size}, meta: o.Meta, tags: o.Tags, partSizes: o.PartSizes}
	if h := o.Headers; h != nil {
		v.headers = &contentHeaders{h.ContentType, h.CacheControl, h.ContentDisposition, h.ContentEncoding, h.ContentLanguage}
	}
	return v
}

// restoreCapture creates bucket dest in region (versioned, as AWS Backup
// requires of restore targets) and fills it with the capture's objects as
// new versions written at now.
func (s *s3Service) restoreCapture(c *bucketCapture, dest, region string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.createBucketLocked(dest, region, true, now); e != nil {
		return fmt.Errorf("restore %s into %s: %w", c.Bucket, dest, e)
	}
	b := s.buckets[dest]
	for i := range c.Objects {
		v := c.Objects[i].version()
		v.id, v.modified = "", now
		s.putLocked(b, c.Objects[i].Key, v, now)
	}
	return nil
}
