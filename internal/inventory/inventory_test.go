package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/inventory"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
)

// fixedNow is the clock the seeded estate is built around.
var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func start(t *testing.T) (*sandbox.Server, awsx.ClientSource) {
	t.Helper()
	srv, cfg := sandboxtest.Start(t, sandbox.Options{Seed: 1, Clock: func() time.Time { return fixedNow }})
	c, err := awsx.New(awsx.Options{Target: awsx.TargetSandbox, SandboxEndpoint: srv.URL(), Credentials: cfg.Credentials})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestModelReads(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()

	buckets, err := inventory.Buckets(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range buckets {
		if b.Name == "ai-model-artifacts" {
			found = b.Versioned
		}
		if b.Name == "ai-model-artifacts-dr" {
			t.Errorf("the replica in us-west-2 is listed in us-east-1")
		}
	}
	if !found {
		t.Fatalf("versioned model bucket missing from %+v", buckets)
	}
	names, err := inventory.BucketNames(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(buckets) {
		t.Fatalf("bucket names %v, buckets %+v", names, buckets)
	}
	for i, n := range names {
		if n != buckets[i].Name {
			t.Fatalf("bucket names %v, buckets %+v", names, buckets)
		}
	}

	entries, err := inventory.Prefixes(ctx, c, "us-east-1", "ai-model-artifacts", "models/")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 || !entries[0].IsPrefix {
		t.Fatalf("models/ should hold one prefix per model, got %+v", entries)
	}

	// Paging with small pages gives the same entries in the same order as
	// one big page.
	all, err := inventory.Versions(ctx, c, "us-east-1", "ai-model-artifacts", "models/", nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var paged []inventory.Version
	var from *inventory.VersionMarker
	pages := 0
	for {
		p, err := inventory.Versions(ctx, c, "us-east-1", "ai-model-artifacts", "models/", from, 17)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		paged = append(paged, p.Versions...)
		if p.Next == nil {
			break
		}
		from = p.Next
	}
	if all.Next != nil || len(paged) != len(all.Versions) || pages < 2 {
		t.Fatalf("paged %d entries in %d pages, one page %d (truncated %v)", len(paged), pages, len(all.Versions), all.Next != nil)
	}
	latest := map[string]int{}
	for i, v := range paged {
		if v != all.Versions[i] {
			t.Fatalf("entry %d differs: %+v vs %+v", i, v, all.Versions[i])
		}
		if i > 0 {
			p := paged[i-1]
			if p.Key > v.Key || (p.Key == v.Key && p.LastModified.Before(v.LastModified)) {
				t.Fatalf("entries %d and %d out of order: %+v, %+v", i-1, i, p, v)
			}
		}
		if v.IsLatest {
			latest[v.Key]++
		}
	}
	for k, n := range latest {
		if n != 1 {
			t.Errorf("%s has %d current entries", k, n)
		}
	}

	var v inventory.Version
	for _, x := range all.Versions {
		if !x.DeleteMarker {
			v = x
			break
		}
	}
	d, err := inventory.Detail(ctx, c, "us-east-1", "ai-model-artifacts", v.Key, v.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Metadata["metrics"] == "" || d.Metadata["git-commit"] == "" || d.VersionID != v.VersionID {
		t.Errorf("detail of %s lacks user metadata: %+v", v.Key, d)
	}
}

func TestRecoveryReads(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	vaults, err := inventory.Vaults(ctx, c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(vaults) != 1 || vaults[0].Name != "ai-dr-vault" {
		t.Fatalf("vaults: %+v", vaults)
	}
	pts, err := inventory.RecoveryPoints(ctx, c, "us-east-1", "ai-dr-vault")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(pts)) != vaults[0].Points || len(pts) == 0 {
		t.Fatalf("%d points listed, vault says %d", len(pts), vaults[0].Points)
	}
	types := map[string]bool{}
	for i, p := range pts {
		types[p.ResourceType] = true
		if i > 0 && p.Created.After(pts[i-1].Created) {
			t.Fatalf("points not newest first at %d", i)
		}
	}
	for _, want := range []string{"EBS", "EFS", "S3"} {
		if !types[want] {
			t.Errorf("no %s recovery point in %v", want, types)
		}
	}
	res := inventory.ByResource(pts, fixedNow)
	for i, r := range res {
		if r.Newest.Status != "COMPLETED" || r.Age != fixedNow.Sub(r.Newest.Created) {
			t.Errorf("resource %s: newest %+v age %s", r.ResourceARN, r.Newest, r.Age)
		}
		if i > 0 && r.Age > res[i-1].Age {
			t.Errorf("resources not worst RPO first at %d", i)
		}
	}
}

func TestReplicationReads(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	rules, err := inventory.ReplicationRules(ctx, c, "us-east-1", "ai-model-artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].DestinationBucket != "ai-model-artifacts-dr" || rules[0].Status != "Enabled" {
		t.Fatalf("rules: %+v", rules)
	}
	rep, err := inventory.ReplicationSeries(ctx, c, "us-east-1", rules[0], fixedNow.Add(-6*time.Hour), fixedNow, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Latency.Values) == 0 || len(rep.Latency.Values) != len(rep.Latency.Times) {
		t.Fatalf("latency series: %+v", rep.Latency)
	}
	for i := 1; i < len(rep.Latency.Times); i++ {
		if rep.Latency.Times[i].Before(rep.Latency.Times[i-1]) {
			t.Fatalf("series not oldest first")
		}
	}
	if _, err := inventory.StuckObjects(ctx, c, "us-east-1", "ai-model-artifacts", "models/", 20, 15*time.Minute, fixedNow); err != nil {
		t.Fatal(err)
	}
	none, err := inventory.ReplicationRules(ctx, c, "us-west-2", "ai-model-artifacts-dr")
	if err != nil || len(none) != 0 {
		t.Fatalf("replica has rules %+v, err %v", none, err)
	}
}

func TestFleetAlarmsIdentity(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	groups, err := inventory.Groups(ctx, c, "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	// The DR fleet and the batch group beside it, sorted by name.
	if len(groups) != 2 || groups[0].Name != "ai-inference-dr" || groups[1].Name != "batch-workers" {
		t.Fatalf("groups: %+v", groups)
	}
	alarms, err := inventory.Alarms(ctx, c, "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, a := range alarms {
		kinds[a.Name] = a.Composite
	}
	if comp, ok := kinds["ai-inference-health"]; !ok || !comp {
		t.Errorf("composite alarm missing or not composite: %+v", alarms)
	}
	if comp, ok := kinds["ai-inference-dr-capacity"]; !ok || comp {
		t.Errorf("metric alarm missing: %+v", alarms)
	}
	id, err := inventory.CallerIdentity(ctx, c, "us-east-1")
	if err != nil || id.Account == "" || !id.Sandbox {
		t.Fatalf("identity %+v, %v; want the sandbox to say it is one", id, err)
	}
}

func TestNearestBefore(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 3, 0, 0, 0, time.UTC) }
	pts := []inventory.RecoveryPoint{
		{ARN: "p5", ResourceARN: "r", Status: "COMPLETED", Created: day(5)},
		{ARN: "p4", ResourceARN: "r", Status: "PARTIAL", Created: day(4)},
		{ARN: "p3", ResourceARN: "r", Status: "COMPLETED", Created: day(3)},
		{ARN: "o4", ResourceARN: "other", Status: "COMPLETED", Created: day(4)},
	}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{day(6), "p5"},
		{day(5), "p5"}, // inclusive
		{day(5).Add(-time.Second), "p3"},
		{day(4), "p3"}, // the PARTIAL point is skipped
		{day(2), ""},
	} {
		got, ok := inventory.NearestBefore(pts, "r", tc.at)
		if (tc.want == "") == ok || got.ARN != tc.want {
			t.Errorf("NearestBefore(%s) = %q, %v; want %q", tc.at, got.ARN, ok, tc.want)
		}
	}
}

func TestByResourceWithoutCompletedPoint(t *testing.T) {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	res := inventory.ByResource([]inventory.RecoveryPoint{
		{ResourceARN: "ok", Status: "COMPLETED", Created: now.Add(-time.Hour)},
		{ResourceARN: "bad", Status: "PARTIAL", Created: now.Add(-time.Minute)},
	}, now)
	if len(res) != 2 || res[0].ResourceARN != "bad" || !res[0].Newest.Created.IsZero() || res[1].Age != time.Hour {
		t.Fatalf("%+v", res)
	}
}

func TestSortVersionsSameSecond(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vs := []inventory.Version{
		{Key: "b", VersionID: "1", LastModified: t0},
		{Key: "a", VersionID: "old", LastModified: t0},
		{Key: "a", VersionID: "dm", LastModified: t0, DeleteMarker: true, IsLatest: true},
		{Key: "a", VersionID: "new", LastModified: t0.Add(time.Second)},
	}
	inventory.SortVersions(vs)
	got := ""
	for _, v := range vs {
		got += v.Key + v.VersionID + " "
	}
	if got != "anew adm aold b1 " {
		t.Fatalf("order %q", got)
	}
}

func TestVersionStreamMatchesPages(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	all, err := inventory.Versions(ctx, c, "us-east-1", "ai-model-artifacts", "models/", nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	read := func(size int32) ([]inventory.Version, int) {
		s, err := inventory.NewVersionStream(ctx, c, "us-east-1", "ai-model-artifacts", "models/", false, size)
		if err != nil {
			t.Fatal(err)
		}
		var got []inventory.Version
		pages := 0
		for more := true; more; {
			var page []inventory.Version
			page, more, err = s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, page...)
		}
		return got, pages
	}
	got, pages := read(13)
	one, _ := read(1000)
	if len(got) != len(all.Versions) || len(one) != len(got) || pages < 2 {
		t.Fatalf("stream gave %d entries in %d pages, %d in one page; listing %d", len(got), pages, len(one), len(all.Versions))
	}
	// Small pages keep the order of one page, same-second entries
	// included (which the SDK's split output cannot order).
	ids := map[string]bool{}
	for i := range got {
		if got[i] != one[i] {
			t.Fatalf("entry %d: %+v vs %+v", i, got[i], one[i])
		}
		ids[got[i].VersionID] = true
	}
	for _, v := range all.Versions {
		if !ids[v.VersionID] {
			t.Fatalf("the stream missed %+v", v)
		}
	}

	// One key: the versions of that key only.
	key := got[0].Key
	s, err := inventory.NewVersionStream(ctx, c, "us-east-1", "ai-model-artifacts", key, true, 5)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for more := true; more; {
		var page []inventory.Version
		page, more, err = s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page {
			if v.Key != key {
				t.Fatalf("exact stream of %s returned %s", key, v.Key)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no versions of %s", key)
	}
}
