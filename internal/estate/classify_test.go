package estate

import "testing"

func TestClassify(t *testing.T) {
	e := &Estate{
		Objectives: []Objectives{{Name: "default", RPO: "24h", RTO: "1h"}, {Name: "tier1", RPO: "1h", RTO: "15m"}},
		Buckets:    []Bucket{{Name: "m", Role: "model-artifacts", Tier: "tier1"}},
	}
	tests := []struct {
		name string
		e    *Estate
		r    Resource
		want Class
	}{
		{"estate wins", e, Resource{Kind: KindBucket, Name: "m", Versioned: true, Tags: map[string]string{TagRole: "replica"}}, Class{Role: "model-artifacts", RPO: "1h", RTO: "15m", Source: FromEstate}},
		{"tag", e, Resource{Kind: KindBucket, Name: "x", Versioned: true, Tags: map[string]string{TagRole: "replica", TagRPO: "2h"}}, Class{Role: "replica", RPO: "2h", RTO: "1h", Source: FromTag}},
		{"unversioned", nil, Resource{Kind: KindBucket, Name: "x", Tags: map[string]string{TagRole: "model-artifacts"}}, Class{Role: "model-artifacts", Source: FromTag, Unprotected: "unversioned: not protected"}},
		{"unclassified", e, Resource{Kind: KindGroup, Name: "g"}, Class{RPO: "24h", RTO: "1h", Source: FromUnclassified}},
	}
	for _, tt := range tests {
		if got := tt.e.Classify(tt.r); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
