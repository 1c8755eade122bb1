package release

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestHostWheel builds the host's wheel with scripts/build-wheels.sh (the
// same command a release runs), checks it with twine and against its own
// RECORD, installs it with pip into a fresh venv without an index, and runs
// the installed binary and the Python module's tests from there.
// Cross-target wheels are built by the script alone (see the README).
func TestHostWheel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wheel: not in -short")
	}
	py := testenv.Python(t)
	twine := venvTool(t, "twine")
	if err := exec.Command(py, "-c", "import ziglang, pytest").Run(); err != nil {
		testenv.Require(t, "ziglang and pytest in the test virtualenv (pip install -r scripts/requirements-test.txt)")
	}
	root := testenv.RepoRoot()
	version := readVersion(t)
	out := t.TempDir()

	cmd := exec.Command(filepath.Join(root, "scripts", "build-wheels.sh"))
	cmd.Env = append(os.Environ(), "OUT_DIR="+out, "PYTHON="+py)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-wheels.sh: %v\n%s", err, b)
	}
	wheels, _ := filepath.Glob(filepath.Join(out, "dist", "*.whl"))
	if len(wheels) != 1 {
		t.Fatalf("want one host wheel, got %v", wheels)
	}
	whl := wheels[0]
	wantTag := map[string]string{"linux/amd64": "manylinux_2_17_x86_64", "linux/arm64": "manylinux_2_17_aarch64",
		"darwin/amd64": "macosx_12_0_x86_64", "darwin/arm64": "macosx_12_0_arm64", "windows/amd64": "win_amd64"}[runtime.GOOS+"/"+runtime.GOARCH]
	if base := filepath.Base(whl); !strings.HasPrefix(base, "mlflow_guard-"+version+"-py3-none-") || !strings.Contains(base, wantTag) {
		t.Errorf("wheel name %s, want version %s and tag %s", base, version, wantTag)
	}
	if b, err := exec.Command(twine, "check", "--strict", whl).CombinedOutput(); err != nil {
		t.Fatalf("twine check: %v\n%s", err, b)
	}
	meta := checkRecord(t, whl, version)
	for _, want := range []string{"Name: mlflow-guard", "Version: " + version, "License-Expression: Apache-2.0",
		"Project-URL: Source, https://github.com/mlflow-guard/mlflow-guard", "Requires-Python: >=3.9", "Classifier: Operating System :: "} {
		if !strings.Contains(meta, want) {
			t.Errorf("METADATA lacks %q", want)
		}
	}

	// PyPI rejects an upload with an unknown classifier: check them against
	// the canonical list (trove-classifiers)
	var cls []string
	for _, line := range strings.Split(meta, "\n") {
		if c, ok := strings.CutPrefix(line, "Classifier: "); ok {
			cls = append(cls, c)
		}
	}
	chk := exec.Command(py, append([]string{"-c", `import sys, trove_classifiers as t
bad = [c for c in sys.argv[1:] if c not in t.classifiers]
sys.exit("unknown classifiers: %r" % bad if bad else 0)`}, cls...)...)
	if b, err := chk.CombinedOutput(); err != nil || len(cls) < 5 {
		t.Errorf("classifiers %q: %v %s", cls, err, b)
	}

	// a fresh venv, no index: only the wheel can provide mlflow-guard
	venv := filepath.Join(t.TempDir(), "venv")
	if b, err := exec.Command(py, "-m", "venv", venv).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, b)
	}
	vpy := filepath.Join(venv, "bin", "python")
	if b, err := exec.Command(vpy, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", "-q", whl).CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, b)
	}
	bin := filepath.Join(venv, "bin", "mlflow-guard")
	got, err := exec.Command(bin, "version").Output()
	if err != nil || strings.TrimSpace(string(got)) != "mlflow-guard "+version {
		t.Fatalf("installed mlflow-guard version: %q, %v; want %q", got, err, "mlflow-guard "+version)
	}
	// scan from the installed binary: the example has strict findings (exit
	// 1), and SARIF names the same version
	scan := exec.Command(bin, "scan", "--format", "sarif", "-q", filepath.Join(root, "examples", "ml-service"))
	sarif, err := scan.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("installed scan: %v (want exit 1)", err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Name, Version string }
			}
			Results []json.RawMessage
		}
	}
	if err := json.Unmarshal(sarif, &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v", err)
	}
	if d := log.Runs[0].Tool.Driver; d.Version != version || len(log.Runs[0].Results) == 0 {
		t.Errorf("SARIF driver %+v with %d results, want version %s and results", d, len(log.Runs[0].Results), version)
	}

	// the module finds the binary the wheel installed next to it
	probe := `import mlflow_guard, sys
b = mlflow_guard.find_binary()
fs = mlflow_guard.scan(sys.argv[1])
print(b); print(len(fs), sorted({f.rule_id for f in fs})[0])`
	b, err := exec.Command(vpy, "-c", probe, filepath.Join(root, "examples", "ml-service")).CombinedOutput()
	if err != nil {
		t.Fatalf("import mlflow_guard in the fresh venv: %v\n%s", err, b)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 2 || lines[0] != bin || strings.HasPrefix(lines[1], "0 ") {
		t.Errorf("module probe: %q (want the venv's binary %s and findings)", b, bin)
	}

	// the module's own tests, on the installed package: the pinned venv has
	// pytest, the fresh venv's site-packages has the module from the wheel
	site, err := exec.Command(vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").Output()
	if err != nil {
		t.Fatal(err)
	}
	pt := exec.Command(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", filepath.Join(root, "python", "tests"))
	pt.Dir = t.TempDir()
	pt.Env = append(os.Environ(), "PYTHONPATH="+strings.TrimSpace(string(site)), "MLFLOW_GUARD_BIN="+bin,
		"MLFLOW_GUARD_EXPECT_VERSION="+version, "PYTHONDONTWRITEBYTECODE=1")
	if b, err := pt.CombinedOutput(); err != nil {
		t.Fatalf("pytest python/tests: %v\n%s", err, b)
	} else {
		t.Logf("pytest: %s", lastLine(string(b)))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// checkRecord verifies every file of the wheel against RECORD (sha256 and
// size, as pip does) and that nothing is missing from it; it returns METADATA.
func checkRecord(t *testing.T, whl, version string) string {
	t.Helper()
	zr, err := zip.OpenReader(whl)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	info := "mlflow_guard-" + version + ".dist-info/"
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string) []byte {
		f, ok := files[name]
		if !ok {
			t.Fatalf("wheel lacks %s", name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(read(info + "RECORD"))))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		if len(parts) != 3 {
			t.Fatalf("RECORD line %q", sc.Text())
		}
		seen[parts[0]] = true
		if parts[0] == info+"RECORD" {
			continue
		}
		b := read(parts[0])
		sum := sha256.Sum256(b)
		want := "sha256=" + strings.TrimRight(base64.URLEncoding.EncodeToString(sum[:]), "=")
		if parts[1] != want || parts[2] != fmt.Sprint(len(b)) {
			t.Errorf("RECORD %s: %s,%s; file has %s,%d", parts[0], parts[1], parts[2], want, len(b))
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("%s is in the wheel but not in RECORD", name)
		}
	}
	exe := "mlflow_guard-" + version + ".data/scripts/mlflow-guard"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if f := files[exe]; f == nil || f.Mode()&0o111 == 0 {
		t.Errorf("wheel lacks the executable %s", exe)
	}
	for _, p := range []string{"mlflow_guard/__init__.py", "mlflow_guard/py.typed", info + "WHEEL", info + "licenses/LICENSE"} {
		read(p)
	}
	return string(read(info + "METADATA"))
}
