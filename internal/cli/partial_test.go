//go:build unix

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// sarifRun is the part of a SARIF log these tests read.
type sarifRun struct {
	Runs []struct {
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level      string `json:"level"`
				Descriptor struct {
					ID string `json:"id"`
				} `json:"descriptor"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

// TestPartialResultsFail drives the partial-result rule through the real
// analyzers: any file whose analysis stopped early makes the report
// incomplete (exit 3 even beside findings, "incomplete": true, SARIF
// executionSuccessful false); a file the user chose to leave out is a note.
func TestPartialResultsFail(t *testing.T) {
	// A sink, then a syntax error: the analyzer reports what parsed, but
	// the file was not fully analyzed.
	syntaxErr := tree(t, map[string]string{"broken.py": "import pickle\n\ndef ok(p):\n    return pickle.load(open(p, 'rb'))\n\ndef broken(:\n    pass\n"})
	// A sink followed by a 9 MB comment: over the Python analyzer's own
	// limit, a cap the user did not set.
	big := tree(t, map[string]string{"big.py": unsafeLoad + "#" + strings.Repeat("x", 9<<20) + "\n"})

	code, rep, _ := scanJSON(t, syntaxErr)
	if code != ExitFailed || !rep.Summary.Incomplete || len(rep.Findings) != 1 || !hasKind(rep.Errors, finding.ErrParse) {
		t.Errorf("syntax error beside a finding: exit %d, incomplete %v, findings %d, errors %+v", code, rep.Summary.Incomplete, len(rep.Findings), rep.Errors)
	}
	code, out, _ := run(t, "scan", "--format", "sarif", syntaxErr)
	var sr sarifRun
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatal(err)
	}
	inv := sr.Runs[0].Invocations[0]
	if code != ExitFailed || inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 ||
		inv.ToolExecutionNotifications[0].Level != "error" || inv.ToolExecutionNotifications[0].Descriptor.ID != "parse" {
		t.Errorf("SARIF: exit %d, invocation %+v", code, inv)
	}

	code, rep, _ = scanJSON(t, big)
	if code != ExitFailed || !rep.Summary.Incomplete || !hasKind(rep.Errors, finding.ErrSkipped) {
		t.Errorf("file over the analyzer's limit: exit %d, %+v", code, rep.Errors)
	}
	// The same file left out by the user's own cap: a note, not a failure.
	code, rep, _ = scanJSON(t, "--max-file-size", "1MB", big)
	if code != ExitOK || rep.Summary.Incomplete || !hasKind(rep.Errors, finding.ErrExcluded) {
		t.Errorf("--max-file-size set by the user: exit %d, %+v", code, rep.Errors)
	}
	code, out, _ = run(t, "scan", "--format", "sarif", "--max-file-size", "1MB", big)
	sr = sarifRun{}
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatal(err)
	}
	if inv := sr.Runs[0].Invocations[0]; code != ExitOK || !inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 || inv.ToolExecutionNotifications[0].Level != "note" {
		t.Errorf("SARIF of an excluded file: exit %d, %+v", code, inv)
	}
	code, raw, _ := run(t, "scan", "--format", "json", "--exclude", "broken.py", syntaxErr)
	var counted struct {
		Summary struct {
			Excluded int `json:"files_excluded"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(raw), &counted); err != nil || code != ExitOK || counted.Summary.Excluded != 1 {
		t.Errorf("--exclude: exit %d, summary %+v, %v", code, counted.Summary, err)
	}
}

