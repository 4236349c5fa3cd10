package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/drconsole/drconsole/internal/runbook"
)

func TestStale(t *testing.T) {
	now := fixedNow
	cases := []struct {
		name    string
		epoch   int
		changes int
		at      time.Time
		want    bool
	}{
		{"just read", 0, 0, now, false},
		{"within freshFor", 0, 0, now.Add(-freshFor), false},
		{"older than freshFor", 0, 0, now.Add(-freshFor - time.Second), true},
		{"read before a run ended, at once", 0, 1, now, true},
		{"read after the last run ended", 2, 2, now, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &env{opts: &Options{Now: func() time.Time { return now }}, changes: c.changes}
			if got := e.stale(c.epoch, c.at); got != c.want {
				t.Fatalf("stale = %v, want %v", got, c.want)
			}
		})
	}
}

func TestGridKeepsCursorByID(t *testing.T) {
	rows := []string{"a", "b", "c"}
	g := newGrid(column{title: "NAME", width: 4})
	set := func(rs []string) {
		g.setSourceByID(len(rs), func(i int) []string { return []string{rs[i]} }, func(i int) string { return rs[i] })
	}
	set(rows)
	g.move(1) // on b
	set([]string{"new", "a", "b", "c"})
	if g.cursor != 2 {
		t.Fatalf("cursor on row %d after a row was added above, want 2 (b)", g.cursor)
	}
	set([]string{"c", "new", "a"}) // b is gone: the row number stays
	if g.cursor != 2 {
		t.Fatalf("cursor on row %d after its item went, want it kept at 2", g.cursor)
	}
	g.setFilter("a")
	set([]string{"x", "a"})
	if g.selected() != 1 {
		t.Fatalf("filtered cursor on source row %d, want 1 (a)", g.selected())
	}
}

// calls counts the sandbox's answers to op.
func calls(h *harness, op string) int {
	n := 0
	for _, r := range h.srv.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

// setDesired changes the DR group's desired capacity behind the console.
func setDesired(t *testing.T, h *harness, n int32) {
	t.Helper()
	c, err := h.m.env.opts.Clients.AutoScaling(context.Background(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDesiredCapacity(context.Background(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String("ai-inference-dr"), DesiredCapacity: aws.Int32(n)}); err != nil {
		t.Fatal(err)
	}
}

// drRow is the Fleet view's line of the DR group.
func drRow(h *harness) string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, "ai-inference-dr ") && strings.Contains(l, "dr-fleet") {
			return strings.Join(strings.Fields(l), " ")
		}
	}
	return ""
}

func TestEnteringAStaleViewReadsItAgain(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("5")
	h.waitScreen("ai-inference-dr")
	read := calls(h, "DescribeAutoScalingGroups")
	setDesired(t, h, 3)

	// Within freshFor, switching back and forth reads nothing.
	h.clock.Advance(4 * time.Second)
	h.keys("1", "5")
	if n := calls(h, "DescribeAutoScalingGroups"); n != read {
		t.Fatalf("entering a fresh view read the groups again (%d calls, had %d)", n, read)
	}
	if !strings.Contains(drRow(h), "0 0 8") || !strings.Contains(h.screen(), "as of 4s ago") {
		t.Fatalf("fresh view changed or does not say its age:\n%s", h.screen())
	}

	// Older: entering reads again, and the age starts over.
	h.clock.Advance(2 * time.Second)
	h.keys("1", "5")
	if n := calls(h, "DescribeAutoScalingGroups"); n == read {
		t.Fatal("entering a view 6s old did not read it again")
	}
	if row := drRow(h); !strings.Contains(row, "0 3 8") {
		t.Fatalf("Fleet shows %q after entering it stale, want desired 3:\n%s", row, h.screen())
	}
	if !strings.Contains(h.screen(), "as of 0s ago") {
		t.Fatalf("no age next to the fresh data:\n%s", h.screen())
	}
}

func TestRunEndRefreshesTheEstate(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("5")
	h.waitScreen("ai-inference-dr")
	if row := drRow(h); !strings.Contains(row, "0 0 8") {
		t.Fatalf("DR group before the run: %q", row)
	}
	openScaleRunbook(h)
	h.keys("x")
	h.waitScreen("Gate gate.scale")
	// One decision: the gate shows the scale-up and confirms it.
	h.clock.Advance(time.Second)
	approve(h, "ai-inference-dr@us-west-2")
	// The Overview is on screen while the instances warm up and the run
	// ends; nothing reads it again but the run's end (no periodic
	// refresh runs in tests).
	h.keys("1")
	h.waitFor("the run to end", func() bool {
		h.clock.Advance(time.Second)
		return h.m.run.Status != ""
	})
	h.settle()
	if h.m.run.Status != runbook.StatusSucceeded {
		t.Fatalf("run %s", h.m.run.Status)
	}
	// The read the run's end started answers in its own time.
	h.waitScreen("desired 2  InService 2")
	// Fleet shows the new capacity on entry, without r.
	h.keys("5")
	if row := drRow(h); !strings.Contains(row, "0 2 8 2") {
		t.Fatalf("Fleet after the failover shows %q, want desired 2 and 2 up:\n%s", row, h.screen())
	}
}

// A run's end makes what was read before it stale at once, whatever its
// age: the next entry reads again.
func TestRunEndMakesEveryViewStale(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("5")
	h.waitScreen("ai-inference-dr")
	setDesired(t, h, 3)
	h.keys("1")
	h.m.estateChanged(true) // a dry run changes nothing
	h.keys("5")
	if row := drRow(h); !strings.Contains(row, "0 0 8") {
		t.Fatalf("a dry run's end made Fleet read again: %q", row)
	}
	h.keys("1")
	h.run(h.m.estateChanged(false))
	h.settle()
	h.keys("5")
	if row := drRow(h); !strings.Contains(row, "0 3 8") {
		t.Fatalf("Fleet entered after a run ended shows %q, want desired 3", row)
	}
}

