package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func waitCfg(d string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal(d)})
}

func TestWaitWaitsTheDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		out, err := Wait{}.Apply(t.Context(), nil, waitCfg("90s"))
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 90*time.Second {
			t.Errorf("waited %s, want 90s", got)
		}
		if !out.Type().Equals(Wait{}.Outputs()) {
			t.Errorf("outputs type %#v, want %#v", out.Type(), Wait{}.Outputs())
		}
	})
}

func TestWaitHonoursCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Wait{}.Apply(ctx, nil, waitCfg("1h"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("returned after %s, want 5s", got)
		}
	})
}

func TestWaitPlanAndBadInput(t *testing.T) {
	tests := []struct {
		cfg     cty.Value
		want    string
		wantErr string
	}{
		{cfg: waitCfg("1m30s"), want: "wait 1m30s"},
		{cfg: waitCfg("0s"), want: "wait 0s"},
		{cfg: cty.ObjectVal(map[string]cty.Value{"duration": cty.UnknownVal(cty.String)}), want: "wait (duration known after earlier steps)"},
		{cfg: waitCfg("soon"), wantErr: `wait: duration: invalid duration "soon"`},
		{cfg: waitCfg("-1s"), wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		changes, err := Wait{}.Plan(t.Context(), nil, tt.cfg)
		if tt.wantErr != "" {
			if err == nil || !contains(err.Error(), tt.wantErr) {
				t.Errorf("Plan(%#v) err = %v, want %q", tt.cfg, err, tt.wantErr)
			}
			if _, err := (Wait{}).Apply(t.Context(), nil, tt.cfg); err == nil {
				t.Errorf("Apply(%#v) succeeded, want an error", tt.cfg)
			}
			continue
		}
		if err != nil || len(changes) != 1 || changes[0].String() != tt.want {
			t.Errorf("Plan(%#v) = %v, %v; want %q", tt.cfg, changes, err, tt.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
