package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// TestFindingContexts: each finding carries the kind of file it is in, so
// the fix shown fits it: a compose file not named like one gets compose
// advice, a CI workflow (YAML, but no manifest) the generic advice.
func TestFindingContexts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"stack.yml": `services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v3.17.2
    command: mlflow server --host 0.0.0.0 --backend-store-uri postgresql://admin:S3cretPassw0rd99@db.internal/mlflow
    ports: ["5000:5000"]
`,
		".github/workflows/ci.yml": `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      MLFLOW_TRACKING_URI: http://mlflow.example.com
      MLFLOW_BACKEND_STORE_URI: postgresql://admin:S3cretPassw0rd99@db.internal/mlflow
    steps:
      - run: echo hi
`,
		"img/Dockerfile.server": "FROM python:3.11\nENV MLFLOW_TRACKING_PASSWORD=S3cretPassw0rd99x\nCMD mlflow server --host 0.0.0.0 --port 5000\n",
		"k8s/mlflow.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: mlflow}
spec:
  selector: {matchLabels: {app: mlflow}}
  template:
    metadata: {labels: {app: mlflow}}
    spec:
      containers:
        - name: mlflow
          image: ghcr.io/mlflow/mlflow:v3.17.2
          args: ["mlflow", "server", "--host", "0.0.0.0", "--backend-store-uri", "postgresql://admin:S3cretPassw0rd99@db.internal/mlflow"]
---
apiVersion: v1
kind: Service
metadata: {name: mlflow}
spec:
  type: LoadBalancer
  selector: {app: mlflow}
  ports: [{port: 5000}]
`,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"stack.yml":                rules.CtxCompose,
		".github/workflows/ci.yml": rules.CtxOther,
		"img/Dockerfile.server":    rules.CtxDockerfile,
		"k8s/mlflow.yaml":          rules.CtxKubernetes,
	}
	fs, _ := analyzetest.Scan(t, newTest(), dir)
	ix := rules.NewIndex()
	seen := map[string]map[string]bool{}
	for _, f := range fs {
		w, ok := want[f.Path]
		if !ok {
			continue
		}
		if seen[f.Path] == nil {
			seen[f.Path] = map[string]bool{}
		}
		seen[f.Path][f.RuleID] = true
		if f.Context != w && f.Context != rules.CtxAdminPassword && f.Context != rules.CtxDefaultPermission {
			t.Errorf("%s:%d %s: context %q, want %q", f.Path, f.Line, f.RuleID, f.Context, w)
		}
		if r, ok := ix.Lookup(f.RuleID); ok && w != rules.CtxKubernetes {
			if fix := r.FixIn(f.Context, f.Path); containsAny(fix, "secretKeyRef", "Ingress", "ClusterIP", "Helm") {
				t.Errorf("%s %s: Kubernetes advice in a %s file: %q", f.Path, f.RuleID, w, fix)
			}
		}
	}
	for p, ids := range map[string][]string{
		"stack.yml":                {"MLG401", "MLG403"},
		".github/workflows/ci.yml": {"MLG407"},
		"img/Dockerfile.server":    {"MLG403"},
		"k8s/mlflow.yaml":          {"MLG401", "MLG403"},
	} {
		for _, id := range ids {
			if !seen[p][id] {
				t.Errorf("%s: no %s finding; the context check above proves nothing for it (got %v)", p, id, seen[p])
			}
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
