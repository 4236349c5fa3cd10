package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drconsole/drconsole/internal/runbook"
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

func TestValidateConfig(t *testing.T) {
	str := cty.StringVal
	for _, tt := range []struct {
		name string
		errs []runbook.ConfigError
		want string // attribute of the single error; "" for none
	}{
		{"wait ok", Wait{}.ValidateConfig(waitCfg("5s")), ""},
		{"wait unknown", Wait{}.ValidateConfig(cty.ObjectVal(map[string]cty.Value{"duration": cty.UnknownVal(cty.String)})), ""},
		{"wait bad", Wait{}.ValidateConfig(waitCfg("5 minutes")), "duration"},
		{"exec ok", Exec{}.ValidateConfig(execCfg([]string{"true"}, nil, "")), ""},
		{"exec empty", Exec{}.ValidateConfig(cty.ObjectVal(map[string]cty.Value{"command": cty.ListValEmpty(cty.String)})), "command"},
		{"exec empty program", Exec{}.ValidateConfig(execCfg([]string{""}, nil, "")), "command"},
		{"http ok", HTTPCheck{}.ValidateConfig(httpCfg("http://x/", nil)), ""},
		{"http url", HTTPCheck{}.ValidateConfig(httpCfg("x", nil)), "url"},
		{"http status", HTTPCheck{}.ValidateConfig(httpCfg("http://x/", map[string]cty.Value{"expect_status": cty.NumberIntVal(99)})), "expect_status"},
		{"http within", HTTPCheck{}.ValidateConfig(httpCfg("http://x/", map[string]cty.Value{"within": str("1 min")})), "within"},
		{"http interval", HTTPCheck{}.ValidateConfig(httpCfg("http://x/", map[string]cty.Value{"interval": str("0s")})), "interval"},
	} {
		switch {
		case tt.want == "" && len(tt.errs) != 0:
			t.Errorf("%s: errors %v", tt.name, tt.errs)
		case tt.want != "" && (len(tt.errs) != 1 || tt.errs[0].Attr != tt.want):
			t.Errorf("%s: errors %v, want one about %s", tt.name, tt.errs, tt.want)
		}
	}
}
