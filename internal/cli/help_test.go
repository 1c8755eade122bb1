package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// helpGolden is the golden file of a command's help ("main" for the
// top-level help). Refresh with: go test ./internal/cli -run Help -update
func helpGolden(name string) string {
	return filepath.Join("testdata", "golden", "help-"+name+".txt")
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/cli -run Help -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run -update after checking):\n%s", path, firstDiff(string(want), got))
	}
}

// reHelpFlag is one entry of a "Flags:" list: its names up to the placeholder.
var reHelpFlag = regexp.MustCompile(`^  (-[-a-zA-Z0-9]+(?:, -[-a-zA-Z0-9]+)*)`)

func TestHelpGolden(t *testing.T) {
	names := []string{"main"}
	for _, c := range commands() {
		names = append(names, c.name)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			ways := [][]string{{"help", name}, {name, "-h"}, {name, "--help"}}
			if name == "main" {
				ways = [][]string{{"help"}, {"-h"}, {"--help"}}
			}
			var first string
			for i, args := range ways {
				code, out, errs := run(t, args...)
				if code != ExitOK || errs != "" {
					t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
				}
				if i == 0 {
					first = out
					checkGolden(t, helpGolden(name), out)
				} else if out != first {
					t.Errorf("%v prints another help than %v", args, ways[0])
				}
			}
			checkHelpShape(t, name, first)
		})
	}
}

// checkHelpShape: a usage line first, one "Flags:" header, each flag once.
func checkHelpShape(t *testing.T, name, help string) {
	t.Helper()
	if !strings.HasPrefix(help, "usage: mlflow-guard ") {
		t.Errorf("%s: help does not start with a usage line:\n%s", name, help)
	}
	if strings.Count(help, "\nFlags:\n") != 1 {
		t.Errorf("%s: help needs exactly one Flags: header:\n%s", name, help)
	}
	_, flags, _ := strings.Cut(help, "\nFlags:\n")
	seen := map[string]bool{}
	for _, line := range strings.Split(flags, "\n") {
		m := reHelpFlag.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, n := range strings.Split(m[1], ", ") {
			n = strings.TrimLeft(n, "-")
			if seen[n] {
				t.Errorf("%s: flag %s listed twice", name, n)
			}
			seen[n] = true
		}
	}
	if !seen["h"] || !seen["help"] {
		t.Errorf("%s: -h, --help not listed", name)
	}
}

// TestUsageErrorsGoToStderr: a usage error prints the problem and the help
// on stderr, nothing on stdout, and exits 2.
func TestUsageErrorsGoToStderr(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{}, "missing command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "scan", "audit"}, "help takes one command"},
		{[]string{"--help", "scan"}, `unexpected argument "scan"`},
		{[]string{"scan", "--frobnicate", dir}, "flag provided but not defined: -frobnicate"},
		{[]string{"audit", "--tracking-uri", "http://127.0.0.1:1", "extra"}, `unexpected argument "extra"`},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
		{[]string{"-V", "extra"}, `unexpected argument "extra"`},
		{[]string{"digest"}, "missing DIR"},
		{[]string{"digest", dir, dir}, "takes one DIR, got 2 arguments"},
		{[]string{"rules", "MLG000"}, `unknown rule "MLG000"`},
		{[]string{"rules", "--format"}, "flag needs an argument"},
	}
	for _, c := range cases {
		code, out, errs := run(t, c.args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, ExitUsage)
		}
		if out != "" {
			t.Errorf("%v: stdout should be empty on a usage error, got:\n%s", c.args, out)
		}
		if !strings.Contains(errs, c.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.want, errs)
		}
		if !strings.Contains(errs, "\nusage: mlflow-guard ") || !strings.Contains(errs, "\nFlags:\n") {
			t.Errorf("%v: no help on stderr:\n%s", c.args, errs)
		}
	}
}

func TestVersionSpellings(t *testing.T) {
	want := "mlflow-guard " + Version + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-V"}, {"-version"}} {
		code, out, errs := run(t, args...)
		if code != ExitOK || out != want || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// TestRulesTextShowsWholeRule: naming a rule prints every section its docs
// page and JSON entry have.
func TestRulesTextShowsWholeRule(t *testing.T) {
	code, out, _ := run(t, "rules", "MLG102")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"MLG102 unsafe-deserialization", "What is reported", "Why it matters", "Fix\n", "Do\n", "Don't\n", "Suppress\n",
		"CVE-2024-37052",                   // from the description
		"weights_only=True)",               // from Do
		"pickle.load(open(local, \"rb\"))", // from Don't
		"# mlflow-guard: ignore[MLG102]",
		"- rule: MLG102",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rules MLG102 lacks %q:\n%s", want, out)
		}
	}
	// Model-file rules cannot be suppressed by a comment, so the text does
	// not offer one.
	_, out, _ = run(t, "rules", "MLG106")
	if strings.Contains(out, "ignore[MLG106]") || !strings.Contains(out, "- rule: MLG106") {
		t.Errorf("rules MLG106 suppression advice is wrong:\n%s", out)
	}
	// The table stays the default without names.
	if _, out, _ = run(t, "rules"); !strings.HasPrefix(out, "ID ") || strings.Contains(out, "Why it matters") {
		t.Errorf("rules without names should print the table:\n%s", out)
	}
}
