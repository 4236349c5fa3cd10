package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// accountID is the sandbox's AWS account.
const accountID = "123456789012"

// terminateDelay is how long a terminated instance stays visible as
// Terminating (Auto Scaling) / shutting-down (EC2) before it is gone.
const terminateDelay = 20 * time.Second

// estate is everything the sandbox holds outside S3: one lock for all of it,
// since operations cross services (fleet alarms read Auto Scaling, restores
// create EBS volumes, EFS file systems and S3 buckets).
type estate struct {
	mu   sync.Mutex
	opts *Options
	s3   *s3Service
	st   estateState
}

// estateState is the persisted part of the estate.
type estateState struct {
	Seq            uint64
	Volumes        []*volume
	Snapshots      []*snapshot
	Instances      []*instance
	Groups         []*asGroup
	Alarms         []*alarm
	FileSystems    []*fileSystem
	Vaults         []*vault
	Plans          []*backupPlan
	RecoveryPoints []*recoveryPoint
	BackupJobs     []*backupJob
	RestoreJobs    []*restoreJob
	// Captures holds the S3 contents taken by StartBackupJob, by recovery
	// point ARN. Points without one (the seeded daily and continuous
	// points) are read from the bucket's version history at their time.
	Captures map[string]*bucketCapture
}

type tag struct{ Key, Value string }

type volume struct {
	ID, Region, AZ, SnapshotID, VolumeType string
	Size                                   int
	Created                                time.Time
	Tags                                   []tag
	InstanceID, Device                     string
	Encrypted                              bool
}

type snapshot struct {
	ID, Region, VolumeID, Description string
	VolumeSize                        int
	Start                             time.Time
	Tags                              []tag
	// Duration is how long the snapshot stays pending (zero: the
	// sandbox's SnapshotDuration).
	Duration time.Duration `json:",omitempty"`
}

type instance struct {
	ID, Region, AZ, Group, Type, ImageID string
	Launched, Terminated                 time.Time
	Tags                                 []tag
}

type asGroup struct {
	Name, Region, LaunchTemplate     string
	Min, Max, Desired                int
	AZs                              []string
	Created                          time.Time
	HealthCheckGracePeriod           int
	Tags                             []tag
	DefaultCooldown, InstanceWarmup  int
	ServiceLinkedRoleARN, HealthType string
}

type dimension struct{ Name, Value string }

type alarm struct {
	Name, Region, Description                 string
	Composite                                 bool
	Namespace, MetricName, Statistic, Unit    string
	Dimensions                                []dimension
	Period, EvaluationPeriods                 int
	DatapointsToAlarm                         int
	Threshold                                 float64
	ComparisonOperator, TreatMissingData      string
	AlarmRule                                 string
	ActionsEnabled                            bool
	AlarmActions, OKActions, InsufficientData []string
	State, StateReason                        string
	StateUpdated, ConfigUpdated               time.Time
	// ManualUntil holds a SetAlarmState answer until the next evaluation
	// of an alarm whose metric the sandbox computes.
	ManualUntil time.Time
}

type fileSystem struct {
	ID, Region, Name, CreationToken string
	PerformanceMode, Throughput     string
	Created                         time.Time
	SizeBytes                       int64
	Encrypted                       bool
	Tags                            []tag
}

type vault struct {
	Name, Region, CreatorRequestID string
	Created                        time.Time
}

type backupPlan struct {
	ID, Name, Region, VersionID, CreatorRequestID string
	Created                                       time.Time
	Plan                                          json.RawMessage
}

type recoveryPoint struct {
	ARN, Vault, Region                      string
	ResourceArn, ResourceType, ResourceName string
	Created, Completed                      time.Time
	SizeBytes                               int64
	Continuous                              bool
	PlanID                                  string
	VolumeSize                              int    // EBS
	PerformanceMode                         string // EFS
	BackupJobID                             string
	Failed                                  bool
}

type backupJob struct {
	ID, Vault, Region, ResourceArn, ResourceType string
	RecoveryPointArn, IdempotencyToken, IamRole  string
	Created, CompleteAt                          time.Time
}

type restoreJob struct {
	ID, Region, RecoveryPointArn, ResourceType string
	Metadata                                   map[string]string
	IdempotencyToken, IamRole                  string
	Created, CompleteAt                        time.Time
	CreatedResourceArn                         string
	Done                                       bool
	Failed                                     string // status message when the restore failed
	SizeBytes                                  int64
}

