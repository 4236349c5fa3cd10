package minio

import (
	"net/http"
	"testing"
)

func TestStartServesLiveness(t *testing.T) {
	s := Start(t)
	resp, err := http.Get(s.URL + "/minio/health/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("liveness = %d", resp.StatusCode)
	}
}
