package pull

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
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

// A hostile server (or anything between the client and MLflow) answers
// listings with names MLflow's own proxy never produces. These error paths
// cannot be reached with the real server, so a small in-process fake
// serves them; the real server is in live_test.go.
func TestHostileListing(t *testing.T) {
	key, _ := approval.GenerateKey(nil)
	content := []byte("flavors: {}\n")
	sums := map[string]string{"MLmodel": sha(content)}
	var mb bytes.Buffer
	_ = model.WriteManifest(&mb, sums)
	digest := model.ManifestDigest(sums)
	now := time.Now().UTC().Truncate(time.Second)
	rec, _ := approval.Encode(approval.Record{V: 1, Model: "m", Version: "1", Digest: digest, Verdict: "pass",
		Requester: "a", Approver: "b", ApprovedAt: now, ExpiresAt: now.Add(time.Hour)}, key)
	mv := map[string]any{"model_version": map[string]any{"name": "m", "version": "1", "status": "READY",
		"tags": []map[string]string{{"key": approval.TagManifest, "value": mb.String()}, {"key": approval.TagDigest, "value": digest},
			{"key": approval.TagApproval, "value": rec}}}}

	for _, tc := range []struct {
		name    string
		listing []map[string]any
		rule    string
	}{
		{"parent", []map[string]any{{"path": "..", "is_dir": true}}, "MLG109"},
		{"dotdot path", []map[string]any{{"path": "../../etc/cron.d/x", "file_size": 3}}, "MLG109"},
		{"absolute", []map[string]any{{"path": "/etc/passwd", "file_size": 3}}, "MLG109"},
		{"nested name", []map[string]any{{"path": "a/b", "file_size": 3}}, "MLG109"},
		{"nul", []map[string]any{{"path": "MLmodel\x00.sh", "file_size": 3}}, "MLG109"},
		{"backslash", []map[string]any{{"path": `..\x`, "file_size": 3}}, "MLG109"},
		{"duplicate", []map[string]any{{"path": "MLmodel", "file_size": 12}, {"path": "MLmodel", "file_size": 12}}, "MLG109"},
		{"grows past its listed size", []map[string]any{{"path": "MLmodel", "file_size": 4}}, "MLG110"},
		{"extra directory", []map[string]any{{"path": "MLmodel", "file_size": 12}, {"path": "x", "is_dir": true}}, "MLG110"},
		{"empty directory", []map[string]any{{"path": "MLmodel", "file_size": 12}, {"path": "empty", "is_dir": true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == mlflowapi.PathGetModelVersion:
					_ = json.NewEncoder(w).Encode(mv)
				case r.URL.Path == mlflowapi.PathModelVersionDownload:
					_ = json.NewEncoder(w).Encode(map[string]string{"artifact_uri": "mlflow-artifacts:/0/m/artifacts"})
				case r.URL.Path == mlflowapi.PathArtifactsProxy && r.URL.Query().Get("path") == "0/m/artifacts":
					_ = json.NewEncoder(w).Encode(map[string]any{"files": tc.listing})
				case r.URL.Path == mlflowapi.PathArtifactsProxy && r.URL.Query().Get("path") == "0/m/artifacts/x":
					_ = json.NewEncoder(w).Encode(map[string]any{"files": []map[string]any{{"path": "planted.py", "file_size": 1}}})
				case r.URL.Path == mlflowapi.PathArtifactsProxy && r.URL.Query().Get("path") == "0/m/artifacts/empty":
					_, _ = w.Write([]byte("{}"))
				case r.URL.Path == mlflowapi.PathArtifactsProxy+"/0/m/artifacts/MLmodel":
					_, _ = w.Write(content)
				default:
					t.Errorf("unexpected request %s", r.URL)
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			c, _ := mlflowapi.New(srv.URL, mlflowapi.Options{Retries: -1})
			parent := t.TempDir()
			_, err := Pull(context.Background(), Options{Client: c, URI: "models:/m/1", Dest: filepath.Join(parent, "out"),
				Keys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if ents, _ := os.ReadDir(filepath.Join(parent, "out")); len(ents) != 1 || ents[0].Name() != "MLmodel" {
					t.Fatalf("installed %v, want MLmodel only", ents)
				}
				return
			}
			var rf *Refusal
			if !errors.As(err, &rf) || rf.RuleID != tc.rule {
				t.Fatalf("err = %v, want a %s refusal", err, tc.rule)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
			for _, p := range []string{"/etc/cron.d/x", filepath.Join(parent, "..", "x")} {
				if _, err := os.Stat(p); err == nil && strings.Contains(p, parent) {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