func newEstate(o *Options, s3 *s3Service) *estate {
	return &estate{opts: o, s3: s3, st: estateState{Captures: map[string]*bucketCapture{}}}
}

// newID makes a deterministic resource id: prefix-<17 hex digits>.
func (e *estate) newID(prefix string) string {
	e.st.Seq++
	x := mix64(uint64(e.opts.Seed)*0x9e3779b97f4a7c15 + e.st.Seq)
	return fmt.Sprintf("%s-0%016x", prefix, x)
}

// newUUID makes a deterministic UUID-shaped id.
func (e *estate) newUUID() string {
	e.st.Seq++
	a := mix64(uint64(e.opts.Seed) ^ e.st.Seq<<1)
	b := mix64(a ^ e.st.Seq)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a>>32), uint16(a>>16), a&0xfff, b>>52&0xfff, b&0xffffffffffff)
}

// mix64 is the SplitMix64 finaliser: every deterministic id and synthetic
// byte in the sandbox is drawn through it.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// advance brings time-driven state up to now: restore jobs whose time has
// come create their resources. It reports whether anything changed.
func (e *estate) advance(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	for _, j := range e.st.RestoreJobs {
		if j.Done || now.Before(j.CompleteAt) {
			continue
		}
		j.Done = true
		changed = true
		if err := e.materializeRestore(j); err != nil {
			j.Failed = err.Error()
		}
	}
	return changed
}

func (e *estate) saveState(w io.Writer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	enc := json.NewEncoder(w)
	return enc.Encode(&e.st)
}

func (e *estate) loadState(r io.Reader) error {
	var st estateState
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("decode estate: %w", err)
	}
	if st.Captures == nil {
		st.Captures = map[string]*bucketCapture{}
	}
	e.mu.Lock()
	e.st = st
	e.mu.Unlock()
	return nil
}

func setTag(tags []tag, k, v string) []tag {
	for i := range tags {
		if tags[i].Key == k {
			tags[i].Value = v
			return tags
		}
	}
	tags = append(tags, tag{k, v})
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags
}

func tagValue(tags []tag, k string) (string, bool) {
	for _, t := range tags {
		if t.Key == k {
			return t.Value, true
		}
	}
	return "", false
}

// EstateSummary counts what the sandbox holds, for the admin endpoint.
type EstateSummary struct {
	Now             time.Time      `json:"now"`
	PrimaryRegion   string         `json:"primaryRegion"`
	DRRegion        string         `json:"drRegion"`
	Volumes         int            `json:"volumes"`
	Snapshots       int            `json:"snapshots"`
	Instances       map[string]int `json:"instancesByGroup"`
	Groups          []string       `json:"groups"`
	Alarms          map[string]int `json:"alarmsByState"`
	FileSystems     int            `json:"fileSystems"`
	Vaults          []string       `json:"vaults"`
	RecoveryPoints  int            `json:"recoveryPoints"`
	RestoreJobs     int            `json:"restoreJobs"`
	BackupJobs      int            `json:"backupJobs"`
	ReplicationLagS float64        `json:"replicationLagSeconds"`
}

func (e *estate) summary(now time.Time) EstateSummary {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := EstateSummary{Now: now, PrimaryRegion: e.opts.PrimaryRegion, DRRegion: e.opts.DRRegion,
		Volumes: len(e.st.Volumes), Snapshots: len(e.st.Snapshots), Instances: map[string]int{},
		Alarms: map[string]int{}, FileSystems: len(e.st.FileSystems), RecoveryPoints: len(e.st.RecoveryPoints),
		RestoreJobs: len(e.st.RestoreJobs), BackupJobs: len(e.st.BackupJobs), ReplicationLagS: e.opts.ReplicationLag.Seconds()}
	for _, g := range e.st.Groups {
		s.Groups = append(s.Groups, g.Region+"/"+g.Name)
		s.Instances[g.Region+"/"+g.Name] = len(e.groupInstances(g, now))
	}
	for _, a := range e.st.Alarms {
		s.Alarms[e.alarmState(a, now, 0)]++
	}
	for _, v := range e.st.Vaults {
		s.Vaults = append(s.Vaults, v.Region+"/"+v.Name)
	}
	return s
}
