package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"time"
)

// drCapacityTarget is the DR fleet size below which its capacity alarm fires.
const drCapacityTarget = 2

// Tags of the shared contract that say what a resource is for and what
// recovery it is held to.
const (
	roleTag = "drconsole:role"
	rpoTag  = "drconsole:rpo"
	rtoTag  = "drconsole:rto"
)

// seedEstate builds the default estate, deterministic from the seed.
func seedEstate(s3 *s3Service, e *estate, o *Options, now time.Time) error {
	rng := rand.New(rand.NewSource(o.Seed))
	n := o.Names
	if err := s3.seedModels(rng, o, now); err != nil {
		return fmt.Errorf("seed model buckets: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, dr := o.PrimaryRegion, o.DRRegion
	day := 24 * time.Hour
	longAgo := now.Add(-time.Duration(o.Sizes.HistoryDays) * day).Truncate(time.Hour)

	fs := &fileSystem{ID: e.newID("fs"), Region: p, Name: n.PipelineFS, CreationToken: n.PipelineFS,
		PerformanceMode: "generalPurpose", Throughput: "elastic", Created: longAgo,
		SizeBytes: (200 + rng.Int63n(100)) << 30, Encrypted: true, Tags: []tag{{"Name", n.PipelineFS}, {"team", "ml-platform"}, {roleTag, "pipeline-store"}, {rpoTag, "24h"}}}
	e.st.FileSystems = append(e.st.FileSystems, fs)

	loader := &instance{ID: e.newID("i"), Region: p, AZ: p + "a", Type: "m6i.2xlarge",
		ImageID: fmt.Sprintf("ami-0%016x", hashString("data-loader")), Launched: longAgo, Tags: []tag{{"Name", n.DataLoader}}}
	e.st.Instances = append(e.st.Instances, loader)
	var vols []*volume
	for i := 0; i < o.Sizes.Volumes; i++ {
		v := &volume{ID: e.newID("vol"), Region: p, AZ: p + "a", Size: 500 * (1 + rng.Intn(4)), VolumeType: "gp3",
			Created: longAgo, InstanceID: loader.ID, Device: fmt.Sprintf("/dev/sd%c", 'f'+i%20), Encrypted: true,
			Tags: []tag{{"Name", n.DatasetTag}, {"dataset", fmt.Sprintf("shard-%02d", i)}, {roleTag, "dataset"}, {rpoTag, "24h"}}}
		vols = append(vols, v)
		e.st.Volumes = append(e.st.Volumes, v)
	}

	// A scratch volume beside the datasets, unattached and of no role.
	e.st.Volumes = append(e.st.Volumes, &volume{ID: e.newID("vol"), Region: p, AZ: p + "b", Size: 100, VolumeType: "gp3",
		Created: now.Add(-3 * day).Truncate(time.Hour), Encrypted: true, Tags: []tag{{"Name", n.ScratchTag}, {"team", "ml-platform"}}})
	// Plain EBS snapshots of the datasets, taken by hand rather than by AWS
	// Backup: one each a day ago, and one of the first volume still
	// pending, as a large snapshot is for hours.
	for i, v := range vols {
		e.st.Snapshots = append(e.st.Snapshots, &snapshot{ID: e.newID("snap"), Region: p, VolumeID: v.ID, VolumeSize: v.Size,
			Description: "manual snapshot before reindexing", Start: now.Add(-day).Add(time.Duration(i) * time.Minute).Truncate(time.Second),
			Tags: []tag{{"Name", n.DatasetTag}}})
	}
	if len(vols) > 0 {
		const took = 5 * time.Hour
		e.st.Snapshots = append(e.st.Snapshots, &snapshot{ID: e.newID("snap"), Region: p, VolumeID: vols[0].ID,
			VolumeSize: vols[0].Size, Description: "manual snapshot", Duration: took,
			Start: now.Add(-took * 42 / 100).Truncate(time.Second), Tags: []tag{{"Name", n.DatasetTag}}})
	}

	azs := func(r string) []string { return []string{r + "a", r + "b", r + "c"} }
	primary := &asGroup{Name: n.PrimaryGroup, Region: p, LaunchTemplate: n.LaunchTemplate, Min: 2, Max: 8, Desired: 4,
		AZs: azs(p), Created: longAgo, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300,
		Tags:                 []tag{{"service", "inference"}, {roleTag, "serving"}},
		ServiceLinkedRoleARN: "arn:aws:iam::" + accountID + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}
	drg := &asGroup{Name: n.DRGroup, Region: dr, LaunchTemplate: n.LaunchTemplate, Min: 0, Max: 8, Desired: 0,
		AZs: azs(dr), Created: longAgo, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300,
		Tags: []tag{{"service", "inference"}, {"role", "dr"}, {roleTag, "dr-fleet"}, {rtoTag, "30m"}}, ServiceLinkedRoleARN: primary.ServiceLinkedRoleARN}
	// A real estate holds more than the recovery path: a batch group in the
	// DR region with no role, scaled in, which readers must not take for
	// the DR fleet.
	batch := &asGroup{Name: n.BatchGroup, Region: dr, LaunchTemplate: n.BatchGroup, Min: 0, Max: 16, Desired: 0,
		AZs: azs(dr), Created: longAgo, HealthCheckGracePeriod: 300, HealthType: "EC2", DefaultCooldown: 300,
		Tags: []tag{{"service", "batch"}}, ServiceLinkedRoleARN: primary.ServiceLinkedRoleARN}
	e.st.Groups = append(e.st.Groups, primary, drg, batch)
	e.reconcile(primary, longAgo)

	for _, r := range []string{p, dr} {
		e.st.Vaults = append(e.st.Vaults, &vault{Name: n.BackupVault, Region: r, CreatorRequestID: "seed", Created: longAgo})
	}
	plan, _ := json.Marshal(map[string]any{"BackupPlanName": n.BackupPlan, "Rules": []any{map[string]any{
		"RuleName": "daily", "TargetBackupVaultName": n.BackupVault, "ScheduleExpression": "cron(0 5 * * ? *)",
		"StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "EnableContinuousBackup": true,
		"RuleId": uuidFrom(p + "/" + n.BackupPlan + "/daily"), "Lifecycle": map[string]any{"DeleteAfterDays": 35}}}})
	bp := &backupPlan{ID: e.newUUID(), Name: n.BackupPlan, Region: p, VersionID: e.newUUID(), CreatorRequestID: "seed",
		Created: longAgo, Plan: plan}
	e.st.Plans = append(e.st.Plans, bp)

	resources := []*resourceRef{{arn: "arn:aws:s3:::" + n.ModelBucket, typ: "S3", name: n.ModelBucket, region: p, bucket: n.ModelBucket},
		{arn: fs.arn(), typ: "EFS", name: n.PipelineFS, region: p, fs: fs}}
	for _, v := range vols {
		resources = append(resources, &resourceRef{arn: "arn:aws:ec2:" + p + ":" + accountID + ":volume/" + v.ID,
			typ: "EBS", name: n.DatasetTag, region: p, vol: v})
	}
	if _, ok := s3.bucketRegion(n.ModelBucket); !ok {
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
			rp := e.newRecoveryPoint(n.BackupVault, res, start, start.Add(time.Duration(5+rng.Intn(40))*time.Minute), "")
			rp.PlanID = bp.ID
			if res.typ == "S3" {
				rp.SizeBytes = int64(o.Sizes.Models*o.Sizes.VersionsPerModel*o.Sizes.ObjectBytes) * 2
			}
		}
	}
	if len(resources) > 0 && resources[0].typ == "S3" && o.Sizes.RecoveryPointDays > 0 {
		cont := &recoveryPoint{ARN: fmt.Sprintf("arn:aws:backup:%s:%s:recovery-point:continuous:%s-%08x", p, accountID, n.ModelBucket, uint32(mix64(uint64(o.Seed)))),
			Vault: n.BackupVault, Region: p, ResourceArn: resources[0].arn, ResourceType: "S3", ResourceName: n.ModelBucket,
			Created: now.Add(-time.Duration(o.Sizes.RecoveryPointDays) * day), Continuous: true, PlanID: bp.ID}
		cont.Completed = cont.Created
		e.st.RecoveryPoints = append(e.st.RecoveryPoints, cont)
	}

	for _, r := range []struct{ region, group string }{{p, n.PrimaryGroup}, {dr, n.DRGroup}} {
		dims := []dimension{{"AutoScalingGroupName", r.group}}
		e.st.Alarms = append(e.st.Alarms,
			&alarm{Name: n.Alarm5xx, Region: r.region, Description: "5xx rate of model serving above 2%",
				Namespace: inferenceNS, MetricName: "HTTPCode_5XX_Rate", Statistic: "Average", Unit: "Percent", Dimensions: dims,
				Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 2, ComparisonOperator: "GreaterThanThreshold",
				ActionsEnabled: true, State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo},
			&alarm{Name: n.AlarmP99, Region: r.region, Description: "p99 inference latency above 500 ms",
				Namespace: inferenceNS, MetricName: "LatencyP99", Statistic: "Maximum", Unit: "Milliseconds", Dimensions: dims,
				Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 500, ComparisonOperator: "GreaterThanThreshold",
				ActionsEnabled: true, State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo},
			&alarm{Name: n.AlarmHealth, Region: r.region, Description: "model serving health", Composite: true,
				AlarmRule: "ALARM(" + n.Alarm5xx + ") OR ALARM(" + n.AlarmP99 + ")", ActionsEnabled: true,
				State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo})
	}
	e.st.Alarms = append(e.st.Alarms, &alarm{Name: n.AlarmDRCapacity, Region: dr,
		Description: fmt.Sprintf("DR fleet has fewer than %d instances in service", drCapacityTarget),
		Namespace:   "AWS/AutoScaling", MetricName: "GroupInServiceInstances", Statistic: "Minimum",
		Dimensions: []dimension{{"AutoScalingGroupName", n.DRGroup}}, Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1,
		Threshold: drCapacityTarget, ComparisonOperator: "LessThanThreshold", ActionsEnabled: true,
		State: "INSUFFICIENT_DATA", StateUpdated: longAgo, ConfigUpdated: longAgo})
	return nil
}
