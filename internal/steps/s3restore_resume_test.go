package steps_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/zclconf/go-cty/cty"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/journal"
	"github.com/drconsole/drconsole/internal/runbook"
	"github.com/drconsole/drconsole/internal/steps"
	"github.com/drconsole/drconsole/internal/testutil/s3versions"
)

// restoreRunbook restores bucket b's prefix p/ one key at a time, with
// retries as given, and outputs the step's counts.
func restoreRunbook(t *testing.T, b, retry string, clients awsx.ClientSource) *runbook.Runbook {
	t.Helper()
	src := fmt.Sprintf(`
variable "restore_to" {
  type = string
}

step "s3_restore" "models" {
  bucket      = %q
  prefix      = "p/"
  to_time     = var.restore_to
  concurrency = 1
  %s
}

output "copied"    { value = step.s3_restore.models.copied }
output "deleted"   { value = step.s3_restore.models.deleted }
output "unchanged" { value = step.s3_restore.models.unchanged }
`, b, retry)
	rb, diags := runbook.Parse(map[string][]byte{"restore.hcl": []byte(src)}, steps.Registry(steps.Deps{AWS: clients}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return rb
}

// journalled runs rb with its events journalled in store under id (a new
// journal, or appended to for a resume), as the run service does, with
// each event also handed to watch.
func journalled(t *testing.T, ctx context.Context, store *journal.Store, id string, rb *runbook.Runbook, opts runbook.Options, watch func(runbook.Event)) *runbook.Result {
	t.Helper()
	open := store.Create
	if opts.Resume != nil {
		open = store.Append
	}
	w, err := open(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	opts.RunID, opts.AutoApprove = id, true
	opts.Sink = runbook.SinkFunc(func(e runbook.Event) error {
		if err := w.Emit(e); err != nil {
			return err
		}
		watch(e)
		return nil
	})
	opts.EarlierLogs = func(node string, fn func(string) error) error { return store.EarlierLogs(id, node, fn) }
	return runbook.Execute(ctx, rb, opts)
}

// outputCounts reads the runbook outputs copied, deleted and unchanged.
func outputCounts(res *runbook.Result) map[string]int64 {
	out := map[string]int64{}
	for _, k := range []string{"copied", "deleted", "unchanged"} {
		if v, ok := res.Outputs[k]; ok && v.IsKnown() && !v.IsNull() {
			out[k], _ = v.AsBigFloat().Int64()
		}
	}
	return out
}

// journalledRestore is the edge-case scenario in bucket b of a sandbox,
// and a state directory with a new run's id.
type journalledRestore struct {
	be    *backend
	h     *history
	at    time.Time
	want  map[string]int64
	store *journal.Store
	id    string
}

func newJournalledRestore(t *testing.T, b string) *journalledRestore {
	t.Helper()
	ctx := t.Context()
	jr := &journalledRestore{be: sandboxBackend(t)}
	createBuckets(t, ctx, jr.be.client, b)
	at, hist := play(t, ctx, jr.be, base, pitrScenario(b))
	jr.at, jr.h = at, hist[b]
	jr.want = wantCounts(jr.h.atT, jr.h.now, pitrPrefix)
	var err error
	if jr.store, err = journal.OpenStore(filepath.Join(t.TempDir(), "state")); err != nil {
		t.Fatal(err)
	}
	if jr.id, err = journal.NewRunID(time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	return jr
}

// vars are the runbook's variables: T.
func (jr *journalledRestore) vars() map[string]cty.Value {
	return map[string]cty.Value{"restore_to": cty.StringVal(jr.at.Format(time.RFC3339Nano))}
}

// A restore cancelled after a few keys and resumed through runbook.Execute
// outputs the counts of the whole run, not of the resumed part: the
// resumed attempt reads the records of the first from the journal.
func TestS3RestoreResumedOutputsCountTheWholeRun(t *testing.T) {
	ctx := t.Context()
	const b = "pitr-resumed"
	jr := newJournalledRestore(t, b)
	be, h, want, store, id, vars := jr.be, jr.h, jr.want, jr.store, jr.id, jr.vars()
	rb := restoreRunbook(t, b, "", sandboxClients(t, be))
	before := s3versions.List(t, ctx, be.client, b, pitrPrefix)

	// The first run is cancelled once five keys are restored, as Ctrl-C
	// would.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	records := map[int]int{} // run -> records logged
	count := func(run int) func(runbook.Event) {
		return func(e runbook.Event) {
			if e.Kind != runbook.StepLog || !strings.HasPrefix(e.Line, "{") {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			records[run] += strings.Count(e.Line, "\n") + 1
			if run == 1 && records[run] >= 5 {
				cancel(errors.New("operator pressed ctrl-c"))
			}
		}
	}
	res := journalled(t, runCtx, store, id, rb, runbook.Options{Vars: vars}, count(1))
	if res.Status == runbook.StatusSucceeded {
		t.Fatal("the cancelled run succeeded")
	}
	run, err := store.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	rs := run.Resume
	res = journalled(t, ctx, store, id, rb, runbook.Options{Vars: vars, Resume: &rs}, count(2))
	if res.Status != runbook.StatusSucceeded {
		t.Fatalf("resume: %s: %v", res.Status, res.Err)
	}
	if changes := want["copied"] + want["deleted"]; int64(records[2]) >= changes || int64(records[1]+records[2]) < changes {
		t.Errorf("the runs wrote %d and %d records for %d changes: want the resume to do only what was left", records[1], records[2], changes)
	}
	if got := outputCounts(res); got["copied"] != want["copied"] || got["deleted"] != want["deleted"] || got["unchanged"] != want["unchanged"] {
		t.Errorf("resumed run's outputs %v, want the whole run's %v", got, want)
	}
	// Between them the two runs' records name every version they added,
	// that of a write cut short by the cancellation included.
	var rec recorder
	evs, err := store.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]writeRecord{}
	for _, e := range evs {
		if e.Kind == runbook.StepLog {
			rec.lines = []string{e.Line}
			for k, r := range rec.records(t) {
				if r.Error == "" || last[k].NewVersion == "" {
					last[k] = r
				}
			}
		}
	}
	checkNamesEveryVersion(t, before, s3versions.List(t, ctx, be.client, b, pitrPrefix), last, nil)
	sameObjects(t, "prefix after the resume", currentObjects(t, ctx, be.client, b, pitrPrefix), expected(h.atT, pitrPrefix, pitrPrefix))
}

// refuseOnce refuses the first copy of each key refuse picks, as a store
// denying it would; the retry copies it.
type refuseOnce struct {
	awsx.ClientSource
	refuse  func(key string) bool
	mu      sync.Mutex
	refused map[string]bool
}

func (c *refuseOnce) S3(ctx context.Context, region string) (*s3.Client, error) {
	cl, err := c.ClientSource.S3(ctx, region)
	if err != nil {
		return nil, err
	}
	return withStack(cl, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("refuseOnce",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if ci, ok := in.Parameters.(*s3.CopyObjectInput); ok && c.refuse(aws.ToString(ci.Key)) {
					c.mu.Lock()
					first := !c.refused[aws.ToString(ci.Key)]
					c.refused[aws.ToString(ci.Key)] = true
					c.mu.Unlock()
					if first {
						return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "refused by the test"}
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}), nil
}

// A restore whose first attempt fails some keys and whose retry (the
// step's retry block) restores them outputs the counts of both attempts.
func TestS3RestoreRetriedOutputsCountEveryAttempt(t *testing.T) {
	const b = "pitr-retried"
	jr := newJournalledRestore(t, b)
	clients := &refuseOnce{ClientSource: sandboxClients(t, jr.be), refused: map[string]bool{},
		refuse: func(k string) bool { return strings.HasPrefix(k, "p/with") || strings.HasPrefix(k, "p/zero") }}
	rb := restoreRunbook(t, b, `retry {
    attempts = 2
    backoff  = "1ms"
  }`, clients)
	var retried int
	res := journalled(t, t.Context(), jr.store, jr.id, rb, runbook.Options{Vars: jr.vars()},
		func(e runbook.Event) {
			if e.Kind == runbook.StepRetried {
				retried++
			}
		})
	if res.Status != runbook.StatusSucceeded || retried != 1 {
		t.Fatalf("run: %s after %d retries: %v", res.Status, retried, res.Err)
	}
	if got, want := outputCounts(res), jr.want; got["copied"] != want["copied"] || got["deleted"] != want["deleted"] || got["unchanged"] != want["unchanged"] {
		t.Errorf("outputs %v after a retry, want both attempts' %v", got, want)
	}
}
