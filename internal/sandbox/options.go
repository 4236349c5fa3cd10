package sandbox

import (
	"fmt"
	"time"
)

// Options configure a sandbox server. The zero value serves the default
// seeded estate with seed 0.
type Options struct {
	// Seed makes the seeded estate (names, histories, sizes) deterministic.
	Seed int64
	// Empty starts with no estate at all.
	Empty bool
	// Sizes scale the seeded estate; zero fields take defaults.
	Sizes EstateSizes
	// ReplicationLag is how long a new version takes to reach a replica
	// bucket (default 30s).
	ReplicationLag time.Duration
	// InstanceWarmup is how long a launched instance stays Pending
	// (default 45s).
	InstanceWarmup time.Duration
	// SnapshotDuration is how long an EBS snapshot stays pending
	// (default 2m).
	SnapshotDuration time.Duration
	// RestoreDuration is how long a backup restore job runs (default 3m).
	RestoreDuration time.Duration
	// StrictAuth verifies SigV4 signatures against AccessKeyID and
	// SecretAccessKey; otherwise any key is accepted.
	StrictAuth      bool
	AccessKeyID     string
	SecretAccessKey string
	// AdminToken is the bearer token the admin endpoint requires, with or
	// without StrictAuth; empty: New draws a random one, which
	// (*Server).AdminToken returns.
	AdminToken string
	// DataDir, when set, keeps the estate across restarts.
	DataDir string
	// Clock is the server's time source (nil: time.Now). The admin clock
	// offset is added to it.
	Clock func() time.Time
	// Faults are injected from the start.
	Faults []Fault
	// CloudWatchQueryOnly makes CloudWatch speak only its query protocol,
	// as some emulators and proxies do: an RPC v2 CBOR request is answered
	// 404 with an XML error, not in CBOR.
	CloudWatchQueryOnly bool
	// PrimaryRegion and DRRegion default to Names' regions, else us-east-1
	// and us-west-2.
	PrimaryRegion, DRRegion string
	// Names are what the seeded estate is called; empty fields take
	// DefaultNames'. After defaults its regions are PrimaryRegion and
	// DRRegion.
	Names Names
}

// EstateSizes scale the seeded estate.
type EstateSizes struct {
	Models            int // models in the artifact bucket (default 4)
	VersionsPerModel  int // versions of each model's artifacts (default 24)
	HistoryDays       int // how far back the model history reaches (default 120)
	ObjectBytes       int // size of a seeded model artifact body (default 2048)
	Volumes           int // dataset volumes, tagged Name=Names.DatasetTag (default 3)
	RecoveryPointDays int // days of daily recovery points (default 14)
}

// Default credentials printed by `drconsole sandbox` and used by strict auth
// when none are configured.
const (
	DefaultAccessKeyID     = "AKIASANDBOXEXAMPLE01"
	DefaultSecretAccessKey = "sandbox/secret/key/for/loopback/only/000"
)

// withDefaults fills unset options.
func (o Options) withDefaults() Options {
	if o.ReplicationLag == 0 {
		o.ReplicationLag = 30 * time.Second
	}
	if o.InstanceWarmup == 0 {
		o.InstanceWarmup = 45 * time.Second
	}
	if o.SnapshotDuration == 0 {
		o.SnapshotDuration = 2 * time.Minute
	}
	if o.RestoreDuration == 0 {
		o.RestoreDuration = 3 * time.Minute
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID = DefaultAccessKeyID
	}
	if o.SecretAccessKey == "" {
		o.SecretAccessKey = DefaultSecretAccessKey
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.PrimaryRegion == "" {
		o.PrimaryRegion = o.Names.PrimaryRegion
	}
	if o.DRRegion == "" {
		o.DRRegion = o.Names.DRRegion
	}
	o.Names = o.Names.withDefaults()
	if o.PrimaryRegion == "" {
		o.PrimaryRegion = o.Names.PrimaryRegion
	}
	if o.DRRegion == "" {
		o.DRRegion = o.Names.DRRegion
	}
	o.Names.PrimaryRegion, o.Names.DRRegion = o.PrimaryRegion, o.DRRegion
	o.Sizes = o.Sizes.withDefaults()
	return o
}

func (z EstateSizes) withDefaults() EstateSizes {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&z.Models, 4)
	def(&z.VersionsPerModel, 24)
	def(&z.HistoryDays, 120)
	def(&z.ObjectBytes, 2048)
	def(&z.Volumes, 3)
	def(&z.RecoveryPointDays, 14)
	return z
}

func (o Options) validate() error {
	z := o.Sizes
	for name, v := range map[string]int{"models": z.Models, "versions per model": z.VersionsPerModel,
		"history days": z.HistoryDays, "object bytes": z.ObjectBytes, "volumes": z.Volumes,
		"recovery point days": z.RecoveryPointDays} {
		if v < 0 {
			return fmt.Errorf("sandbox options: %s must not be negative, got %d", name, v)
		}
	}
	if o.ReplicationLag < 0 || o.InstanceWarmup < 0 || o.SnapshotDuration < 0 || o.RestoreDuration < 0 {
		return fmt.Errorf("sandbox options: durations must not be negative")
	}
	if o.PrimaryRegion == o.DRRegion {
		return fmt.Errorf("sandbox options: primary and DR region are both %q", o.PrimaryRegion)
	}
	if o.AdminToken != "" {
		if err := CheckAdminToken(o.AdminToken); err != nil {
			return fmt.Errorf("sandbox options: %w", err)
		}
	}
	if err := o.Names.validate(); err != nil {
		return err
	}
	for i, f := range o.Faults {
		if err := f.validate(); err != nil {
			return fmt.Errorf("sandbox options: fault %d: %w", i+1, err)
		}
	}
	return nil
}
