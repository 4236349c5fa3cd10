package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzServeHTTP sends arbitrary requests to every service but S3 (which
// has its own fuzz targets): whatever arrives, the sandbox answers and
// does not panic.
func FuzzServeHTTP(f *testing.F) {
	services := []string{"ec2", "autoscaling", "monitoring", "backup", "sts", "elasticfilesystem"}
	f.Add(uint8(0), "POST", "/", "Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=tag:Name&Filter.1.Value.1=ai-*&MaxResults=5")
	f.Add(uint8(0), "POST", "/", "Action=CreateSnapshots&InstanceSpecification.InstanceId=i-1&TagSpecification.1.Tag.1.Key=k")
	f.Add(uint8(1), "POST", "/", "Action=SetDesiredCapacity&AutoScalingGroupName=ai-inference&DesiredCapacity=-3")
	f.Add(uint8(2), "POST", "/", "Action=GetMetricData&StartTime=2026-01-01T00:00:00Z&EndTime=2027-01-01T00:00:00Z&MetricDataQueries.member.1.Id=a&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS/S3")
	f.Add(uint8(2), "POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", "\xa1jMaxRecords\x02")
	f.Add(uint8(2), "POST", "/service/GraniteServiceVersion20100801/operation/PutCompositeAlarm", "\xa2iAlarmNameaxiAlarmRuleeALARM")
	f.Add(uint8(3), "PUT", "/restore-jobs", `{"RecoveryPointArn":"x","Metadata":{"DestinationBucketName":"b"}}`)
	f.Add(uint8(3), "GET", "/backup-vaults/ai-dr-vault/recovery-points?maxResults=0&createdBefore=bad", "")
	f.Add(uint8(3), "PUT", "/backup/plans", `{"BackupPlan":{"BackupPlanName":"p","Rules":[1,{"RuleName":2}]}}`)
	f.Add(uint8(4), "POST", "/", "Action=GetCallerIdentity")
	f.Add(uint8(5), "GET", "/2015-02-01/file-systems?MaxItems=1&Marker=zz", "")
	s, err := New(Options{Seed: 1, Sizes: EstateSizes{Models: 1, VersionsPerModel: 2, Volumes: 1, RecoveryPointDays: 2},
		Clock: func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, svc uint8, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, adminPrefix) {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		name := services[int(svc)%len(services)]
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260501/us-east-1/"+name+"/aws4_request, SignedHeaders=host, Signature=00")
		if method == http.MethodPost && !strings.HasPrefix(path, "/service/") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code == 0 {
			t.Fatalf("%s %s %s: no status", name, method, path)
		}
	})
}
