// Package estate reads the operator's estate file: which buckets, volumes,
// file systems, groups, vaults and alarms make up the workload, their roles
// and their recovery objectives. Listing a resource there wins over its tags.
package estate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drconsole/drconsole/internal/runbook"
)

// FileName is the estate file looked for beside the runbooks.
const FileName = "estate.hcl"

// Objectives are a tier's recovery point and recovery time objectives.
type Objectives struct {
	Name string `hcl:"name,label"`
	RPO  string `hcl:"rpo"`
	RTO  string `hcl:"rto"`
}

// Bucket lists an S3 bucket with its role.
type Bucket struct {
	Name     string   `hcl:"name,label"`
	Role     string   `hcl:"role"`
	Prefixes []string `hcl:"prefixes,optional"`
	Tier     string   `hcl:"tier,optional"`
}

// Volumes selects EBS volumes by a Key=Value tag.
type Volumes struct {
	Tag  string `hcl:"tag"`
	Role string `hcl:"role"`
	Tier string `hcl:"tier,optional"`
}

// FileSystem lists an EFS file system by id or Name tag.
type FileSystem struct {
	ID   string `hcl:"id,label"`
	Role string `hcl:"role"`
	Tier string `hcl:"tier,optional"`
}

// Group lists an auto-scaling group.
type Group struct {
	Name   string `hcl:"name,label"`
	Role   string `hcl:"role"`
	Region string `hcl:"region,optional"`
}

// Vault lists an AWS Backup vault.
type Vault struct {
	Name string `hcl:"name,label"`
}

// Estate is a parsed estate file.
type Estate struct {
	Path               string
	CloudWatchProtocol string       `hcl:"cloudwatch_protocol,optional"`
	Objectives         []Objectives `hcl:"objectives,block"`
	Buckets            []Bucket     `hcl:"bucket,block"`
	Volumes            []Volumes    `hcl:"volumes,block"`
	FileSystems        []FileSystem `hcl:"file_system,block"`
	Groups             []Group      `hcl:"group,block"`
	Vaults             []Vault      `hcl:"vault,block"`
	Alarms             []string     `hcl:"alarms,optional"`
}

// Roles lists the roles a kind of resource may play. A dataset may live
// in a bucket as well as on volumes; only groups run the fleet.
func Roles(k Kind) []string {
	switch k {
	case KindBucket:
		return []string{"model-artifacts", "replica", "dataset", "pipeline-store"}
	case KindVolume, KindFileSystem:
		return []string{"dataset", "pipeline-store"}
	case KindGroup:
		return []string{"dr-fleet", "serving"}
	}
	return nil
}

// Parse decodes estate source. Every error is a *runbook.DiagError whose
// diagnostics carry file:line:column, as the runbooks' do.
func Parse(src []byte, filename string) (*Estate, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	fail := func(diags hcl.Diagnostics) error {
		return &runbook.DiagError{What: "estate file " + filename, Diags: diags, Sources: p.Files()}
	}
	if diags.HasErrors() {
		return nil, fail(diags)
	}
	var e Estate
	if diags := gohcl.DecodeBody(f.Body, nil, &e); diags.HasErrors() {
		return nil, fail(diags)
	}
	e.Path = filename
	body, _ := f.Body.(*hclsyntax.Body)
	if diags := e.check(body); diags.HasErrors() {
		return nil, fail(diags)
	}
	return &e, nil
}

