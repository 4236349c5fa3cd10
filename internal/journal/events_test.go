package journal

import (
	"os"
	"strings"
	"testing"

	"github.com/drconsole/drconsole/internal/runbook"
)

func TestEventsReadsEveryRecordAndSkipsATornLine(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const id = "20261122T180000Z-abcdef"
	w, err := s.Create(id, NewRedactor(nil, "hunter22"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []runbook.Event{
		{Kind: runbook.RunStarted, RunID: id, Run: &runbook.RunInfo{RunbookPath: "g.hcl", Drill: &runbook.DrillInfo{TargetBucket: "b"}}},
		{Kind: runbook.StepDrilled, RunID: id, Node: "step.s3_restore.m",
			Drill: &runbook.DrillRecord{Type: "s3_restore", Config: []byte(`{"bucket":"hunter22"}`), State: []byte(`{"a":1}`)}},
		{Kind: runbook.TeardownAction, RunID: id, Node: "step.s3_restore.m", Changes: []runbook.Change{{Action: "DeleteObjects", Target: "b/p"}}},
	} {
		if err := w.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(s.Path(id), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"kind":"teardown_fin`)
	_ = f.Close()

	evs, err := s.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[1].Drill == nil || evs[2].Kind != runbook.TeardownAction {
		t.Fatalf("events %+v", evs)
	}
	if strings.Contains(string(evs[1].Drill.Config), "hunter22") || string(evs[1].Drill.State) != `{"a":1}` {
		t.Errorf("drill record %s %s", evs[1].Drill.Config, evs[1].Drill.State)
	}
	if run, err := s.Read(id); err != nil || run.Info.Drill == nil || run.Info.Drill.TargetBucket != "b" || !run.Resume.Drill {
		t.Errorf("read: %+v %v", run, err)
	}
	if list, err := s.List(); err != nil || len(list) != 1 || !list[0].Drill {
		t.Errorf("list: %+v %v", list, err)
	}
	if _, err := s.Events("../x"); err == nil {
		t.Error("an invalid id was read")
	}
}
