package scan

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

// TestUnreadableInput checks that an unreadable file and an unreadable
// directory become "read" errors while the scan goes on. Root reads
// everything, so as root the test re-runs itself as user nobody.
func TestUnreadableInput(t *testing.T) {
	if root := os.Getenv("MLG_SCAN_UNREADABLE_ROOT"); root != "" {
		res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Errors {
			fmt.Printf("ERR %s %s\n", e.Kind, e.Path)
		}
		for _, f := range res.Findings {
			fmt.Printf("FINDING %s:%d\n", f.Path, f.Line)
		}
		return
	}
	base, err := os.MkdirTemp("", "mlg-unreadable-")
	must(t, err)
	t.Cleanup(func() {
		_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error { _ = os.Chmod(p, 0o755); return nil })
		_ = os.RemoveAll(base)
	})
	must(t, os.Chmod(base, 0o755))
	tree := filepath.Join(base, "tree")
	write(t, tree, "ok.py", "BAD\n")
	locked := write(t, tree, "locked.py", "BAD\n")
	write(t, tree, "closed/x.py", "BAD\n")
	must(t, os.Chmod(locked, 0))
	must(t, os.Chmod(filepath.Join(tree, "closed"), 0))

	var out string
	if os.Geteuid() != 0 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnreadableInput$")
		cmd.Env = append(os.Environ(), "MLG_SCAN_UNREADABLE_ROOT="+tree)
		b, err := cmd.CombinedOutput()
		must(t, err)
		out = string(b)
	} else {
		// Copy the test binary where nobody can run it.
		self, err := os.Executable()
		must(t, err)
		bin := filepath.Join(base, "scan.test")
		copyFile(t, self, bin)
		cmd := exec.Command(bin, "-test.run=^TestUnreadableInput$")
		cmd.Env = []string{"MLG_SCAN_UNREADABLE_ROOT=" + tree, "HOME=" + base, "GOCACHE=off"}
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper as nobody: %v\n%s", err, b)
		}
		out = string(b)
	}
	t.Logf("helper output:\n%s", out)
	for _, want := range []string{"ERR read locked.py", "ERR read closed", "FINDING ok.py:1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("want %q in helper output:\n%s", want, out)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, err)
	must(t, out.Close())
}
