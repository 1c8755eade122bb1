package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/report"
)

// scanDir runs `scan --format json` on dir and returns the exit code and
// the findings.
func scanDir(t *testing.T, dir string) (int, []finding.Finding) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"scan", "--format", "json", dir},
		Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	var rep struct {
		Findings []finding.Finding `json:"findings"`
		Errors   []finding.Error   `json:"errors"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("scan %s: exit %d, bad JSON: %v\nstderr: %s", dir, code, err, errb.String())
	}
	if errs, _ := report.SplitNotes(rep.Errors); len(errs) > 0 {
		t.Fatalf("scan %s: errors %v", dir, errs)
	}
	return code, rep.Findings
}

// copyExample copies examples/deploy-guarded into a temporary folder and
// applies edits (old -> new) to its docker-compose.yml.
func copyExample(t *testing.T, edits ...string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "examples", "deploy-guarded")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "docker-compose.yml" {
			s := string(b)
			for i := 0; i+1 < len(edits); i += 2 {
				if !strings.Contains(s, edits[i]) {
					t.Fatalf("docker-compose.yml no longer contains %q", edits[i])
				}
				s = strings.Replace(s, edits[i], edits[i+1], 1)
			}
			b = []byte(s)
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestDeployGuardedExample: the guarded example passes a default scan, and
// it passes because the deploy analyzer sees mlflow-guard in front of the
// MLflow server: publishing MLflow's own port, or pointing the gateway at
// another upstream, brings MLG401 back.
func TestDeployGuardedExample(t *testing.T) {
	code, fs := scanDir(t, filepath.Join(repoRoot(t), "examples", "deploy-guarded"))
	for _, f := range fs {
		if f.Level == finding.Strict {
			t.Errorf("strict finding in examples/deploy-guarded: %s:%d %s %s", f.Path, f.Line, f.RuleID, f.Message)
		}
	}
	if code != 0 {
		t.Errorf("scan examples/deploy-guarded: exit %d, want 0", code)
	}

	const mlflowNet = "    networks: [backend]\n    depends_on:\n      db:"
	published := "    networks: [backend]\n    ports:\n      - \"5000:5000\"\n    depends_on:\n      db:"
	mlg401 := func(fs []finding.Finding) []finding.Finding {
		var out []finding.Finding
		for _, f := range fs {
			if f.RuleID == "MLG401" {
				out = append(out, f)
			}
		}
		return out
	}

	// MLflow's port published: reachable around the gateway
	code, fs = scanDir(t, copyExample(t, mlflowNet, published))
	got := mlg401(fs)
	if code != 1 || len(got) != 1 || !strings.Contains(got[0].Message, "around the authenticating front") {
		t.Errorf("published MLflow port: exit %d, MLG401 %v; want one MLG401 naming the front it bypasses", code, got)
	}
	// the MLflow finding is placed where the server is started: the image's
	// CMD, run through the entrypoint script
	if len(got) == 1 && got[0].Path != "mlflow/Dockerfile" {
		t.Errorf("MLG401 at %s:%d, want mlflow/Dockerfile", got[0].Path, got[0].Line)
	}

	// the gateway points elsewhere: it vouches for nothing here
	code, fs = scanDir(t, copyExample(t, mlflowNet, published, `"http://mlflow:5000"`, `"http://other:5000"`))
	got = mlg401(fs)
	if code != 1 || len(got) != 1 || strings.Contains(got[0].Message, "front") {
		t.Errorf("gateway with another upstream: exit %d, MLG401 %v; want one MLG401 with no front", code, got)
	}
}
