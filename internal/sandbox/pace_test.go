package sandbox

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPaces(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want Pace
	}{
		{Options{}, PaceReal},
		{Options{}.WithPace(PaceQuick), PaceQuick},
		{Options{}.WithPace(PaceQuick).WithPace(PaceReal), PaceReal},
		{Options{SnapshotDuration: 7 * time.Second}, PaceCustom},
		{func() Options { o := Options{}.WithPace(PaceQuick); o.RestoreDuration = time.Minute; return o }(), PaceCustom},
	} {
		if got := c.o.Pace(); got != c.want {
			t.Errorf("pace of %+v = %s, want %s", c.o, got, c.want)
		}
	}
	if got := (Options{}.WithPace(PaceQuick)).PaceDetail(); got != "snapshots 5s, warm-up 5s, restores 10s, replication 30s" {
		t.Errorf("quick detail %q", got)
	}
	for _, s := range []string{"real", "Quick"} {
		if _, err := ParsePace(s); err != nil {
			t.Errorf("ParsePace(%q): %v", s, err)
		}
	}
	if _, err := ParsePace("ludicrous"); err == nil {
		t.Error("ParsePace accepted ludicrous")
	}
}

// Every answer names the sandbox and its pace, so a client reached
// through any endpoint can say how fast the estate it watches goes.
func TestAnswersNameThePace(t *testing.T) {
	srv, err := New(Options{Seed: 1}.WithPace(PaceQuick))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil))
	if h := rec.Header().Get(IdentityHeader); PaceOf(h) != PaceQuick {
		t.Fatalf("%s: %q", IdentityHeader, h)
	}
	if PaceOf("1") != "" || PaceOf("x; pace=real") != PaceReal {
		t.Error("PaceOf")
	}
}
