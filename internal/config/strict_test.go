//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParseStrictness: what a one-document, last-one-wins reader would
// silently accept is an error with its line.
func TestParseStrictness(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"second document", "rules:\n  MLG104: strict\n---\ndisable: [MLG102]\n", "c.yaml:4: a second YAML document"},
		{"second empty-ish document", "rules:\n  MLG104: strict\n---\n# nothing\n", "second YAML document"},
		{"rule by ID and by name", "rules:\n  MLG102: advisory\n  unsafe-deserialization: strict\n", "c.yaml:3: rule MLG102 (\"unsafe-deserialization\" here) is already set at line 2"},
		{"rule in rules and disable", "rules:\n  MLG104: strict\ndisable: [unpinned-model-version]\n", "c.yaml:3: rule MLG104"},
		{"rule disabled twice", "disable: [MLG104, MLG104]\n", "already set at line 1"},
		{"ignore entry without rule or path", "ignore:\n  - reason: because\n", "c.yaml:2: ignore entry needs a rule, a path or both"},
		{"ignore entry with an empty rule", "ignore:\n  - rule: \"\"\n    reason: because\n", "unknown rule"},
	} {
		_, err := Parse("c.yaml", []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	// One document with a leading --- is fine.
	if _, err := Parse("c.yaml", []byte("---\nrules:\n  MLG104: strict\n")); err != nil {
		t.Errorf("a single document with ---: %v", err)
	}
}

// TestLoadRefusesSpecialFilesPromptly: a config shipped as a link to
// /dev/zero, a FIFO, or a huge file fails at once with its name, by
// --config and by discovery alike.
func TestLoadRefusesSpecialFilesPromptly(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero")
	must(t, os.MkdirAll(zero, 0o755))
	must(t, os.Symlink("/dev/zero", filepath.Join(zero, ".mlflow-guard.yaml")))
	fifo := filepath.Join(dir, "fifo")
	must(t, os.MkdirAll(fifo, 0o755))
	if err := syscall.Mkfifo(filepath.Join(fifo, ".mlflow-guard.yaml"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big")
	must(t, os.MkdirAll(big, 0o755))
	must(t, os.WriteFile(filepath.Join(big, ".mlflow-guard.yaml"), []byte("# "+strings.Repeat("x", maxConfigSize)+"\n"), 0o644))
	for _, d := range []string{zero, fifo, big} {
		start := time.Now()
		_, err1 := Load(filepath.Join(d, ".mlflow-guard.yaml"))
		_, err2 := Discover(d)
		for _, err := range []error{err1, err2} {
			if err == nil || !strings.Contains(err.Error(), filepath.Join(d, ".mlflow-guard.yaml")) {
				t.Errorf("%s: err = %v", d, err)
			}
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: took %v", d, el)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing config: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
