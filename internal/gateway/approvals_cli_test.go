package gateway

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildCLI builds cmd/mlflow-guard once per test binary run. The gateway
// package cannot import internal/cli (cli imports gateway), so the CLI is
// driven as users run it.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mlflow-guard")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/mlflow-guard")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runCLI(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// cliScenario: request with the CLI as alice, refuse her own approval,
// approve as bob, list, and promote with the real client.
func cliScenario(t *testing.T, h *harness, mdl string) {
	bin := buildCLI(t)
	as := func(user string) []string {
		return []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_TRACKING_TOKEN=", "MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + h.creds[user]}
	}
	code, out, errs := runCLI(t, bin, as("alice"), "approvals", "request", mdl, "3", "--stage", "staging")
	m := regexp.MustCompile(`(?m)^([0-9a-f]{24})\s+` + regexp.QuoteMeta(mdl) + `\s+3\s+stage:Staging\s+pending\s+alice`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("request: exit %d\n%s%s", code, out, errs)
	}
	id := m[1]
	if code, _, errs = runCLI(t, bin, as("alice"), "approvals", "approve", id); code != 1 || !strings.Contains(errs, "MLG105") || !strings.Contains(errs, "second person") {
		t.Errorf("self-approval: exit %d %s", code, errs)
	}
	if code, out, errs = runCLI(t, bin, as("bob"), "approvals", "approve", id, "--reason", "ok"); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: exit %d %s%s", code, out, errs)
	}
	if code, out, _ = runCLI(t, bin, as("bob"), "approvals", "list", "--status", "approved"); code != 0 || !strings.Contains(out, id) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, _, errs = runCLI(t, bin, []string{"MLFLOW_TRACKING_URI=" + h.url}, "approvals", "list"); code != 2 {
		t.Errorf("no credentials: exit %d %s", code, errs)
	}
	if rs := runClient(t, h, "alice", step("transition", mdl, "3", "Staging")); !rs[0].OK {
		t.Errorf("promotion after the CLI approval: %+v", rs[0])
	}
	if s := upstreamVersion(t, h, mdl, "3").CurrentStage; s != "Staging" {
		t.Errorf("stage at MLflow: %s", s)
	}
}
