package sandbox

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Names are the names the seeded estate is created under. The zero value
// of a field takes its default (DefaultNames), so an estate can be renamed
// one resource at a time. The var tags are the keys of a variables file:
// the runbooks' shared variables (primary_region, model_bucket, ...) and a
// few only the sandbox reads (logs_bucket, batch_group, ...), which a
// runbook run warns about and otherwise ignores.
type Names struct {
	PrimaryRegion string `var:"primary_region"`
	DRRegion      string `var:"dr_region"`

	ModelBucket     string `var:"model_bucket"`   // versioned, replicated to ReplicaBucket
	ReplicaBucket   string `var:"replica_bucket"` // in the DR region
	ModelsPrefix    string `var:"models_prefix"`  // where the model artifacts are, and what replicates
	ReplicationRule string `var:"replication_rule"`
	LogsBucket      string `var:"logs_bucket"` // unversioned, in the primary region, no role

	BackupVault string `var:"backup_vault"` // in both regions; recovery points in the primary
	BackupPlan  string `var:"backup_plan"`  // daily plan into BackupVault

	PrimaryGroup   string `var:"primary_group"` // serving fleet in the primary region
	DRGroup        string `var:"dr_group"`      // DR fleet, at 0 (min 0, max 8)
	BatchGroup     string `var:"batch_group"`   // a second group in the DR region, no role
	LaunchTemplate string `var:"launch_template"`

	DatasetTag string `var:"dataset_tag"` // Name tag of the dataset EBS volumes
	ScratchTag string `var:"scratch_tag"` // Name tag of a scratch volume, no role
	DataLoader string `var:"data_loader"` // Name of the instance the dataset volumes attach to
	PipelineFS string `var:"pipeline_fs"` // Name of the EFS file system

	Alarm5xx string `var:"alarm_5xx"` // per region, follows the region's fleet
	AlarmP99 string `var:"alarm_p99"` // per region, follows the region's fleet
	// AlarmDRCapacity (DR region only) and AlarmHealth (composite:
	// ALARM(5xx) OR ALARM(p99), per region) are dr_alarms in a variables
	// file, in that order.
	AlarmHealth     string `var:"-"`
	AlarmDRCapacity string `var:"-"`
}

// DefaultNames are the names of the estate `drconsole sandbox` seeds
// unless told otherwise.
func DefaultNames() Names {
	return Names{
		PrimaryRegion:   "us-east-1",
		DRRegion:        "us-west-2",
		ModelBucket:     "ai-model-artifacts",
		ReplicaBucket:   "ai-model-artifacts-dr",
		ModelsPrefix:    "models/",
		ReplicationRule: "dr-replication",
		LogsBucket:      "ai-logs",
		BackupVault:     "ai-dr-vault",
		BackupPlan:      "ai-daily",
		PrimaryGroup:    "ai-inference",
		DRGroup:         "ai-inference-dr",
		BatchGroup:      "batch-workers",
		LaunchTemplate:  "ai-inference-gpu",
		DatasetTag:      "ai-dataset",
		ScratchTag:      "ai-scratch",
		DataLoader:      "ai-data-loader",
		PipelineFS:      "ai-pipeline",
		Alarm5xx:        "ai-inference-5xx",
		AlarmP99:        "ai-inference-p99",
		AlarmHealth:     "ai-inference-health",
		AlarmDRCapacity: "ai-inference-dr-capacity",
	}
}

// withDefaults fills every empty field from DefaultNames.
func (n Names) withDefaults() Names {
	d := DefaultNames()
	nv, dv := reflect.ValueOf(&n).Elem(), reflect.ValueOf(d)
	for i := 0; i < nv.NumField(); i++ {
		if nv.Field(i).String() == "" {
			nv.Field(i).SetString(dv.Field(i).String())
		}
	}
	return n
}

// DRAlarms are the alarms that say serving in the DR region is healthy:
// the runbooks' dr_alarms.
func (n Names) DRAlarms() []string { return []string{n.AlarmDRCapacity, n.AlarmHealth} }

// Vars are the estate's runbook variables, keyed by variable name. Values
// are as a --var flag takes them: strings as they are, dr_alarms as an HCL
// list.
func (n Names) Vars() map[string]string {
	out := map[string]string{}
	t := reflect.TypeOf(n)
	v := reflect.ValueOf(n)
	for i := 0; i < t.NumField(); i++ {
		if k := t.Field(i).Tag.Get("var"); k != "-" {
			out[k] = v.Field(i).String()
		}
	}
	out["dr_alarms"] = hclList(n.DRAlarms())
	return out
}

