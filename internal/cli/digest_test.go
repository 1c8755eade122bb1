package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigestThenVerify writes a manifest inside the model directory with
// the digest command, then checks scan --verify reports each change.
func TestDigestThenVerify(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"MLmodel": "flavors: {}\n", "model.skops": "w", "sub/conda.yaml": "name: x\n"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "MANIFEST.sha256")
	code, _, stderr := run(t, "digest", "-o", manifest, dir)
	if code != ExitOK {
		t.Fatalf("digest exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "MANIFEST.sha256") || !strings.Contains(string(b), "  sub/conda.yaml") {
		t.Fatalf("manifest content:\n%s", b)
	}
	if code, out, _ := run(t, "scan", "--verify", manifest, "--format", "json", dir); strings.Contains(out, "MLG110") {
		t.Fatalf("unchanged dir reported (exit %d): %s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.skops"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "scan", "--verify", manifest, "--format", "json", dir)
	if code != ExitFindings || !strings.Contains(out, `"MLG110"`) || !strings.Contains(out, `"path": "model.skops"`) {
		t.Fatalf("tampered file not reported (exit %d): %s", code, out)
	}

	if code, _, _ := run(t, "digest"); code != ExitUsage {
		t.Fatalf("digest without DIR: exit %d", code)
	}
	if code, _, _ := run(t, "digest", filepath.Join(dir, "MLmodel")); code != ExitUsage {
		t.Fatalf("digest of a file: exit %d", code)
	}
	code, stdout, _ := run(t, "digest", filepath.Join(dir, "sub"))
	if code != ExitOK || !strings.HasPrefix(stdout, "# mlflow-guard digest v1") || !strings.Contains(stdout, "  conda.yaml\n") {
		t.Fatalf("digest to stdout (exit %d):\n%s", code, stdout)
	}
}

// TestVerifyJudgesOnlyTheManifestDirectory: scan --verify MANIFEST PATH
// checks the manifest's own directory whatever PATH is: the rest of the
// repository is not "not listed in the manifest", and the directory's
// changes are reported under the scan's paths.
func TestVerifyJudgesOnlyTheManifestDirectory(t *testing.T) {
	repo := t.TempDir()
	for name, body := range map[string]string{
		"models/churn/MLmodel":     "flavors: {}\n",
		"models/churn/model.skops": "w",
		"train.py":                 "print('hi')\n",
		"docs/README.md":           "# docs\n",
	} {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mdir := filepath.Join(repo, "models", "churn")
	manifest := filepath.Join(mdir, "MANIFEST.sha256")
	if code, _, stderr := run(t, "digest", "-o", manifest, mdir); code != ExitOK {
		t.Fatalf("digest exit %d: %s", code, stderr)
	}
	for _, root := range []string{repo, filepath.Join(repo, "models"), mdir} {
		code, out, stderr := run(t, "scan", "--verify", manifest, "--format", "json", root)
		if code != ExitOK || strings.Contains(out, "MLG110") {
			t.Errorf("scan --verify of an unchanged model dir with PATH %s: exit %d\n%s\n%s", root, code, out, stderr)
		}
	}
	if err := os.WriteFile(filepath.Join(mdir, "model.skops"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	for root, path := range map[string]string{repo: "models/churn/model.skops", mdir: "model.skops"} {
		code, out, _ := run(t, "scan", "--verify", manifest, "--format", "json", root)
		if code != ExitFindings || strings.Count(out, `"rule_id": "MLG110"`) != 1 || !strings.Contains(out, `"path": "`+path+`"`) {
			t.Errorf("tampered file with PATH %s: exit %d, want one MLG110 at %s:\n%s", root, code, path, out)
		}
	}
	// A scan path inside the model directory ties the manifest to the
	// scan as well: the whole directory is checked.
	code, out, _ := run(t, "scan", "--verify", manifest, "--format", "json", filepath.Join(mdir, "MLmodel"))
	if code != ExitFindings || strings.Count(out, `"rule_id": "MLG110"`) != 1 {
		t.Errorf("tampered file, PATH inside the model dir: exit %d:\n%s", code, out)
	}
}
