package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// sniffer stands in for the model analyzer: the one analyzer that is
// offered gitignored files (Options.SeeIgnored names it).
type sniffer struct{ *lineRule }

func (sniffer) Name() string { return "model" }

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestGitignoredModelsAndTrackedFiles: .gitignore hides code and config from
// the code analyzers, but model files under ignored paths are still sniffed
// by the model analyzer, files git tracks are scanned by every analyzer
// whatever .gitignore says, and dependency trees are not walked.
func TestGitignoredModelsAndTrackedFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	gitRun(t, root, "init", "-q")
	write(t, root, ".gitignore", "mlruns/\nmodels/\n*.pt\n.venv/\nbuild/\n")
	write(t, root, "app.py", "BAD\n")
	write(t, root, "mlruns/0/abc/artifacts/model.pkl", "BAD\n")
	write(t, root, "models/m.pt", "BAD\n")
	write(t, root, "ckpt.pt", "BAD\n")
	write(t, root, ".venv/lib/site.pkl", "BAD\n")
	write(t, root, "build/tracked.py", "BAD\n")
	write(t, root, "build/untracked.py", "BAD\n")
	gitRun(t, root, "add", "-f", "build/tracked.py", "app.py")

	code, model := &lineRule{}, &lineRule{}
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{code, sniffer{model}},
		SeeIgnored: []string{"model"}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := without(code.files(), ".gitignore"), []string{"app.py", "build/tracked.py"}; !reflect.DeepEqual(got, want) {
		t.Errorf("code analyzer saw %v, want %v", got, want)
	}
	wantModel := []string{"app.py", "build/tracked.py", "build/untracked.py", "ckpt.pt", "mlruns/0/abc/artifacts/model.pkl", "models/m.pt"}
	if got := without(model.files(), ".gitignore"); !reflect.DeepEqual(got, wantModel) {
		t.Errorf("model analyzer saw %v, want %v", got, wantModel)
	}
	// .venv (not walked), build/untracked.py, ckpt.pt, mlruns/.../model.pkl, models/m.pt
	if res.Ignored != 5 {
		t.Errorf("Ignored = %d, want 5", res.Ignored)
	}

	// --no-gitignore: everything is everyone's, the virtualenv included.
	code = &lineRule{}
	if _, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{code}, NoGitignore: true}); err != nil {
		t.Fatal(err)
	}
	if got := without(code.files(), ".gitignore"); len(got) != 7 {
		t.Errorf("--no-gitignore: analyzed %v", got)
	}
}

// TestDuplicateRootsReportOnce: "scan a a" and "scan a a/b" report each
// finding once.
func TestDuplicateRootsReportOnce(t *testing.T) {
	base := t.TempDir()
	write(t, base, "a/x.py", "BAD\n")
	write(t, base, "a/b/y.py", "BAD\n")
	a := filepath.Join(base, "a")
	for _, roots := range [][]string{{a, a}, {a, filepath.Join(a, "b")}, {filepath.Join(a, "b"), a}, {a, filepath.Join(a, "x.py")}, {a + "/", a + "/."}} {
		res, err := Run(context.Background(), Options{Roots: roots, Analyzers: []analyze.Analyzer{&lineRule{}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 2 {
			t.Errorf("roots %v: %d findings, want 2: %+v", roots, len(res.Findings), res.Findings)
		}
	}
}

// TestHugeWorkersAndSpecialFiles: an absurd worker count is clamped (no
// panic, no million goroutines); a FIFO root, a FIFO .gitignore and a
// FIFO in the tree never block the walk.
func TestHugeWorkersAndSpecialFiles(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.py", "BAD\n")
	must(t, syscall.Mkfifo(filepath.Join(root, ".gitignore"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(root, "pipe.py"), 0o644))
	done := make(chan Result, 1)
	go func() {
		res, err := Run(context.Background(), Options{Roots: []string{root, filepath.Join(root, "pipe.py")}, Workers: 1 << 40,
			Analyzers: []analyze.Analyzer{&lineRule{}}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		if len(res.Findings) != 1 {
			t.Errorf("findings = %+v", res.Findings)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the walk blocked on a FIFO")
	}
	s, err := newScanner(Options{Roots: []string{root}, Workers: 1 << 40})
	if err != nil || s.workers != MaxWorkers {
		t.Errorf("workers = %d, %v", s.workers, err)
	}
	// A FIFO given as a root is named, not opened.
	res, _ := Run(context.Background(), Options{Roots: []string{filepath.Join(root, "pipe.py")}, Analyzers: []analyze.Analyzer{&lineRule{}}})
	if e := errorsOf(res, finding.ErrSkipped); len(e) != 1 {
		t.Errorf("FIFO root: %+v", res.Errors)
	}
}
