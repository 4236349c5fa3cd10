package sandbox

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"time"
)

// seedModelNames are the first models of the seeded bucket; larger estates
// add model-05, model-06, ...
func seedModelName(i int) string {
	switch i {
	case 0:
		return "llama-ft"
	case 1:
		return "bert-ranker"
	case 2:
		return "whisper-asr"
	case 3:
		return "vision-clip"
	}
	return fmt.Sprintf("model-%02d", i+1)
}

// seedEvent is one write in the seeded history.
type seedEvent struct {
	at     time.Time
	key    string
	delete bool
	body   *s3Body
	etag   string
	meta   objectMeta
	ctype  string
}

// seedModels fills the model bucket with months of history and creates its
// DR replica with a replication rule. Each model revision writes
// models/<name>/model.safetensors (generated content) and
// models/<name>/config.json, with user metadata "metrics" and "git-commit".
// bert-ranker and whisper-asr are deleted and re-created part way through;
// llama-ft's config.json has a version and a delete marker written in the
// same second, then the key is re-created, so listings whose timestamps tie
// must be read by position. llama-ft's newest revision is written 10
// seconds before now, so with the default lag it is still replicating.
func (s *s3Service) seedModels(rng *rand.Rand, o *Options, now time.Time) error {
	z := o.Sizes.withDefaults()
	historyStart := now.Add(-time.Duration(z.HistoryDays) * 24 * time.Hour)
	created := historyStart.Add(-24 * time.Hour).Truncate(time.Second)
	n := o.Names
	if err := s.createBucket(n.ModelBucket, s.cfg.PrimaryRegion, true, created); err != nil {
		return fmt.Errorf("seed models: %w", err)
	}
	if err := s.createBucket(n.ReplicaBucket, s.cfg.DRRegion, true, created); err != nil {
		return fmt.Errorf("seed models: %w", err)
	}
	// The logs bucket has no versioning and no role: writes to it cannot be
	// undone, which is why a restore must not be pointed at it.
	if err := s.createBucket(n.LogsBucket, s.cfg.PrimaryRegion, false, created); err != nil {
		return fmt.Errorf("seed models: %w", err)
	}
	for d := 3; d >= 1; d-- {
		at := now.Add(-time.Duration(d) * 24 * time.Hour).Truncate(time.Hour)
		body := []byte(fmt.Sprintf(`{"ts":%q,"level":"info","msg":"inference requests served","count":%d}`+"\n",
			at.Format(time.RFC3339), 10000+d*997))
		if _, err := s.putObjectAt(n.LogsBucket, "inference/"+at.Format("2006/01/02")+"/requests.jsonl", body, nil, at); err != nil {
			return fmt.Errorf("seed logs: %w", err)
		}
	}
	prio, prefix := 1, n.ModelsPrefix
	cfg := &replicationConfig{Role: "arn:aws:iam::" + accountID + ":role/" + n.ModelBucket + "-replication",
		Rules: []replicationRuleXML{{ID: n.ReplicationRule, Priority: &prio, Status: "Enabled",
			Filter:                  &replicationFilt{Prefix: &prefix},
			DeleteMarkerReplication: &statusXML{Status: "Enabled"}}}}
	cfg.Rules[0].Destination.Bucket = "arn:aws:s3:::" + n.ReplicaBucket

	var events []seedEvent
	span := now.Add(-time.Minute).Sub(historyStart)
	for m := 0; m < z.Models; m++ {
		name := seedModelName(m)
		n := z.VersionsPerModel
		// Each model starts somewhere in the first fifth of the history.
		start := historyStart.Add(time.Duration(rng.Int63n(int64(span/5) + 1)))
		step := now.Add(-time.Minute).Sub(start) / time.Duration(max(n, 1))
		acc := 0.70 + rng.Float64()*0.1
		deleteAt := -1
		if m == 1 || m == 2 {
			deleteAt = n / 2
		}
		for r := 0; r < n; r++ {
			at := start.Add(time.Duration(r)*step + time.Duration(rng.Int63n(int64(step/2)+1))).Truncate(time.Second)
			if m == 0 && r == n-1 {
				at = now.Add(-10 * time.Second).Truncate(time.Second)
			}
			if r == deleteAt {
				for _, f := range []string{"model.safetensors", "config.json"} {
					events = append(events, seedEvent{at: at, key: prefix + name + "/" + f, delete: true})
				}
				at = at.Add(step / 3).Truncate(time.Second)
			}
			acc += (rng.Float64() - 0.3) * 0.01
			acc = min(acc, 0.995)
			commit := fmt.Sprintf("%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32())
			metrics := `{"accuracy":` + strconv.FormatFloat(acc, 'f', 4, 64) + `,"loss":` +
				strconv.FormatFloat((1-acc)*1.7, 'f', 4, 64) + `}`
			meta := metaOf(map[string]string{"metrics": metrics, "git-commit": commit, "revision": strconv.Itoa(r + 1)})
			size := int64(z.ObjectBytes/2 + rng.Intn(z.ObjectBytes+1))
			body := synthBody(rng.Uint64()|1, size)
			events = append(events, seedEvent{at: at, key: prefix + name + "/model.safetensors", body: body,
				meta: meta, ctype: "application/octet-stream"})
			cfgBody := []byte(`{"model":"` + name + `","revision":` + strconv.Itoa(r+1) + `,"git_commit":"` + commit +
				`","metrics":` + metrics + "}\n")
			events = append(events, seedEvent{at: at.Add(time.Second), key: prefix + name + "/config.json",
				body: bytesBody(cfgBody), etag: md5ETag(cfgBody), meta: meta, ctype: "application/json"})
			if m == 0 && r == n/3 {
				// A delete marker in the same second as the version it
				// hides, then the key re-created a second later.
				events = append(events,
					seedEvent{at: at.Add(time.Second), key: prefix + name + "/config.json", delete: true},
					seedEvent{at: at.Add(2 * time.Second), key: prefix + name + "/config.json",
						body: bytesBody(cfgBody), etag: md5ETag(cfgBody), meta: meta, ctype: "application/json"})
			}
		}
	}
	// Writes happen in time order across models; ties keep generation order.
	slices.SortStableFunc(events, func(a, b seedEvent) int { return a.at.Compare(b.at) })

	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.buckets[n.ModelBucket]
	src.tags = map[string]string{roleTag: "model-artifacts", rpoTag: "1h", rtoTag: "30m"}
	if r := s.buckets[n.ReplicaBucket]; r != nil {
		r.tags = map[string]string{roleTag: "replica"}
	}
	src.replication = cfg
	hdr := map[string]*contentHeaders{}
	for i := range events {
		ev := &events[i]
		if ev.delete {
			s.deleteLocked(src, ev.key, ev.at)
			continue
		}
		if ev.etag == "" {
			ev.etag = bodyETag(ev.body)
		}
		h := hdr[ev.ctype]
		if h == nil {
			h = &contentHeaders{contentType: ev.ctype}
			hdr[ev.ctype] = h
		}
		v := &s3Version{modified: ev.at, size: ev.body.len(), etag: ev.etag, body: ev.body, meta: ev.meta, headers: h}
		s.putLocked(src, ev.key, v, ev.at)
	}
	s.repl.materialize(s, now)
	return nil
}
