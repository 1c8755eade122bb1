package config

import (
	"os"
	"path/filepath"
	"testing"
)

// A pre-commit hook passes single files: the config at the top of the git
// work tree must apply to them, and nothing above the work tree may.
func TestDiscoverSearchesUpToGitTop(t *testing.T) {
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	sub := filepath.Join(repo, "src", "pkg")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(sub, "train.py")
	if err := os.WriteFile(file, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A config above the work tree must be ignored.
	if err := os.WriteFile(filepath.Join(top, ".mlflow-guard.yaml"), []byte("disable: [MLG101]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Discover(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "" {
		t.Fatalf("picked up %s from outside the work tree", cfg.Path)
	}
	if err := os.WriteFile(filepath.Join(repo, ".mlflow-guard.yaml"), []byte("disable: [MLG203]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = Discover(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Clean(cfg.Path), filepath.Join(repo, ".mlflow-guard.yaml"); got != want {
		t.Fatalf("Discover(%s) loaded %q, want %q", file, got, want)
	}
}
