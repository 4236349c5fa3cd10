package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

// goldenViews are the screens checked at every size: a name and the keys
// that lead there from the Overview.
var goldenViews = []struct {
	name string
	keys []string
}{
	{"overview", nil},
	{"help", []string{"?"}},
	{"models", []string{"2"}},
	{"models-prefix", []string{"2", "enter", "enter"}},
	{"models-timeline", []string{"2", "enter", "enter", "enter", "down", "enter"}},
	{"models-compare", []string{"2", "enter", "enter", "enter", "down", "enter", "c", "j", "j", "c"}},
	{"models-prefix-timeline", []string{"2", "enter", "t"}},
	{"points", []string{"3"}},
	{"points-resource", []string{"3", "enter"}},
	{"points-vaults", []string{"3", "v"}},
	{"replication", []string{"4"}},
	{"fleet", []string{"5"}},
	{"runbooks", []string{"6"}},
	{"runs", []string{"7"}},
	{"apilog", []string{"8", "/", "s", "t", "s", "enter"}},
	{"volumes", []string{"9"}},
	{"command", []string{":", "r", "e", "p"}},
	{"filter", []string{"3", "/", "E", "F", "S"}},
}

func TestGoldenViews(t *testing.T) {
	fx := newFixture(t)
	for _, sz := range sizes {
		for _, gv := range goldenViews {
			name := fmt.Sprintf("%s-%dx%d", gv.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				h := newHarnessOn(t, fx, sz.w, sz.h, nil)
				h.keys(gv.keys...)
				h.golden(name)
			})
		}
	}
}

// TestGoldenRunFlow checks the Runbooks form, plan, finished run and the
// Runs view of that run, at every size.
func TestGoldenRunFlow(t *testing.T) {
	fx := newFixture(t)
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			h := newHarnessOn(t, fx, sz.w, sz.h, nil)
			suffix := fmt.Sprintf("-%dx%d", sz.w, sz.h)
			h.keys("6")
			h.waitScreen("approve")
			h.keys("enter")
			h.waitScreen("Variables")
			h.golden("runbooks-form" + suffix)
			h.keys("enter")
			h.waitScreen("plan SUCCEEDED")
			h.golden("runbooks-plan" + suffix)
			// Run ids start with the time: a second later sorts the run
			// before the plan.
			h.clock.Advance(time.Second)
			h.keys("x")
			h.waitScreen("Type go and press enter")
			h.clock.Advance(time.Second)
			approve(h, "go")
			h.waitScreen("run SUCCEEDED")
			h.golden("runbooks-run" + suffix)
			h.keys("7")
			// Both the plan and the run: the plan alone also reads
			// succeeded, until the run's end is read too.
			h.waitScreen("1/2")
			h.golden("runs-list" + suffix)
			h.keys("enter")
			h.waitScreen("by tester")
			h.golden("runs-open" + suffix)
		})
	}
}

func TestGridSortsByValue(t *testing.T) {
	rows := [][]string{{"b", "1,200"}, {"a", "30"}, {"c", "4"}}
	g := newGrid(column{title: "NAME", width: 4}, column{title: "N", width: 6})
	g.setSource(len(rows), func(i int) []string { return rows[i] })
	g.cycleSort() // by NAME
	if got := []int{g.at(0), g.at(1), g.at(2)}; got[0] != 1 || got[1] != 0 || got[2] != 2 {
		t.Fatalf("by name: %v", got)
	}
	g.cycleSort() // by N, as numbers
	if got := []int{g.at(0), g.at(1), g.at(2)}; got[0] != 2 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("by number: %v", got)
	}
	g.reverse()
	if g.at(0) != 0 {
		t.Fatalf("reversed: first is %d", g.at(0))
	}
	g.setFilter("a")
	if g.len() != 1 || g.at(0) != 1 {
		t.Fatalf("filter kept %d rows", g.len())
	}
}

// TestGoldenHeaders checks the header on AWS (account id from STS, the
// profile, the regions) and in read-only mode: the sandbox behind a proxy
// that answers as AWS does, without the sandbox's own header.
func TestGoldenHeaders(t *testing.T) {
	fx := newFixture(t)
	fx.answerAsAWS(t)
	h := newHarnessOn(t, fx, 80, 24, func(o *Options) { o.Target, o.Profile, o.ReadOnly = "aws", "prod", true })
	h.golden("header-aws-readonly-80x24")
	h = newHarnessOn(t, fx, 120, 40, func(o *Options) { o.Target, o.Profile = "aws", "prod" })
	h.golden("header-aws-120x40")
}

// A console whose target is AWS (the credentials `drconsole sandbox`
// prints are in the environment) but whose endpoint is a sandbox badges
// it SANDBOX: the sandbox's answer says what it is, not the flags or URL.
func TestSandboxBehindAnAWSTargetIsBadgedSandbox(t *testing.T) {
	h := newHarness(t, 120, 40, func(o *Options) { o.Target, o.Profile = "aws", "prod" })
	h.waitScreen(" SANDBOX ")
	if head := strings.SplitN(h.screen(), "\n", 2)[0]; strings.Contains(head, "AWS") {
		t.Fatalf("header badges a sandbox as AWS: %s", head)
	}
}
