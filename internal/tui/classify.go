package tui

import (
	"cmp"
	"slices"
	"time"

	"github.com/drconsole/drconsole/internal/estate"
	"github.com/drconsole/drconsole/internal/inventory"
)

// The views classify what they list through the estate file (Options.
// Estate) and the drconsole:role tags, so that a bucket or group the
// operator has not declared is never shown as protected model storage or
// DR capacity.

// classed is a resource's class with its place in a role-ordered list.
type classed struct {
	estate.Class
	rank int
}

// roleRank orders the roles a view lists first; unclassified comes last.
func roleRank(role string, first ...string) int {
	if i := slices.Index(first, role); i >= 0 {
		return i
	}
	if role == "" {
		return len(first) + 1
	}
	return len(first)
}

func (e *env) classify(r estate.Resource, first ...string) classed {
	c := e.opts.Estate.Classify(r)
	return classed{Class: c, rank: roleRank(c.Role, first...)}
}

// bucketClass classifies a bucket; model storage ranks first.
func (e *env) bucketClass(b inventory.Bucket) classed {
	return e.classify(estate.Resource{Kind: estate.KindBucket, Name: b.Name, Tags: b.Tags, Versioned: b.Versioned}, "model-artifacts", "replica")
}

// groupClass classifies an auto-scaling group; the DR fleet ranks first.
func (e *env) groupClass(g inventory.Group) classed {
	return e.classify(estate.Resource{Kind: estate.KindGroup, Name: g.Name, Tags: g.Tags}, "dr-fleet")
}

// volumeClass classifies an EBS volume; dataset volumes rank first.
func (e *env) volumeClass(v inventory.Volume) classed {
	return e.classify(estate.Resource{Kind: estate.KindVolume, Name: v.ID, Tags: v.Tags}, "dataset", "pipeline-store")
}

// rpoOf is a class's recovery point objective, the console's own when
// the class has none (or one that does not parse).
func (e *env) rpoOf(c estate.Class) time.Duration {
	if d, err := time.ParseDuration(c.RPO); err == nil && d > 0 {
		return d
	}
	return e.opts.RPOObjective
}

// roleLabel is the ROLE cell of a classified resource.
func roleLabel(c classed) string {
	switch {
	case c.Unprotected != "":
		return c.Role + " ✖ " + c.Unprotected
	case c.Source == estate.FromUnclassified:
		return "? unclassified"
	}
	return c.Role
}

// byRank orders xs by their class's rank, then by name, keeping the
// order stable for equal keys.
func byRank[T any](xs []T, class func(T) classed, name func(T) string) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, func(a, b T) int {
		return cmp.Or(cmp.Compare(class(a).rank, class(b).rank), cmp.Compare(name(a), name(b)))
	})
	return out
}

// unclassified counts the resources neither the estate file nor a tag
// classifies.
func unclassified[T any](xs []T, class func(T) classed) int {
	n := 0
	for _, x := range xs {
		if class(x).Source == estate.FromUnclassified {
			n++
		}
	}
	return n
}
