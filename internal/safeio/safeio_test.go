//go:build unix

package safeio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesSpecialFilesPromptly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, zero, dir} {
		start := time.Now()
		_, err := ReadFile(p, 1<<20)
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: err = %v, want ErrNotRegular", p, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", p, d)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 100); err != nil || len(b) != 100 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(p, 99); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("over the limit: %v", err)
	}
	// /proc files stat as empty but are not; the limit still holds.
	if _, err := os.Stat("/proc/self/maps"); err == nil {
		if _, err := ReadFile("/proc/self/maps", 10); !errors.Is(err, ErrTooLarge) {
			t.Errorf("/proc/self/maps with a 10-byte limit: %v", err)
		}
	}
}

func TestWriteFileRefusesNonRegularTargets(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	_ = syscall.Mkfifo(fifo, 0o600)
	write := func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }
	for _, p := range []string{link, sub, fifo, "/dev/null"} {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := WriteFile(p, write); !errors.Is(err, ErrUnsafeTarget) {
			t.Errorf("%s: err = %v, want ErrUnsafeTarget", p, err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target was changed: %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	// A regular file is replaced and keeps its mode; no temp file remains.
	if err := WriteFile(victim, write); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	if st, _ := os.Stat(victim); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
	// A failing writer leaves the old file and no temp file.
	if err := WriteFile(victim, func(io.Writer) error { return errors.New("boom") }); err == nil {
		t.Fatal("a failed write must fail")
	}
	if b, _ := os.ReadFile(victim); string(b) != "new" {
		t.Errorf("a failed write changed the file: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}
