package gateway

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// BenchmarkUploadScan is the gateway's own CPU cost per uploaded byte
// with upload scanning off and on, against an in-process upstream that
// discards the body (bench/gate.sh measures the same against MLflow).
func BenchmarkUploadScan(b *testing.B) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	_, _ = w.Write([]byte("\x80\x02}q\x00."))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Store})
	chunk := make([]byte, 1<<20)
	_, _ = rand.Read(chunk)
	for range 128 {
		_, _ = w.Write(chunk)
	}
	_ = zw.Close()
	body := zb.Bytes()
	for _, mode := range []string{policy.GateOff, policy.GateDeny} {
		b.Run("uploads-"+mode, func(b *testing.B) {
			f := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}}
			f.discard = true
			base, tok, _ := startFakeGateway(b, f, policy.Config{Uploads: policy.UploadsConfig{Mode: mode}})
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPut, base+"/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model.pt", bytes.NewReader(body))
				req.Host = "127.0.0.1"
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%d", resp.StatusCode)
				}
			}
		})
	}
}
