// Package estate reads the operator's estate file: which buckets, volumes,
// file systems, groups, vaults and alarms make up the workload, their roles
// and their recovery objectives. Listing a resource there wins over its tags.
package estate

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
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

// Parse decodes estate source; diagnostics carry file:line:column.
func Parse(src []byte, filename string) (*Estate, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	var e Estate
	if diags := gohcl.DecodeBody(f.Body, nil, &e); diags.HasErrors() {
		return nil, diags
	}
	e.Path = filename
	if err := e.check(); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *Estate) check() error {
	switch e.CloudWatchProtocol {
	case "", "cbor", "query":
	default:
		return fmt.Errorf("%s: cloudwatch_protocol %q: want \"cbor\" or \"query\"", e.Path, e.CloudWatchProtocol)
	}
	for _, o := range e.Objectives {
		for _, d := range []string{o.RPO, o.RTO} {
			if _, err := time.ParseDuration(d); err != nil {
				return fmt.Errorf("%s: objectives %q: %w", e.Path, o.Name, err)
			}
		}
	}
	return nil
}

// Load reads and parses the estate file at path.
func Load(path string) (*Estate, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading estate file: %w", err)
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