// VarsFile is the estate's variables file: one `name = "value"` line per
// variable, sorted, for --var-file and for --names.
func (n Names) VarsFile() []byte {
	vars := n.Vars()
	keys := make([]string, 0, len(vars))
	width := 0
	for k := range vars {
		keys = append(keys, k)
		width = max(width, len(k))
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := vars[k]
		if k != "dr_alarms" {
			v = hclString(v)
		}
		fmt.Fprintf(&b, "%-*s = %s\n", width, k, v)
	}
	return []byte(b.String())
}

// hclString quotes s as an HCL string literal: HCL's escapes (it has no
// \x), template sequences doubled.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		case r == utf8.RuneError || !strconv.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hclList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = hclString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// ReadNames reads Names from a variables file (see ParseNames).
func ReadNames(path string) (Names, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Names{}, fmt.Errorf("read sandbox names: %w", err)
	}
	return ParseNames(src, path)
}

// ParseNames reads Names from a variables file: HCL `name = value` lines,
// as --var-file takes them. Keys the sandbox does not know (a runbook's
// restore_to, say) are left to the runbooks; fields the file does not set
// keep their defaults. dr_alarms, when set, lists the DR capacity alarm and
// then the composite health alarm.
func ParseNames(src []byte, filename string) (Names, error) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return Names{}, fmt.Errorf("parse sandbox names: %w", diags)
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return Names{}, fmt.Errorf("parse sandbox names: %w", diags)
	}
	var n Names
	nv := reflect.ValueOf(&n).Elem()
	fields := map[string]int{}
	for i := 0; i < nv.NumField(); i++ {
		if k := nv.Type().Field(i).Tag.Get("var"); k != "-" {
			fields[k] = i
		}
	}
	for name, a := range attrs {
		i, known := fields[name]
		if !known && name != "dr_alarms" {
			continue
		}
		val, d := a.Expr.Value(nil)
		if d.HasErrors() {
			return Names{}, fmt.Errorf("parse sandbox names: %w", d)
		}
		if name == "dr_alarms" {
			l, err := convert.Convert(val, cty.List(cty.String))
			if err != nil || l.IsNull() || !l.IsWhollyKnown() || l.LengthInt() != 2 {
				return Names{}, badName(a, "dr_alarms must list two alarm names, the DR capacity alarm and the health alarm")
			}
			els := l.AsValueSlice()
			n.AlarmDRCapacity, n.AlarmHealth = els[0].AsString(), els[1].AsString()
			continue
		}
		s, err := convert.Convert(val, cty.String)
		if err != nil || s.IsNull() || !s.IsKnown() {
			return Names{}, badName(a, name+" must be a string")
		}
		nv.Field(i).SetString(s.AsString())
	}
	return n, nil
}

// badName is a diagnostic at a's value, so the file's reader can point at
// file:line:column.
func badName(a *hcl.Attribute, detail string) error {
	r := a.Expr.Range()
	return fmt.Errorf("parse sandbox names: %w", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid sandbox name", Detail: detail, Subject: &r}})
}

// validate refuses names AWS would refuse or that would collide.
func (n Names) validate() error {
	buckets := map[string]string{"model_bucket": n.ModelBucket, "replica_bucket": n.ReplicaBucket, "logs_bucket": n.LogsBucket}
	seen := map[string]string{}
	for _, k := range []string{"model_bucket", "replica_bucket", "logs_bucket"} {
		b := buckets[k]
		if err := validBucketName(b); err != nil {
			return fmt.Errorf("sandbox names: %s: %w", k, err)
		}
		if other, dup := seen[b]; dup {
			return fmt.Errorf("sandbox names: %s and %s are both %q", other, k, b)
		}
		seen[b] = k
	}
	if n.DRGroup == n.BatchGroup {
		return fmt.Errorf("sandbox names: dr_group and batch_group are both %q", n.DRGroup)
	}
	if n.DatasetTag == n.ScratchTag {
		return fmt.Errorf("sandbox names: dataset_tag and scratch_tag are both %q", n.DatasetTag)
	}
	if n.ModelsPrefix != "" && !strings.HasSuffix(n.ModelsPrefix, "/") {
		return fmt.Errorf("sandbox names: models_prefix %q must end in /", n.ModelsPrefix)
	}
	return nil
}

// EstateVars is the variables file of the estate o would seed: its names
// after defaults, in its regions.
func EstateVars(o Options) ([]byte, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o.Names.VarsFile(), nil
}
