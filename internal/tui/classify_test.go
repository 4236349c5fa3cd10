package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/sandbox"
	"github.com/drconsole/drconsole/internal/sandbox/sandboxtest"
	"github.com/drconsole/drconsole/internal/testutil/estatetest"
)

// lineWith returns the screen line holding s, or fails.
func lineWith(t *testing.T, screen, s string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line holds %q:\n%s", s, screen)
	return ""
}

// TestViewsClassifyByTagsOnAnotherEstate: on an estate seeded under other
// names, the views tell model storage, the DR fleet and dataset volumes
// from the rest by their drconsole:role tags alone, and say how to
// classify what they cannot.
func TestViewsClassifyByTagsOnAnotherEstate(t *testing.T) {
	clock := &testClock{}
	clock.Set(fixedNow)
	n := estatetest.AcmeNames()
	srv, _ := sandboxtest.Start(t, sandbox.Options{Seed: 1, Clock: clock.Now, Names: n})
	h := newHarnessOn(t, &fixture{srv: srv, clock: clock}, 140, 40, nil)

	h.keys("2")
	h.waitScreen(n.LogsBucket)
	s := h.screen()
	if !strings.Contains(lineWith(t, s, n.ModelBucket), "model-artifacts") {
		t.Errorf("model bucket not marked model-artifacts:\n%s", s)
	}
	if !strings.Contains(lineWith(t, s, n.LogsBucket), "? unclassified") {
		t.Errorf("logs bucket not marked unclassified:\n%s", s)
	}
	if strings.Index(s, n.ModelBucket) > strings.Index(s, n.LogsBucket) {
		t.Errorf("model bucket not listed first:\n%s", s)
	}
	lineWith(t, s, "1 bucket unclassified: list it in "+estate.FileName)

	h.keys("5")
	h.waitScreen(n.BatchGroup)
	s = h.screen()
	if !strings.Contains(lineWith(t, s, n.DRGroup), "dr-fleet") || !strings.Contains(lineWith(t, s, n.BatchGroup), "? unclassified") {
		t.Errorf("fleet roles wrong:\n%s", s)
	}

	h.keys("1")
	h.waitScreen("DR fleet")
	s = h.screen()
	if !strings.Contains(s, "1 other group, not DR fleet: "+n.BatchGroup) {
		t.Errorf("overview counts the batch group as DR fleet:\n%s", s)
	}

	h.keys("9")
	h.waitScreen("Snapshots in progress")
	s = h.screen()
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, n.DatasetTag+" (vol-") && !strings.Contains(l, "dataset") {
			t.Errorf("dataset volume without its role: %q", l)
		}
	}
	if l := lineWith(t, s, n.ScratchTag); !strings.Contains(l, "· no role") || !strings.Contains(l, "? unclassified") {
		t.Errorf("scratch volume line %q", l)
	}
	// AWS Backup's newest point of each dataset volume is named by its
	// vault; the seeded snapshot still being taken shows its progress.
	if !strings.Contains(lineWith(t, s, "✔ within"), "vault "+n.BackupVault) {
		t.Errorf("newest snapshot not from the vault:\n%s", s)
	}
	if l := lineWith(t, s, "◌ snap-"); !strings.Contains(l, "%") {
		t.Errorf("pending snapshot without progress: %q", l)
	}
}

// TestEstateFileWinsOverTags: what the estate file says of a resource
// overrides its tags, and a bucket declared model storage without
// versioning is shown as not protected.
func TestEstateFileWinsOverTags(t *testing.T) {
	d := sandbox.DefaultNames()
	src := fmt.Sprintf(`
objectives "scratch" {
  rpo = "1h"
  rto = "4h"
}
bucket %q {
  role = "model-artifacts"
}
group %q {
  role = "serving"
}
group %q {
  role = "dr-fleet"
}
volumes {
  tag  = "Name=%s"
  role = "pipeline-store"
  tier = "scratch"
}
`, "ml-logs", d.DRGroup, d.BatchGroup, d.ScratchTag)
	est, err := estate.Parse([]byte(src), estate.FileName)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 140, 40, func(o *Options) { o.Estate = est })

	h.keys("2")
	h.waitScreen("ml-logs")
	if l := lineWith(t, h.screen(), "ml-logs"); !strings.Contains(l, "model-artifacts ✖ unversioned: not protected") {
		t.Errorf("unversioned model bucket line %q", l)
	}

	h.keys("5")
	h.waitScreen(d.BatchGroup)
	s := h.screen()
	if !strings.Contains(lineWith(t, s, d.BatchGroup), "dr-fleet") || !strings.Contains(lineWith(t, s, d.DRGroup), "serving") {
		t.Errorf("estate file roles not applied to groups:\n%s", s)
	}
	if strings.Index(s, d.BatchGroup) > strings.Index(s, d.DRGroup+" ") {
		t.Errorf("the estate's DR fleet is not listed first:\n%s", s)
	}

	// The scratch volume has never been snapshotted: under its tier's
	// objective it is a finding, no longer an unrated volume.
	h.keys("9")
	h.waitScreen(d.ScratchTag)
	if l := lineWith(t, h.screen(), d.ScratchTag); !strings.Contains(l, "✖ NONE") || !strings.Contains(l, "pipeline-store") {
		t.Errorf("scratch volume line %q", l)
	}
}
