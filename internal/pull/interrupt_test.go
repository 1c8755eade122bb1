package pull

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// An interrupted download and a size cap both fail the pull (not a
// refusal: nothing was judged) and leave nothing behind. A server that
// stops sending mid-file cannot be made from the real one on demand, so
// a small fake serves it.
func TestInterruptedAndCapped(t *testing.T) {
	key, _ := approval.GenerateKey(nil)
	big := bytes.Repeat([]byte("x"), 1<<20)
	sums := map[string]string{"weights.bin": sha(big)}
	var mb bytes.Buffer
	_ = model.WriteManifest(&mb, sums)
	digest := model.ManifestDigest(sums)
	now := time.Now().UTC().Truncate(time.Second)
	rec, _ := approval.Encode(approval.Record{V: 1, Model: "m", Version: "1", Digest: digest, Verdict: "pass",
		Requester: "a", Approver: "b", ApprovedAt: now, ExpiresAt: now.Add(time.Hour)}, key)
	mv := map[string]any{"model_version": map[string]any{"name": "m", "version": "1", "status": "READY",
		"tags": []map[string]string{{"key": approval.TagManifest, "value": mb.String()}, {"key": approval.TagDigest, "value": digest},
			{"key": approval.TagApproval, "value": rec}}}}
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == mlflowapi.PathGetModelVersion:
			_ = json.NewEncoder(w).Encode(mv)
		case r.URL.Path == mlflowapi.PathModelVersionDownload:
			_ = json.NewEncoder(w).Encode(map[string]string{"artifact_uri": "mlflow-artifacts:/0/m/artifacts"})
		case r.URL.Path == mlflowapi.PathArtifactsProxy:
			_ = json.NewEncoder(w).Encode(map[string]any{"files": []map[string]any{{"path": "weights.bin", "file_size": len(big)}}})
		case strings.HasSuffix(r.URL.Path, "/weights.bin"):
			// Half the file, then silence until the client gives up.
			_, _ = w.Write(big[:len(big)/2])
			w.(http.Flusher).Flush()
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	c, _ := mlflowapi.New(srv.URL, mlflowapi.Options{Retries: -1})
	keys := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}

	parent := t.TempDir()
	dest := filepath.Join(parent, "out")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := Pull(ctx, Options{Client: c, URI: "models:/m/1", Dest: dest, Keys: keys})
	var rf *Refusal
	if err == nil || errors.As(err, &rf) || errors.Is(err, ErrUsage) {
		t.Fatalf("interrupted pull: err = %v, want a failure", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 1 || ents[0].Name() != "out" {
		t.Errorf("left behind: %v", ents)
	}
	if ents, _ := os.ReadDir(dest); len(ents) != 0 {
		t.Errorf("DIR was written: %v", ents)
	}

	_, err = Pull(context.Background(), Options{Client: c, URI: "models:/m/1", Dest: filepath.Join(parent, "capped"), Keys: keys, MaxBytes: 1000})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("capped pull: err = %v, want ErrLimit", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
