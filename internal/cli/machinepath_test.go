package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportsCarryNoMachinePath scans a directory outside the working
// directory, given by its absolute path, and checks that no report format
// prints that path (SARIF's originalUriBaseIds included).
func TestReportsCarryNoMachinePath(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"svc/app.py": "import pickle\nimport flask\napp = flask.Flask(__name__)\n\n@app.route(\"/x\")\ndef x():\n    return pickle.loads(flask.request.data)\n",
		"Dockerfile": "FROM python:3.11\nCMD mlflow server --host 0.0.0.0\n",
		"bad.yaml":   "a: [unclosed\n",
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
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "train.py"), []byte("import pickle\nimport flask\n\ndef f():\n    return pickle.loads(flask.request.data)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"dir root":   {dir},
		"file root":  {filepath.Join(dir, "svc", "app.py")},
		"two roots":  {dir, other},
		"root slash": {dir + "/"},
	}
	for name, roots := range cases {
		for _, format := range []string{"text", "json", "sarif"} {
			args := append([]string{"scan", "--format", format, "--fail-on", "never"}, roots...)
			code, out, _ := run(t, args...)
			if code != 0 {
				t.Fatalf("%s %s: exit %d\n%s", name, format, code, out)
			}
			if !strings.Contains(out, "MLG102") {
				t.Fatalf("%s %s: the scan found nothing, so the check proves nothing:\n%s", name, format, out)
			}
			for _, p := range []string{dir, real, other, filepath.Dir(dir)} {
				if strings.Contains(out, p) {
					t.Errorf("%s %s: report contains the machine path %s:\n%s", name, format, p, out)
				}
			}
			if strings.Contains(out, "file://") {
				t.Errorf("%s %s: report contains a file:// URI:\n%s", name, format, out)
			}
		}
	}
}