// check validates what the schema cannot: protocol, durations, roles,
// tiers and the volume selector, each diagnostic at its attribute.
func (e *Estate) check(body *hclsyntax.Body) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(rng *hcl.Range, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng})
	}
	switch e.CloudWatchProtocol {
	case "", "cbor", "query":
	default:
		bad(attrRange(body, "", "", "cloudwatch_protocol"), "Unknown CloudWatch protocol",
			fmt.Sprintf("cloudwatch_protocol is %q; want \"cbor\" (RPC v2 CBOR, AWS's) or \"query\" (for endpoints that speak only the query protocol).", e.CloudWatchProtocol))
	}
	tiers := map[string]bool{}
	for _, o := range e.Objectives {
		if tiers[o.Name] {
			bad(blockRange(body, "objectives", o.Name), "Duplicate objectives", fmt.Sprintf("objectives %q is declared twice.", o.Name))
		}
		tiers[o.Name] = true
		for _, d := range []struct{ attr, v string }{{"rpo", o.RPO}, {"rto", o.RTO}} {
			if v, err := time.ParseDuration(d.v); err != nil || v <= 0 {
				bad(attrRange(body, "objectives", o.Name, d.attr), "Invalid objective",
					fmt.Sprintf("objectives %q: %s is %q; want a positive duration such as \"15m\", \"1h\" or \"24h\".", o.Name, d.attr, d.v))
			}
		}
	}
	role := func(typ, label, got string, want []string) {
		if !slices.Contains(want, got) {
			bad(attrRange(body, typ, label, "role"), "Unknown role",
				fmt.Sprintf("%s %q: role is %q; a %s's role is one of %s.", typ, label, got, strings.ReplaceAll(typ, "_", " "), strings.Join(want, ", ")))
		}
	}
	tier := func(typ, label, got string) {
		if got != "" && !tiers[got] {
			bad(attrRange(body, typ, label, "tier"), "Unknown tier",
				fmt.Sprintf("%s %q: tier %q names no objectives block; declare objectives %q { rpo = ... rto = ... }.", typ, label, got, got))
		}
	}
	for _, b := range e.Buckets {
		role("bucket", b.Name, b.Role, Roles(KindBucket))
		tier("bucket", b.Name, b.Tier)
	}
	for i, v := range e.Volumes {
		label := volumesLabel(i)
		if k, _, ok := strings.Cut(v.Tag, "="); !ok || k == "" {
			bad(nthAttrRange(body, "volumes", i, "tag"), "Invalid volume selector",
				fmt.Sprintf("volumes: tag is %q; want KEY=VALUE, such as \"Name=training-data\".", v.Tag))
		}
		if !slices.Contains(Roles(KindVolume), v.Role) {
			bad(nthAttrRange(body, "volumes", i, "role"), "Unknown role",
				fmt.Sprintf("volumes: role is %q; a volume's role is one of %s.", v.Role, strings.Join(Roles(KindVolume), ", ")))
		}
		if v.Tier != "" && !tiers[v.Tier] {
			bad(nthAttrRange(body, "volumes", i, "tier"), "Unknown tier",
				fmt.Sprintf("volumes %s: tier %q names no objectives block.", label, v.Tier))
		}
	}
	for _, f := range e.FileSystems {
		role("file_system", f.ID, f.Role, Roles(KindFileSystem))
		tier("file_system", f.ID, f.Tier)
	}
	for _, g := range e.Groups {
		role("group", g.Name, g.Role, Roles(KindGroup))
	}
	return diags
}

func volumesLabel(i int) string { return fmt.Sprintf("#%d", i+1) }

// blockRange is where the block typ "label" starts; nil when unknown.
func blockRange(body *hclsyntax.Body, typ, label string) *hcl.Range {
	if b := findBlock(body, typ, label); b != nil {
		r := b.DefRange()
		return &r
	}
	return nil
}

// attrRange is where attribute name of block typ "label" is, or of the
// top level when typ is ""; the block's, when the attribute is absent.
func attrRange(body *hclsyntax.Body, typ, label, name string) *hcl.Range {
	if body == nil {
		return nil
	}
	in := body
	if typ != "" {
		b := findBlock(body, typ, label)
		if b == nil {
			return nil
		}
		in = b.Body
	}
	if a, ok := in.Attributes[name]; ok {
		r := a.SrcRange
		return &r
	}
	return blockRange(body, typ, label)
}

// nthAttrRange is attrRange for the i-th unlabelled block typ.
func nthAttrRange(body *hclsyntax.Body, typ string, i int, name string) *hcl.Range {
	if body == nil {
		return nil
	}
	n := 0
	for _, b := range body.Blocks {
		if b.Type != typ {
			continue
		}
		if n == i {
			if a, ok := b.Body.Attributes[name]; ok {
				r := a.SrcRange
				return &r
			}
			r := b.DefRange()
			return &r
		}
		n++
	}
	return nil
}

func findBlock(body *hclsyntax.Body, typ, label string) *hclsyntax.Block {
	if body == nil {
		return nil
	}
	for _, b := range body.Blocks {
		if b.Type == typ && len(b.Labels) > 0 && b.Labels[0] == label {
			return b
		}
	}
	return nil
}

// Load reads and parses the estate file at path.
func Load(path string) (*Estate, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read estate file: %w", err)
	}
	return Parse(src, path)
}

// Find loads estate.hcl from the runbooks directory; nil, nil when absent.
func Find(runbooksDir string) (*Estate, error) {
	path := filepath.Join(runbooksDir, FileName)
	if _, err := os.Stat(path); err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("looking for estate file: %w", err)
	}
	return Load(path)
}
