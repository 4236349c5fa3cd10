package tui

import (
	"fmt"
	"testing"
)

func TestCallLogKeepsNewest(t *testing.T) {
	for _, tc := range []struct {
		max, add int
		want     string
	}{
		{max: 3, add: 0, want: ""},
		{max: 3, add: 2, want: "0 1 "},
		{max: 3, add: 3, want: "0 1 2 "},
		{max: 3, add: 4, want: "1 2 3 "},
		{max: 3, add: 8, want: "5 6 7 "},
		{max: 1, add: 5, want: "4 "},
	} {
		l := NewCallLog(tc.max)
		for i := range tc.add {
			l.Add(APICall{Operation: fmt.Sprint(i)})
		}
		calls, added := l.Snapshot()
		got := ""
		for _, c := range calls {
			got += c.Operation + " "
		}
		if got != tc.want || added != tc.add {
			t.Errorf("max %d, %d added: kept %q (added %d), want %q", tc.max, tc.add, got, added, tc.want)
		}
	}
}
