//go:build unix

package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestReadmeCommands runs every mlflow-guard command the README shows in a
// code block, with the real binary, in a temporary copy of examples/, and
// checks its exit code and output. A command the README shows that this
// test does not know fails it: add the command to readmeCommands (or, when
// it cannot run here, to readmeSkipped with the reason).

// readmeCommand is what one README command must do. cmd is the command as
// it is written in the README (after the prompt, trimmed).
type readmeCommand struct {
	exit   int      // the binary's exit code (go run would turn 1..3 into 1)
	stdout []string // substrings of stdout
	files  []string // files the command must leave in the working directory
	// server: the command's http://127.0.0.1:5000 is replaced by a real
	// MLflow server started from the test virtualenv (no auth, as a fresh
	// `mlflow server` runs).
	server bool
}

var readmeCommands = map[string]readmeCommand{
	"go run ./cmd/mlflow-guard scan examples": {
		exit:   ExitFindings,
		stdout: []string{"MLG103 unvalidated-model-uri", "models/malicious/checkpoint.pt!archive/data.pkl", "findings ("},
	},
	`./mlflow-guard scan examples; echo "exit $?"`: {
		exit:   ExitOK, // echo's status
		stdout: []string{"MLG401 server-without-auth", "\nexit 1\n"},
	},
	"mlflow-guard help scan": {
		exit:   ExitOK,
		stdout: []string{"usage: mlflow-guard scan", "\nFlags:\n", "--fail-on LEVEL"},
	},
	"mlflow-guard rules MLG102": {
		exit:   ExitOK,
		stdout: []string{"Why it matters", "Don't", "Suppress", "ignore[MLG102]"},
	},
	`mlflow-guard scan --frobnicate examples; echo "exit $?"`: {
		exit:   ExitOK, // echo's status
		stdout: []string{"exit 2\n"},
	},
	"mlflow-guard audit --tracking-uri http://127.0.0.1:5000": {
		server: true,
		// a fresh server on loopback: MLG401 as advice (the rule is about
		// servers reachable beyond loopback), so the audit passes
		exit:   ExitOK,
		stdout: []string{"advisory MLG401 server-without-auth", "on loopback"},
	},
	"echo 'a long password' | mlflow-guard users create alice --password-stdin --data-dir ./guard": {
		exit:  ExitOK,
		files: []string{"guard/gateway.db"},
	},
}

// readmeSkipped are README commands this test does not run, and why.
var readmeSkipped = map[string]string{
	"docker build -t mlflow-guard .":                                       "no Docker engine on the test machines; TestDockerfile (internal/release) scans the Dockerfile instead",
	`docker run --rm --read-only -v "$PWD:/src:ro" mlflow-guard scan /src`: "no Docker engine on the test machines (scripts/docker-smoke.sh runs it where one is)",
	`docker run --rm --read-only --tmpfs /tmp -v mlflow-guard-state:/data -p 8443:8443 mlflow-guard  serve --upstream http://mlflow:5000 --listen 0.0.0.0:8443 --data-dir /data  --tls-cert /data/tls.crt --tls-key /data/tls.key`: "no Docker engine on the test machines (scripts/docker-smoke.sh runs it where one is)",
	"python3 -m venv .wheel-venv && .wheel-venv/bin/pip install ziglang==0.17.1": "needs the network; the test virtualenv pins the same ziglang",
	"PYTHON=.wheel-venv/bin/python scripts/build-wheels.sh":                      "TestHostWheel (internal/release) runs the script with the test virtualenv's python",
	"scripts/build-wheels.sh":                      "TestHostWheel (internal/release) runs it, installs the wheel into a fresh venv and runs it",
	"scripts/build-wheels.sh all":                  "cross-builds for every platform take minutes; their output is recorded in the README",
	"pip install dist/mlflow_guard-*.whl":          "TestHostWheel (internal/release) installs the built wheel into a fresh venv",
	"pip install -r scripts/requirements-test.txt": "scripts/setup-pyenv.sh installs these into the test virtualenv",
	"mlflow-guard scan .":                          "the same scan as the commands above, on the reader's own project",
	"go build -o mlflow-guard ./cmd/mlflow-guard":  "the test builds exactly this binary once and runs every other command with it",
	"mlflow-guard serve --upstream http://127.0.0.1:5000 --listen 127.0.0.1:8080 --data-dir ./guard": "runs until stopped; the serve tests start it in front of a real MLflow server",
	"scripts/test.sh": "the whole test suite (this test is part of it); it also creates the shared virtualenv",
	"go test ./internal/cli -run 'Golden|Expected'": "runs this package's tests, which include this one",
	"go test ./internal/cli -run Golden -update":    "rewrites the golden files",
	"go test ./...": "the whole test suite (this test is part of it)",
	"mlflow-guard pull models:/fraud-detector@champion --to ./model --public-key approval-key.pem": "needs a version approved with a gateway key; TestPullLive (internal/pull) runs this command against a real MLflow server with signed approvals",
}

