package release

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// platform tag of a wheel -> what `file` and `go version -m` must say about
// the binary inside it
var wheelTargets = []struct {
	tag, magic, goos, goarch string
}{
	{"manylinux_2_17_x86_64", `ELF 64-bit LSB .*x86-64`, "linux", "amd64"},
	{"manylinux_2_17_aarch64", `ELF 64-bit LSB .*ARM aarch64`, "linux", "arm64"},
	{"macosx_12_0_x86_64", `Mach-O 64-bit x86_64 executable`, "darwin", "amd64"},
	{"macosx_12_0_arm64", `Mach-O 64-bit arm64 executable`, "darwin", "arm64"},
	{"win_amd64", `PE32\+ executable .*x86-64`, "windows", "amd64"},
}

// TestWheelArchitectures opens every wheel in dist/ (or $MLFLOW_GUARD_WHEELS),
// takes the binary out of it and checks it against the wheel's platform tag
// with `file` and `go version -m`. Run it after `scripts/build-wheels.sh all`;
// with no wheels built it skips.
func TestWheelArchitectures(t *testing.T) {
	dir := os.Getenv("MLFLOW_GUARD_WHEELS")
	if dir == "" {
		dir = filepath.Join(testenv.RepoRoot(), "dist")
	}
	wheels, _ := filepath.Glob(filepath.Join(dir, "mlflow_guard-*.whl"))
	if len(wheels) == 0 {
		t.Skipf("no wheels in %s (scripts/build-wheels.sh all)", dir)
	}
	if _, err := exec.LookPath("file"); err != nil {
		testenv.Require(t, "the file command")
	}
	for _, whl := range wheels {
		t.Run(filepath.Base(whl), func(t *testing.T) {
			base := filepath.Base(whl)
			var target *struct{ tag, magic, goos, goarch string }
			for i := range wheelTargets {
				if strings.Contains(base, "-"+wheelTargets[i].tag) {
					target = &wheelTargets[i]
				}
			}
			if target == nil {
				t.Fatalf("unknown platform tag in %s", base)
			}
			bin := extractBinary(t, whl)
			desc, err := exec.Command("file", "-b", bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(target.magic).Match(desc) {
				t.Errorf("file: %s, want /%s/", strings.TrimSpace(string(desc)), target.magic)
			}
			info, err := exec.Command("go", "version", "-m", bin).Output()
			if err != nil {
				t.Fatalf("go version -m: %v", err)
			}
			for _, want := range []string{"build\tGOOS=" + target.goos, "build\tGOARCH=" + target.goarch, "build\tCGO_ENABLED=1",
				"path\tgithub.com/mlflow-guard/mlflow-guard/cmd/mlflow-guard"} {
				if !strings.Contains(string(info), want) {
					t.Errorf("go version -m lacks %q", want)
				}
			}
			if target.goos == "darwin" {
				checkMachO(t, bin, target.goarch)
			}
		})
	}
}

func extractBinary(t *testing.T, whl string) string {
	t.Helper()
	zr, err := zip.OpenReader(whl)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := filepath.Base(f.Name)
		if strings.Contains(f.Name, ".data/scripts/") && (name == "mlflow-guard" || name == "mlflow-guard.exe") {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			out := filepath.Join(t.TempDir(), name)
			w, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, rc); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("%s holds no mlflow-guard binary", whl)
	return ""
}