func hasKind(es []finding.Error, k finding.ErrorKind) bool {
	for _, e := range es {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// TestHostileInputsAreUsageErrors: config, baseline and manifest pointing
// at /dev/zero or a FIFO (by flag or, for the config, shipped in the tree)
// fail at once with exit 2; so do an unparseable manifest and an absurd
// --workers.
func TestHostileInputsAreUsageErrors(t *testing.T) {
	root := tree(t, map[string]string{"ok.py": "x = 1\n", "bad.sha256": "this is not a manifest\n"})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	shipped := tree(t, map[string]string{"ok.py": "x = 1\n"})
	if err := os.Symlink("/dev/zero", filepath.Join(shipped, ".mlflow-guard.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"config /dev/zero", []string{"--config", "/dev/zero", root}},
		{"config FIFO", []string{"--config", fifo, root}},
		{"shipped config linked to /dev/zero", []string{shipped}},
		{"baseline /dev/zero", []string{"--baseline", "/dev/zero", root}},
		{"baseline FIFO", []string{"--baseline", fifo, root}},
		{"manifest FIFO", []string{"--verify", fifo, root}},
		{"manifest /dev/zero", []string{"--verify", "/dev/zero", root}},
		{"unparseable manifest", []string{"--verify", filepath.Join(root, "bad.sha256"), root}},
		{"huge workers", []string{"--workers", "1000000000", root}},
	} {
		start := time.Now()
		code, _, stderr := run(t, append([]string{"scan"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, "mlflow-guard scan:") {
			t.Errorf("%s: exit %d, want 2; stderr %q", c.name, code, stderr)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
	}
}

// TestSafeOutput: --output and digest -o refuse to replace a symlink, a
// directory or a device; a report that cannot be written is exit 3.
func TestSafeOutput(t *testing.T) {
	root := tree(t, map[string]string{"load.py": unsafeLoad})
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{link, dir, "/dev/null"} {
		if code, _, stderr := run(t, "scan", "--output", target, root); code != ExitFailed || !strings.Contains(stderr, "refusing") {
			t.Errorf("--output %s: exit %d, stderr %q", target, code, stderr)
		}
		if code, _, stderr := run(t, "digest", "-o", target, root); code != ExitFailed || !strings.Contains(stderr, "refusing") {
			t.Errorf("digest -o %s: exit %d, stderr %q", target, code, stderr)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
	// A writer that fails (a closed or full stdout) loses the report: exit 3.
	var errb bytes.Buffer
	code := Run(context.Background(), []string{"scan", root}, Env{Stdout: failingWriter{}, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != ExitFailed || !strings.Contains(errb.String(), "write report") {
		t.Errorf("failing stdout: exit %d, stderr %q", code, errb.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestReportPathsForAbsoluteRoots: an absolute root under the working
// directory is shown relative to it; roots elsewhere are shown by their
// base name (reports carry no machine path), unless two share one: then
// they keep their absolute path, and SARIF gives them a file:// URI with no
// base ID instead of a wrong path under %SRCROOT%. Duplicate roots report
// once.
func TestReportPathsForAbsoluteRoots(t *testing.T) {
	a := tree(t, map[string]string{"load.py": unsafeLoad})
	b := tree(t, map[string]string{"load.py": unsafeLoad})
	code, out, _ := run(t, "scan", "--format", "sarif", a, b, a)
	var sr sarifRun
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatal(err)
	}
	res := sr.Runs[0].Results
	if code != ExitFindings || len(res) != 2 {
		t.Fatalf("exit %d, %d results", code, len(res))
	}
	for _, r := range res {
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.URIBaseID != "%SRCROOT%" || (loc.URI != filepath.Base(a)+"/load.py" && loc.URI != filepath.Base(b)+"/load.py") {
			t.Errorf("artifact location %+v", loc)
		}
	}
	// Two roots with the same base name: only their full paths tell them apart.
	c := tree(t, map[string]string{"svc/load.py": unsafeLoad})
	d := tree(t, map[string]string{"svc/load.py": unsafeLoad})
	code, out, _ = run(t, "scan", "--format", "sarif", filepath.Join(c, "svc"), filepath.Join(d, "svc"))
	sr = sarifRun{}
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatal(err)
	}
	if res := sr.Runs[0].Results; code != ExitFindings || len(res) != 2 {
		t.Fatalf("same base name: exit %d, %d results", code, len(res))
	}
	for _, r := range sr.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.URIBaseID != "" || (loc.URI != "file://"+c+"/svc/load.py" && loc.URI != "file://"+d+"/svc/load.py") {
			t.Errorf("same base name: artifact location %+v", loc)
		}
	}
	// Under the working directory: relative paths, relative URIs.
	wd := t.TempDir()
	t.Chdir(wd)
	sub := filepath.Join(wd, "proj", "svc")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "load.py"), []byte(unsafeLoad), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(wd, "proj", "other.py")
	if err := os.WriteFile(other, []byte(unsafeLoad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := scanJSON(t, sub, other, sub)
	var paths []string
	for _, f := range rep.Findings {
		paths = append(paths, f.Path)
	}
	if code != ExitFindings || strings.Join(paths, ",") != "proj/other.py,proj/svc/load.py" {
		t.Errorf("exit %d, paths %v", code, paths)
	}
	// One file root given as an absolute path under the working directory.
	code, rep, _ = scanJSON(t, other)
	if code != ExitFindings || len(rep.Findings) != 1 || rep.Findings[0].Path != "proj/other.py" {
		t.Errorf("absolute file root: exit %d, %+v", code, rep.Findings)
	}
}

// TestVerboseListsIgnoredAndExcluded: the summary counts what .gitignore
// and --exclude left out, and -v names each path.
func TestVerboseListsIgnoredAndExcluded(t *testing.T) {
	root := tree(t, map[string]string{".gitignore": "gen/\n*.tmp.py\n", "gen/x.py": unsafeLoad, "a.tmp.py": unsafeLoad,
		"vendor/v.py": unsafeLoad, "ok.py": "x = 1\n"})
	code, out, stderr := run(t, "scan", "-v", "--format", "json", "--exclude", "vendor/**", root)
	var rep struct {
		Summary struct {
			Ignored  int `json:"files_ignored"`
			Excluded int `json:"files_excluded"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitOK || rep.Summary.Ignored != 2 || rep.Summary.Excluded != 1 {
		t.Errorf("exit %d, summary %+v", code, rep.Summary)
	}
	for _, p := range []string{"path=gen/x.py", "path=a.tmp.py", "path=vendor"} {
		if !strings.Contains(stderr, p) {
			t.Errorf("-v does not list %s:\n%s", p, stderr)
		}
	}
}
