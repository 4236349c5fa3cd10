package estate

import "strings"

// Tag keys of the role and objective convention.
const (
	TagRole = "drconsole:role"
	TagRPO  = "drconsole:rpo"
	TagRTO  = "drconsole:rto"
)

// Source says where a classification came from.
type Source string

// Sources of a classification.
const (
	FromEstate       Source = "estate file"
	FromTag          Source = "tag"
	FromUnclassified Source = "unclassified"
)

// Hint says in one line how to classify a resource of kind k.
func Hint(k Kind) string {
	// The estate file comes first: it is the one fix that needs no write to
	// the resource, and the line stays useful when a narrow column cuts
	// the role list.
	return "list it in " + FileName + " or tag it " + TagRole + " = " + strings.Join(Roles(k), " | ")
}

// Kind is the kind of a resource being classified.
type Kind string

// Resource kinds.
const (
	KindBucket     Kind = "bucket"
	KindVolume     Kind = "volume"
	KindFileSystem Kind = "file_system"
	KindGroup      Kind = "group"
)

// Resource is what classification looks at.
type Resource struct {
	Kind Kind
	Name string // bucket or group name, volume or file system id
	Tags map[string]string
	// Versioned is the bucket's versioning being Enabled.
	Versioned bool
}

// Class is a resource's role, objectives and where they came from.
type Class struct {
	Role     string
	RPO, RTO string
	Source   Source
	// Unprotected says why a resource in a protecting role is not protected.
	Unprotected string
}

// Classify decides a resource's role: the estate file wins over tags.
// A nil Estate classifies by tags alone.
func (e *Estate) Classify(r Resource) Class {
	c := Class{Source: FromUnclassified}
	tier := ""
	if role, t, ok := e.lookup(r); ok {
		c.Role, c.Source, tier = role, FromEstate, t
	} else if role := r.Tags[TagRole]; role != "" {
		c.Role, c.Source = role, FromTag
	}
	c.RPO, c.RTO = e.objectives(tier)
	if v := r.Tags[TagRPO]; v != "" && c.Source == FromTag {
		c.RPO = v
	}
	if v := r.Tags[TagRTO]; v != "" && c.Source == FromTag {
		c.RTO = v
	}
	if r.Kind == KindBucket && c.Role == "model-artifacts" && !r.Versioned {
		c.Unprotected = "unversioned: not protected"
	}
	return c
}

func (e *Estate) lookup(r Resource) (role, tier string, ok bool) {
	if e == nil {
		return "", "", false
	}
	switch r.Kind {
	case KindBucket:
		for _, b := range e.Buckets {
			if b.Name == r.Name {
				return b.Role, b.Tier, true
			}
		}
	case KindGroup:
		for _, g := range e.Groups {
			if g.Name == r.Name {
				return g.Role, "", true
			}
		}
	case KindFileSystem:
		for _, f := range e.FileSystems {
			if f.ID == r.Name || f.ID == r.Tags["Name"] {
				return f.Role, f.Tier, true
			}
		}
	case KindVolume:
		for _, v := range e.Volumes {
			k, val, _ := strings.Cut(v.Tag, "=")
			if got, has := r.Tags[k]; has && got == val {
				return v.Role, v.Tier, true
			}
		}
	}
	return "", "", false
}

func (e *Estate) objectives(tier string) (rpo, rto string) {
	if e == nil {
		return "", ""
	}
	for _, want := range []string{tier, "default"} {
		for _, o := range e.Objectives {
			if want != "" && o.Name == want {
				return o.RPO, o.RTO
			}
		}
	}
	return "", ""
}
