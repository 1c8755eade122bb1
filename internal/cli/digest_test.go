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