var (
	reFence = regexp.MustCompile("^\\s*```\\s*([a-z]*)\\s*$")
	// A command line in a shell block, or a CI step's run: line.
	reYAMLRun = regexp.MustCompile(`^\s*run:\s*(.+)$`)
)

// readmeCommandLines extracts the commands of the README's sh, shell,
// console and bash blocks (every non-comment line, "$ " prompt removed)
// and the run: lines of its yaml blocks that call a command.
func readmeCommandLines(doc string) []string {
	var out []string
	lang, in, cont := "", false, false
	for _, line := range strings.Split(doc, "\n") {
		if m := reFence.FindStringSubmatch(line); m != nil {
			if in {
				in = false
			} else {
				in, lang = true, m[1]
			}
			continue
		}
		if !in {
			continue
		}
		switch lang {
		case "sh", "shell", "console", "bash":
			l := strings.TrimSpace(line)
			l = strings.TrimPrefix(l, "$ ")
			if i := strings.Index(l, " #"); i >= 0 {
				l = strings.TrimSpace(l[:i])
			}
			if cont {
				// the previous line ended in a backslash: one command
				out[len(out)-1] = strings.TrimSuffix(out[len(out)-1], "\\") + " " + l
			} else if l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
			cont = len(out) > 0 && strings.HasSuffix(out[len(out)-1], "\\")
		case "yaml", "yml":
			if m := reYAMLRun.FindStringSubmatch(line); m != nil {
				out = append(out, strings.TrimSpace(m[1]))
			}
		}
	}
	return out
}

var (
	builtOnce sync.Once
	builtBin  string
	builtErr  error
	builtLog  []byte
)

// buildBinary builds cmd/mlflow-guard once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mlflow-guard-bin-")
		if err != nil {
			builtErr = err
			return
		}
		builtBin = filepath.Join(dir, "mlflow-guard")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/mlflow-guard")
		cmd.Dir = repoRoot(t)
		builtLog, builtErr = cmd.CombinedOutput()
	})
	if builtErr != nil {
		t.Fatalf("go build: %v\n%s", builtErr, builtLog)
	}
	return builtBin
}

func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds the binary and scans examples/ several times")
	}
	root := repoRoot(t)
	lines := readmeCommandLines(readme(t))
	if len(lines) < 4 {
		t.Fatalf("found only %d commands in README.md code blocks: %q", len(lines), lines)
	}
	bin := buildBinary(t)
	seen := map[string]bool{}
	for _, line := range lines {
		seen[line] = true
		if why, ok := readmeSkipped[line]; ok {
			t.Logf("not run: %s (%s)", line, why)
			continue
		}
		want, ok := readmeCommands[line]
		if !ok {
			t.Errorf("README.md shows a command this test does not know; add it to readmeCommands or readmeSkipped:\n%s", line)
			continue
		}
		t.Run(line, func(t *testing.T) {
			work := t.TempDir()
			if err := os.CopyFS(filepath.Join(work, "examples"), os.DirFS(filepath.Join(root, "examples"))); err != nil {
				t.Fatal(err)
			}
			// The README's ./mlflow-guard is what its go build wrote (a
			// regular file, as there: a symlink leaving the tree would be
			// reported by a scan of "."); a bare mlflow-guard is the
			// installed one on PATH.
			shell := strings.Replace(line, "go run ./cmd/mlflow-guard", "./mlflow-guard", 1)
			if want.server {
				srv := testenv.StartMLflow(t, testenv.MLflowOptions{})
				shell = strings.ReplaceAll(shell, "http://127.0.0.1:5000", srv.URL)
			}
			if strings.Contains(shell, "./mlflow-guard") {
				copyFile(t, bin, filepath.Join(work, "mlflow-guard"))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", shell)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != want.exit {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, want.exit, errb.String())
			}
			for _, s := range want.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, f := range want.files {
				if st, err := os.Stat(filepath.Join(work, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s was not written: %v", f, err)
				}
			}
		})
	}
	for c := range readmeCommands {
		if !seen[c] {
			t.Errorf("readmeCommands has %q, which README.md no longer shows; remove it", c)
		}
	}
	for c := range readmeSkipped {
		if !seen[c] {
			t.Errorf("readmeSkipped has %q, which README.md no longer shows; remove it", c)
		}
	}
}

// copyFile copies an executable (a hard link when the file system allows).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if os.Link(from, to) == nil {
		return
	}
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
