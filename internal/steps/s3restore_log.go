package steps

import (
	"encoding/json"
	"hash/maphash"
	"strings"

	"github.com/drconsole/drconsole/internal/pitr"
	"github.com/drconsole/drconsole/internal/runbook"
)

// maxLogBatch bounds how many key records share one log line.
const maxLogBatch = 500

// restoreLog writes a restore's per-key records to the step's log from one
// goroutine. The engine syncs the journal to disk on every line, which
// takes about a millisecond: one line per key would cap a restore at a
// thousand keys a second whatever the store does. So records that arrive
// while a line is being written are grouped into the next line (one JSON
// object per record, separated by newlines): with a fast journal each line
// holds one record, with a slow one the lines grow instead of the restore
// slowing down. Progress is reported from the same goroutine.
type restoreLog struct {
	sc    *runbook.StepContext
	tally *restoreTally
	recs  chan restoreRecord
	kick  chan struct{}
	done  chan struct{}
}

func startRestoreLog(sc *runbook.StepContext, tally *restoreTally) *restoreLog {
	l := &restoreLog{sc: sc, tally: tally, recs: make(chan restoreRecord, 4*maxLogBatch),
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// add queues a key's record.
func (l *restoreLog) add(rec restoreRecord) { l.recs <- rec }

// progress asks for a progress report, without waiting for it.
func (l *restoreLog) progress() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// close writes what is queued and the final progress, and returns when
// both are written.
func (l *restoreLog) close() {
	close(l.recs)
	<-l.done
}

func (l *restoreLog) run() {
	defer close(l.done)
	for {
		select {
		case rec, ok := <-l.recs:
			if !ok {
				l.report()
				return
			}
			batch := []restoreRecord{rec}
		more:
			for len(batch) < maxLogBatch {
				select {
				case r, ok := <-l.recs:
					if !ok {
						break more
					}
					batch = append(batch, r)
				default:
					break more
				}
			}
			l.write(batch)
			l.report()
		case <-l.kick:
			l.report()
		}
	}
}

func (l *restoreLog) write(batch []restoreRecord) {
	if l.sc == nil || l.sc.Log == nil {
		return
	}
	lines := make([]string, len(batch))
	for i, rec := range batch {
		b, _ := json.Marshal(rec)
		lines[i] = string(b)
	}
	l.sc.Log(strings.Join(lines, "\n"))
}

func (l *restoreLog) report() {
	progress(l.sc, l.tally.done(), l.tally.decided.Load(), "objects")
}

// earlierWrites are the keys the step's earlier attempts changed (a retry,
// or the attempts of a resumed run), read back from their records: a key
// such an attempt restored is already in its state at T when this attempt
// lists it, and counts as what that attempt did, not as unchanged, so the
// outputs cover the whole run. Keys are held by a 64-bit hash, a word per
// key, since a restore of millions of keys may be resumed halfway.
//
// A key whose earlier write failed (its record carries an error) and which
// is now in its state at T was written after all: a write cut short by a
// cancellation or a crash that S3 applied when nobody was listening, since
// nobody else writes the prefix during a restore. This attempt counts it
// and records it, naming the version that write left (now current), so the
// journal names it too.
type earlierWrites struct {
	seed   maphash.Seed
	done   map[uint64]pitr.Action
	failed map[uint64]restoreRecord
}

// readEarlierWrites reads the records of sc's earlier attempts; nothing
// when there were none.
func readEarlierWrites(sc *runbook.StepContext) (*earlierWrites, error) {
	w := &earlierWrites{seed: maphash.MakeSeed(), done: map[uint64]pitr.Action{}, failed: map[uint64]restoreRecord{}}
	if sc == nil || sc.Earlier == nil {
		return w, nil
	}
	err := sc.Earlier(func(line string) error {
		if !strings.HasPrefix(line, "{") {
			return nil
		}
		for _, text := range strings.Split(line, "\n") {
			var rec restoreRecord
			if json.Unmarshal([]byte(text), &rec) != nil || rec.Key == "" {
				continue
			}
			var a pitr.Action
			switch rec.Action {
			case pitr.Copy.String():
				a = pitr.Copy
			case pitr.Delete.String():
				a = pitr.Delete
			default:
				continue
			}
			h := maphash.String(w.seed, rec.Key)
			switch _, done := w.done[h]; {
			case rec.Error == "":
				w.done[h] = a
				delete(w.failed, h)
			case !done:
				// Only what is needed to record the write if it landed.
				w.failed[h] = restoreRecord{Action: rec.Action, PreviousVersion: rec.PreviousVersion, PreviousState: rec.PreviousState,
					SourceKey: rec.SourceKey, SourceVersion: rec.SourceVersion}
			}
		}
		return nil
	})
	return w, err
}

// keep is what an earlier attempt did to a key this attempt finds in its
// state at T (d, a Keep decision): Copy or Delete when it wrote the key,
// Keep when it did not. landed is set, with the record to log, when the
// earlier write failed as far as that attempt could tell but is what put
// the key in its state.
func (w *earlierWrites) keep(d pitr.Decision) (a pitr.Action, landed *restoreRecord) {
	if len(w.done) == 0 && len(w.failed) == 0 {
		return pitr.Keep, nil
	}
	h := maphash.String(w.seed, d.TargetKey)
	if a, ok := w.done[h]; ok {
		return a, nil
	}
	rec, ok := w.failed[h]
	if !ok || !d.Current.Exists() || d.Current.VersionID == rec.PreviousVersion {
		return pitr.Keep, nil
	}
	rec.Key, rec.NewVersion = d.TargetKey, d.Current.VersionID
	if rec.Action == pitr.Copy.String() {
		return pitr.Copy, &rec
	}
	return pitr.Delete, &rec
}