// putVersion writes a new current version of key behind the console.
func putVersion(t *testing.T, h *harness, bucket, key string) {
	t.Helper()
	c, err := h.m.env.opts.Clients.S3(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("retrained"), Metadata: map[string]string{"git-commit": "0badc0de"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshKeepsTheTimelinesPlace(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("2", "enter", "enter", "enter", "down", "enter")
	h.waitScreen("25 versions")
	v := h.m.views[viewModels].(*modelsView)
	tl := v.tl
	h.keys("j", "j", "j", "c")
	marked := tl.mark
	h.keys("j", "c")
	h.waitScreen("Compare")
	cur := tl.versions[tl.g.selected()]

	// A new version lands on top, moving every row down one.
	putVersion(t, h, tl.bucket, cur.Key)
	h.clock.Advance(30 * time.Second)
	h.send(refreshMsg{}) // the periodic refresh
	h.settle()
	h.waitScreen("26 versions")
	if tl != v.tl {
		t.Fatal("the refresh opened a new timeline")
	}
	if got := tl.versions[tl.g.selected()]; got.VersionID != cur.VersionID {
		t.Fatalf("cursor on %s after the refresh, want %s (row %d)", got.VersionID, cur.VersionID, tl.g.cursor)
	}
	if tl.g.cursor != 5 {
		t.Fatalf("cursor on row %d, want 5: one row lower, as its version is", tl.g.cursor)
	}
	if tl.mark != marked || !tl.compare || !strings.Contains(h.screen(), "Compare") {
		t.Fatalf("mark %q compare %v after the refresh, want %q compared:\n%s", tl.mark, tl.compare, marked, h.screen())
	}
	if !strings.Contains(h.screen(), "as of 0s ago") {
		t.Fatalf("the timeline does not say its age:\n%s", h.screen())
	}

	// A marked version that is gone is no longer spoken of.
	if !strings.Contains(h.screen(), "marked "+marked) {
		t.Fatalf("no mark on the status line:\n%s", h.screen())
	}
	c, err := h.m.env.opts.Clients.S3(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(tl.bucket), Key: aws.String(cur.Key),
		VersionId: aws.String(marked)}); err != nil {
		t.Fatal(err)
	}
	h.send(refreshMsg{})
	h.settle()
	h.waitScreen("25 versions")
	if tl.mark != "" || tl.compare {
		t.Fatalf("the mark of a deleted version stayed: %q", tl.mark)
	}
	if s := h.screen(); strings.Contains(s, "press c to compare") || !strings.Contains(s, "no longer in the history") {
		t.Fatalf("the status line speaks of a mark that is gone:\n%s", s)
	}
	if got := tl.versions[tl.g.selected()]; got.VersionID != cur.VersionID {
		t.Fatalf("cursor on %s after a version above it went, want %s", got.VersionID, cur.VersionID)
	}
}

// After a roll back, the Models timeline shows the new current version on
// entry, its cursor where it was.
func TestRollbackRefreshesTheTimeline(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("2", "enter", "enter", "enter", "down", "enter", "j")
	h.waitScreen("○ earlier version")
	tl := h.m.views[viewModels].(*modelsView).tl
	want := tl.versions[tl.g.selected()]
	h.keys("R")
	h.waitScreen("Gate step.model_rollback.artifact")
	h.clock.Advance(time.Second)
	approve(h, tl.bucket+"/"+want.Key)
	h.waitScreen("run SUCCEEDED")
	h.keys("2")
	h.waitScreen("26 versions")
	if got := tl.versions[tl.g.selected()]; got.VersionID != want.VersionID {
		t.Fatalf("cursor on %s after the roll back, want %s", got.VersionID, want.VersionID)
	}
	if top := tl.versions[0]; !top.IsLatest || top.VersionID == want.VersionID {
		t.Fatalf("the newest version is not the roll back's new current one: %+v", top)
	}
}

func TestRefreshKeepsThePrefixListingsPlace(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("2", "enter", "enter")
	h.waitScreen("s3://ai-model-artifacts/models/")
	v := h.m.views[viewModels].(*modelsView)
	h.keys("j")
	was := v.entries[v.list.selected()].Key
	putVersion(t, h, "ai-model-artifacts", "models/a-new-model/weights.bin")
	h.keys("r")
	h.waitScreen("3/5")
	if got := v.entries[v.list.selected()].Key; got != was || v.list.cursor != 2 {
		t.Fatalf("cursor on %s (row %d) after the refresh, want %s, one row lower", got, v.list.cursor, was)
	}
}

// What a pane showed stays on screen, with its age, while it is read
// again: a refresh never blanks it.
func TestRefreshKeepsThePaneWhileReading(t *testing.T) {
	h := newHarness(t, 120, 40, nil)
	h.keys("5")
	h.waitScreen("ai-inference-dr")
	h.clock.Advance(40 * time.Second)
	h.send(keyMsg("r")) // its reads are in flight until the harness settles
	s := h.screen()
	if !strings.Contains(drRow(h), "0 0 8") || strings.Contains(s, "  loading…") || !strings.Contains(s, "as of 40s ago, refreshing…") {
		t.Fatalf("the pane being read again does not show its data and age:\n%s", s)
	}
	h.settle()
	if !strings.Contains(h.screen(), "as of 0s ago") {
		t.Fatalf("no new age after the refresh:\n%s", h.screen())
	}
}
