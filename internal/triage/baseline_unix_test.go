//go:build unix

package triage

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadBaselineRefusesSpecialFiles: --baseline pointing at /dev/zero or
// a FIFO fails at once, naming the file, instead of hanging or reading GBs.
func TestLoadBaselineRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, zero, "/dev/zero"} {
		start := time.Now()
		if _, err := LoadBaseline(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: err = %v", p, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: took %v", p, el)
		}
	}
}
