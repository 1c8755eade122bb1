package release

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

func readVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(v) {
		t.Fatalf("VERSION %q is not MAJOR.MINOR.PATCH", v)
	}
	return v
}

// VERSION is the one source: release builds stamp it with -ldflags -X; a
// plain `go build` says it is a development build of the same version.
func TestVersionFile(t *testing.T) {
	v := readVersion(t)
	if cli.Version != v+"-dev" {
		t.Errorf("cli.Version default %q, want %q (VERSION + -dev)", cli.Version, v+"-dev")
	}
	changelog, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(changelog, []byte("## ["+v+"]")) {
		t.Errorf("CHANGELOG.md has no section for %s", v)
	}
}

func run(env cli.Env, args ...string) int { return cli.Run(context.Background(), args, env) }

func scanJSON(t *testing.T, paths ...string) (int, map[string]any) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := run(env, append([]string{"scan", "--format", "json", "-q"}, paths...)...)
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("scan %v: exit %d, no JSON report: %v\nstderr: %s", paths, code, err, errb.String())
	}
	return code, rep
}

func ruleIDs(rep map[string]any) []string {
	var ids []string
	for _, f := range rep["findings"].([]any) {
		ids = append(ids, f.(map[string]any)["rule_id"].(string))
	}
	return ids
}

// The image's Dockerfile passes our own scan. MLG410 judges only images
// that start an MLflow server, so the control below swaps the entry point
// for `mlflow server`: without our USER line the scanner must flag it, with
// it it must not. That shows the USER line is what keeps the image clean.
func TestDockerfile(t *testing.T) {
	root := testenv.RepoRoot()
	src, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	code, rep := scanJSON(t, filepath.Join(root, "Dockerfile"))
	if code != 0 || len(ruleIDs(rep)) != 0 || len(rep["errors"].([]any)) != 0 {
		t.Fatalf("scan Dockerfile: exit %d, findings %v, errors %v", code, ruleIDs(rep), rep["errors"])
	}
	if n := rep["summary"].(map[string]any)["files_scanned"].(float64); n != 1 {
		t.Fatalf("Dockerfile not analyzed: files_scanned %v", n)
	}
	text := string(src)
	for _, want := range []string{"\nUSER 65532:65532\n", "\nENTRYPOINT [\"/usr/local/bin/mlflow-guard\"]\n", "AS build\n", "internal/cli.Version=$(tr -d ' \\n\\r' < VERSION)"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	mlflow := strings.Replace(text, `ENTRYPOINT ["/usr/local/bin/mlflow-guard"]`+"\nCMD [\"scan\", \"/src\"]",
		`ENTRYPOINT ["mlflow", "server", "--host", "127.0.0.1"]`, 1)
	if mlflow == text {
		t.Fatal("control: entry point not found in the Dockerfile")
	}
	dir := t.TempDir()
	noUser := strings.Replace(mlflow, "USER 65532:65532\n", "", 1)
	if !strings.Contains(noUser, "distroless/base-debian12:nonroot") {
		t.Fatal("control: the runtime stage is no longer distroless :nonroot; update the control")
	}
	for name, body := range map[string]string{
		"with-user/Dockerfile": mlflow,
		// distroless :nonroot already runs as 65532; its root-running tag is the control.
		"nonroot-base/Dockerfile": noUser,
		"as-root/Dockerfile":      strings.Replace(noUser, "base-debian12:nonroot", "base-debian12", 1),
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, rep = scanJSON(t, filepath.Join(dir, "as-root"))
	if !contains(ruleIDs(rep), "MLG410") {
		t.Errorf("control without USER: findings %v, want MLG410", ruleIDs(rep))
	}
	for _, name := range []string{"with-user", "nonroot-base"} {
		_, rep = scanJSON(t, filepath.Join(dir, name))
		if contains(ruleIDs(rep), "MLG410") {
			t.Errorf("control %s: findings %v, want no MLG410", name, ruleIDs(rep))
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func venvTool(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(testenv.Venv(), "bin", name)
	if _, err := os.Stat(p); err != nil {
		testenv.Require(t, name+" in the test virtualenv (pip install -r scripts/requirements-test.txt)")
	}
	return p
}

// action.yml is checked against the GitHub Actions action-metadata schema
// that check-jsonschema ships (vendor.github-actions, from SchemaStore);
// a broken copy must fail the same check.
func TestActionMetadataSchema(t *testing.T) {
	cj := venvTool(t, "check-jsonschema")
	root := testenv.RepoRoot()
	check := func(path string) (string, error) {
		out, err := exec.Command(cj, "--builtin-schema", "vendor.github-actions", path).CombinedOutput()
		return string(out), err
	}
	if out, err := check(filepath.Join(root, "action.yml")); err != nil {
		t.Fatalf("action.yml fails the schema: %v\n%s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, broken := range map[string]string{
		"runs.using": strings.Replace(string(src), "using: composite", "using: docker-compose", 1),
		"no shell":   strings.Replace(string(src), "      shell: bash\n      env:\n        MLG_VERSION", "      env:\n        MLG_VERSION", 1),
	} {
		if broken == string(src) {
			t.Fatalf("%s: mutation did not apply", name)
		}
		p := filepath.Join(t.TempDir(), "action.yml")
		if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := check(p); err == nil {
			t.Errorf("%s: a broken action.yml passes the schema:\n%s", name, out)
		}
	}
	// every input the README's workflow uses exists
	for _, in := range []string{"version", "paths", "fail-on", "format", "config", "upload-sarif"} {
		if !strings.Contains(string(src), "\n  "+in+":\n") {
			t.Errorf("action.yml has no input %q", in)
		}
	}
	if !strings.Contains(string(src), "github/codeql-action/upload-sarif@") {
		t.Error("action.yml does not upload SARIF")
	}
}
