//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// build compiles the real binary once per test binary.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "mlflow-guard")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// bigTree writes n Python files that each pass the analyzer's keyword
// gate, so every one is parsed: a scan that takes seconds.
func bigTree(t *testing.T, n int) string {
	t.Helper()
	root := t.TempDir()
	body := []byte("import pickle\n\ndef load(p):\n    with open(p, 'rb') as f:\n        return pickle.load(f)\n\n" +
		"def other(x):\n    return [i * 2 for i in range(x) if i % 3]\n")
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("pkg%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%05d.py", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestSignalStopsScanWithPartialReport sends SIGINT (and SIGTERM) to a
// running scan: it must stop within a second, write the partial report
// marked incomplete, and exit 3.
func TestSignalStopsScanWithPartialReport(t *testing.T) {
	bin := build(t)
	root := bigTree(t, 30000)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report.json")
			cmd := exec.Command(bin, "scan", "--format", "json", "--output", out, "--workers", "2", root)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("the scan finished before the signal (%v); make the tree bigger", err)
			case <-time.After(1500 * time.Millisecond):
			}
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the scan did not stop within 10 s of the signal")
			}
			stopped := time.Since(sent)
			t.Logf("%s: stopped %v after the signal", sig, stopped)
			if stopped > time.Second {
				t.Errorf("stopped %v after %s, want within 1 s", stopped, sig)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("exit: %v, want code 3", err)
			}
			b, rerr := os.ReadFile(out)
			if rerr != nil {
				t.Fatalf("no partial report: %v", rerr)
			}
			var rep struct {
				Findings []json.RawMessage `json:"findings"`
				Errors   []struct {
					Kind string `json:"kind"`
				} `json:"errors"`
				Summary struct {
					Files      int  `json:"files_scanned"`
					Incomplete bool `json:"incomplete"`
				} `json:"summary"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("partial report is not JSON: %v", err)
			}
			cancelled := false
			for _, e := range rep.Errors {
				cancelled = cancelled || e.Kind == "cancelled"
			}
			if !rep.Summary.Incomplete || !cancelled || rep.Summary.Files == 0 || rep.Summary.Files >= 30000 || len(rep.Findings) == 0 {
				t.Errorf("partial report: incomplete=%v cancelled=%v files=%d findings=%d", rep.Summary.Incomplete, cancelled, rep.Summary.Files, len(rep.Findings))
			}
		})
	}
}

// TestClosedStdoutIsExit3: a report written into a pipe nobody reads is a
// failed write (exit 3), not a silent death by SIGPIPE or a success.
func TestClosedStdoutIsExit3(t *testing.T) {
	bin := build(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "load.py"), []byte("import pickle\npickle.load(open('x', 'rb'))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody will read: writes get EPIPE
	cmd := exec.Command(bin, "scan", "--format", "sarif", root)
	cmd.Stdout = w
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("scan into a closed pipe: %v, want exit code 3", err)
	}
	// stdout closed outright (`>&-`) cannot be told apart: since Go 1.22 the
	// runtime reopens a closed fd 0-2 on /dev/null at start-up, so the report
	// goes where `>/dev/null` would send it.
}
