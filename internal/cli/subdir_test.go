package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanSubdirUsesRepoConfig: scanning a directory inside a repository
// applies the repository's config, with its paths read relative to the
// config file's directory, not to the directory scanned.
func TestScanSubdirUsesRepoConfig(t *testing.T) {
	root := tree(t, map[string]string{
		".mlflow-guard.yaml": "exclude:\n  - svc/generated/**\nignore:\n  - rule: MLG102\n    path: svc/loader.py\n    reason: reviewed loader\n",
		"svc/loader.py":      unsafeLoad,
		"svc/other.py":       unsafeLoad,
		"svc/generated/g.py": unsafeLoad,
	})
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{root, filepath.Join(root, "svc")} {
		_, out, stderr := run(t, "scan", "--format", "json", "--fail-on", "never", target)
		var rep jsonReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, stderr)
		}
		var open, suppressed []string
		for _, f := range rep.Findings {
			if f.Suppressed {
				suppressed = append(suppressed, f.Path)
			} else {
				open = append(open, f.Path)
			}
		}
		if len(open) != 1 || !strings.HasSuffix(open[0], "other.py") || len(suppressed) != 1 || !strings.HasSuffix(suppressed[0], "loader.py") {
			t.Errorf("scan %s: open %v, suppressed %v; want other.py open, loader.py suppressed, generated/ excluded", target, open, suppressed)
		}
		for _, e := range rep.Errors {
			if strings.Contains(e.Message, "matched no finding") {
				t.Errorf("scan %s: %s", target, e.Message)
			}
		}
	}
}
