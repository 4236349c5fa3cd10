package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"time"
)

// Seeded names outside S3 (see s3seed.go for the buckets), fixed so runbooks, docs and tests can rely on them.
const (
	BackupVault      = "ai-dr-vault"      // in both regions; recovery points in the primary
	PrimaryGroup     = "ai-inference"     // primary region serving fleet
	DRGroup          = "ai-inference-dr"  // DR region fleet, at 0 (min 0, max 8)
	DatasetTag       = "ai-dataset"       // Name tag of the dataset EBS volumes
	PipelineFS       = "ai-pipeline"      // Name of the EFS file system
	BackupPlanName   = "ai-daily"         // daily plan into BackupVault
	Alarm5xx         = "ai-inference-5xx" // per region, follows the region's fleet
	AlarmP99         = "ai-inference-p99" // per region, follows the region's fleet
	AlarmDRCapacity  = "ai-inference-dr-capacity"
	AlarmHealth      = "ai-inference-health" // composite: ALARM(5xx) OR ALARM(p99)
	DataLoaderTag    = "ai-data-loader"      // Name of the instance the dataset volumes attach to
	drCapacityTarget = 2
)

// seedEstate builds the default estate, deterministic from the seed.
func seedEstate(s3 *s3Service, e *estate, o *Options, now time.Time) error {
	rng := rand.New(rand.NewSource(o.Seed))
	if err := s3.seedModels(rng, o, now); err != nil {
		return fmt.Errorf("seed model buckets: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, dr := o.PrimaryRegion, o.DRRegion
	day := 24 * time.Hour
	longAgo := now.Add(-time.Duration(o.Sizes.HistoryDays) * day).Truncate(time.Hour)

	fs := &fileSystem{ID: e.newID("fs"), Region: p, Name: PipelineFS, CreationToken: PipelineFS,
		PerformanceMode: "generalPurpose", Throughput: "elastic", Created: longAgo,
		SizeBytes: (200 + rng.Int63n(100)) << 30, Encrypted: true, Tags: []tag{{"Name", PipelineFS}, {"team", "ml-platform"}}}
	e.st.FileSystems = append(e.st.FileSystems, fs)

	loader := &instance{ID: e.newID("i"), Region: p, AZ: p + "a", Type: "m6i.2xlarge",
		ImageID: fmt.Sprintf("ami-0%016x", hashString("data-loader")), Launched: longAgo, Tags: []tag{{"Name", DataLoaderTag}}}
	e.st.Instances = append(e.st.Instances, loader)
	var vols []*volume
	for i := 0; i < o.Sizes.Volumes; i++ {
		v := &volume{ID: e.newID("vol"), Region: p, AZ: p + "a", Size: 500 * (1 + rng.Intn(4)), VolumeType: "gp3",
			Created: longAgo, InstanceID: loader.ID, Device: fmt.Sprintf("/dev/sd%c", 'f'+i%20), Encrypted: true,
			Tags: []tag{{"Name", DatasetTag}, {"dataset", fmt.Sprintf("shard-%02d", i)}}}
		vols = append(vols, v)
		e.st.Volumes = append(e.st.Volumes, v)
	}

	azs := func(r string) []string { return []string{r + "a", r + "b", r + "c"} }
	primary := &asGroup{Name: PrimaryGroup, Region: p, LaunchTemplate: "ai-inference-gpu", Min: 2, Max: 8, Desired: 4,
		AZs: azs(p), Created: longAgo, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300,
		Tags:                 []tag{{"service", "inference"}},
		ServiceLinkedRoleARN: "arn:aws:iam::" + accountID + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}
	drg := &asGroup{Name: DRGroup, Region: dr, LaunchTemplate: "ai-inference-gpu", Min: 0, Max: 8, Desired: 0,
		AZs: azs(dr), Created: longAgo, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300,
		Tags: []tag{{"service", "inference"}, {"role", "dr"}}, ServiceLinkedRoleARN: primary.ServiceLinkedRoleARN}
	e.st.Groups = append(e.st.Groups, primary, drg)
	e.reconcile(primary, longAgo)

	for _, r := range []string{p, dr} {
		e.st.Vaults = append(e.st.Vaults, &vault{Name: BackupVault, Region: r, CreatorRequestID: "seed", Created: longAgo})
	}
	plan, _ := json.Marshal(map[string]any{"BackupPlanName": BackupPlanName, "Rules": []any{map[string]any{
		"RuleName": "daily", "TargetBackupVaultName": BackupVault, "ScheduleExpression": "cron(0 5 * * ? *)",
		"StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "EnableContinuousBackup": true,
		"RuleId": uuidFrom(p + "/" + BackupPlanName + "/daily"), "Lifecycle": map[string]any{"DeleteAfterDays": 35}}}})
	bp := &backupPlan{ID: e.newUUID(), Name: BackupPlanName, Region: p, VersionID: e.newUUID(), CreatorRequestID: "seed",
		Created: longAgo, Plan: plan}
	e.st.Plans = append(e.st.Plans, bp)

	resources := []*resourceRef{{arn: "arn:aws:s3:::" + ModelBucket, typ: "S3", name: ModelBucket, region: p, bucket: ModelBucket},
		{arn: fs.arn(), typ: "EFS", name: PipelineFS, region: p, fs: fs}}
	for _, v := range vols {
		resources = append(resources, &resourceRef{arn: "arn:aws:ec2:" + p + ":" + accountID + ":volume/" + v.ID,
			typ: "EBS", name: DatasetTag, region: p, vol: v})
	}
	if _, ok := s3.bucketRegion(ModelBucket); !ok {
		resources = resources[1:]
	}
	today := now.Truncate(day).Add(5 * time.Hour)
	if today.After(now) {
		today = today.Add(-day)
	}
	for d := o.Sizes.RecoveryPointDays - 1; d >= 0; d-- {
		at := today.Add(-time.Duration(d) * day)
		for _, res := range resources {
			start := at.Add(time.Duration(rng.Intn(600)) * time.Second)
			rp := e.newRecoveryPoint(BackupVault, res, start, start.Add(time.Duration(5+rng.Intn(40))*time.Minute), "")
			rp.PlanID = bp.ID
			if res.typ == "S3" {
				rp.SizeBytes = int64(o.Sizes.Models*o.Sizes.VersionsPerModel*o.Sizes.ObjectBytes) * 2
			}
		}
	}
	if len(resources) > 0 && resources[0].typ == "S3" && o.Sizes.RecoveryPointDays > 0 {
		cont := &recoveryPoint{ARN: fmt.Sprintf("arn:aws:backup:%s:%s:recovery-point:continuous:%s-%08x", p, accountID, ModelBucket, uint32(mix64(uint64(o.Seed)))),
			Vault: BackupVault, Region: p, ResourceArn: resources[0].arn, ResourceType: "S3", ResourceName: ModelBucket,
			Created: now.Add(-time.Duration(o.Sizes.RecoveryPointDays) * day), Continuous: true, PlanID: bp.ID}
		cont.Completed = cont.Created
		e.st.RecoveryPoints = append(e.st.RecoveryPoints, cont)
	}

	for _, r := range []struct{ region, group string }{{p, PrimaryGroup}, {dr, DRGroup}} {
		dims := []dimension{{"AutoScalingGroupName", r.group}}
		e.st.Alarms = append(e.st.Alarms,
			&alarm{Name: Alarm5xx, Region: r.region, Description: "5xx rate of model serving above 2%",
				Namespace: inferenceNS, MetricName: "HTTPCode_5XX_Rate", Statistic: "Average", Unit: "Percent", Dimensions: dims,
				Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 2, ComparisonOperator: "GreaterThanThreshold",
				ActionsEnabled: true, State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo},
			&alarm{Name: AlarmP99, Region: r.region, Description: "p99 inference latency above 500 ms",
				Namespace: inferenceNS, MetricName: "LatencyP99", Statistic: "Maximum", Unit: "Milliseconds", Dimensions: dims,
				Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 500, ComparisonOperator: "GreaterThanThreshold",
				ActionsEnabled: true, State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo},
			&alarm{Name: AlarmHealth, Region: r.region, Description: "model serving health", Composite: true,
				AlarmRule: "ALARM(" + Alarm5xx + ") OR ALARM(" + AlarmP99 + ")", ActionsEnabled: true,
				State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo})
	}
	e.st.Alarms = append(e.st.Alarms, &alarm{Name: AlarmDRCapacity, Region: dr,
		Description: fmt.Sprintf("DR fleet has fewer than %d instances in service", drCapacityTarget),
		Namespace:   "AWS/AutoScaling", MetricName: "GroupInServiceInstances", Statistic: "Minimum",
		Dimensions: []dimension{{"AutoScalingGroupName", DRGroup}}, Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1,
		Threshold: drCapacityTarget, ComparisonOperator: "LessThanThreshold", ActionsEnabled: true,
		State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo})
	return nil
}
