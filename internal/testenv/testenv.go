// Package testenv finds the real components the tests run against: the
// virtualenv with the pinned MLflow (scripts/setup-pyenv.sh creates it).
// Tests that need it fail under CI when it is missing, and skip with a clear
// message on a developer machine that has not run the setup script.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository root (found from this source file).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Venv returns the test virtualenv directory.
func Venv() string {
	if v := os.Getenv("MLFLOW_GUARD_VENV"); v != "" {
		return v
	}
	return filepath.Join(RepoRoot(), ".venv")
}

// Python returns the venv's python, or stops the test: fatally under CI
// (CI=true), as a skip elsewhere.
func Python(t testing.TB) string {
	t.Helper()
	py := filepath.Join(Venv(), "bin", "python")
	if _, err := os.Stat(py); err != nil {
		Require(t, "test virtualenv "+Venv()+" (run scripts/setup-pyenv.sh)")
	}
	return py
}

// Require stops a test that lacks a real component.
func Require(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("missing %s: CI must provide it", what)
	}
	// go test shows the reason with -v (or -json); without CI=true the
	// suite stays usable on a machine that lacks a component.
	t.Skipf("skipped: missing %s (with CI=true this is a failure)", what)
}

// SkipIfShort skips a test that starts a real server under -short: the
// race-detector run (scripts/checks.sh) covers the code's concurrency
// without them, and scripts/test.sh runs them in full.
func SkipIfShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: does not start %s", what)
	}
}
