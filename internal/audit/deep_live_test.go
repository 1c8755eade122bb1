package audit_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestAuditDeepLive registers, with the real MLflow client, a models-from-
// code pyfunc, a pyfunc shipping a .env and a credentials.json with fake
// credentials, and a hand-written model whose MLmodel names a path outside
// the model directory, then audits the real server with --deep.
func TestAuditDeepLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an MLflow server")
	}
	srv := testenv.LaunchMLflow(t, testenv.MLflowOptions{})
	srv.Wait(t)
	testenv.RunPython(t, filepath.Join("testdata", "seed_deep.py"), nil, srv.URL)

	code, rep, stderr := runAudit(t, nil, "--tracking-uri", srv.URL, "--deep")
	const fc, leaky, hand = "registered-models/from-code/versions/1", "registered-models/leaky/versions/1", "registered-models/handmade/versions/1"
	want := []string{
		"MLG401 server/auth",
		"MLG108 " + fc + "/MLmodel",
		"MLG108 " + leaky + "/MLmodel",
		"MLG108 " + leaky + "/artifacts/python_model.pkl",
		"MLG204 " + leaky + "/artifacts/artifacts/.env",
		"MLG204 " + leaky + "/artifacts/artifacts/.env",
		"MLG204 " + leaky + "/artifacts/artifacts/.env",
		"MLG204 " + leaky + "/artifacts/artifacts/credentials.json",
		"MLG108 " + hand + "/MLmodel",
		"MLG109 " + hand + "/MLmodel",
	}
	// Not uniq'ed: each finding once, none repeated through artifacts/MLmodel.
	assertSet(t, "deep audit", findingSet(rep), want)
	if code != cli.ExitFindings || rep.Summary.Incomplete {
		t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
	}
	byMsg := map[string]bool{}
	for _, f := range rep.Findings {
		for _, secret := range []string{"AKIA4QZR7TXMB2KWLN6D", "q8Vn3LrT0xZc5WbY7uHs2JkPd9FgAe4MiQo1NtRv", "ghp_R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe2Ku", "ghp_Wm3Xq8Zr1Tb6Vn9Lk2Jh5Gf4Dc7Sa0Pe3Yu8I"} {
			if strings.Contains(f.Message, secret) || strings.Contains(f.Path, secret) {
				t.Errorf("finding %s %s prints a secret: %s", f.RuleID, f.Path, f.Message)
			}
		}
		if f.RuleID == "MLG109" && strings.Contains(f.Message, "model_code_path") {
			t.Errorf("MLG109 for the recorded model_code_path: %s", f.Message)
		}
		if f.RuleID == "MLG108" && strings.HasPrefix(f.Path, fc) && !strings.Contains(f.Message, `"fc_model.py" in the model directory`) {
			t.Errorf("models-from-code MLG108 does not name the file MLflow loads: %s", f.Message)
		}
		k := f.RuleID + " " + f.Message
		if byMsg[k] && f.RuleID != "MLG204" {
			t.Errorf("finding reported twice: %s (%s)", k, f.Path)
		}
		byMsg[k] = true
	}
	for _, e := range rep.Errors {
		t.Errorf("unexpected error %s %s: %s", e.Kind, e.Path, e.Message)
	}

	// A cap the model's files exceed makes the run partial, like the byte budget.
	code, rep, _ = runAudit(t, nil, "--tracking-uri", srv.URL, "--deep", "--deep-budget", "10")
	if !rep.Summary.Incomplete || code != cli.ExitFailed {
		t.Errorf("tiny budget: incomplete=%v exit %d, want partial and exit 3", rep.Summary.Incomplete, code)
	}
	for _, f := range rep.Findings {
		if f.RuleID == "MLG204" {
			t.Errorf("tiny budget still read %s", f.Path)
		}
	}
}
