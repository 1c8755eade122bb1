package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// These tests keep README.md honest: the scan flags it documents are the
// ones the command has, and its rule table is what `rules --format
// markdown` prints today.

var reReadmeFlag = regexp.MustCompile("^\\| `--([a-z-]+)")

// rulePageURL is how the generated catalog links a rule page; the README
// links the same pages relative to the repository root.
const rulePageURL = "https://github.com/mlflow-guard/mlflow-guard/blob/main/docs/rules/"

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text under a "## " or "### " heading up to the next
// heading of any level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	rest := doc[i+len(heading)+2:]
	if j := strings.Index(rest, "\n#"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func TestReadmeScanFlags(t *testing.T) {
	documented := map[string]bool{}
	for _, line := range strings.Split(section(t, readme(t), "### `scan` flags"), "\n") {
		if m := reReadmeFlag.FindStringSubmatch(line); m != nil {
			documented[m[1]] = true
		}
	}
	if len(documented) == 0 {
		t.Fatal("no flags found in the README's scan flag table")
	}
	var f scanFlags
	fs := f.flagSet(Env{Stdout: io.Discard, Stderr: io.Discard})
	actual := map[string]bool{}
	fs.VisitAll(func(fl *flag.Flag) { actual[fl.Name] = true })
	// The log flags are described in prose next to the table.
	for _, n := range []string{"q", "quiet", "v", "verbose"} {
		delete(actual, n)
	}
	var missing, unknown []string
	for n := range actual {
		if !documented[n] {
			missing = append(missing, n)
		}
	}
	for n := range documented {
		if !actual[n] {
			unknown = append(unknown, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	if len(missing) > 0 {
		t.Errorf("scan flags missing from README.md: %v", missing)
	}
	if len(unknown) > 0 {
		t.Errorf("README.md documents scan flags that do not exist: %v", unknown)
	}
}

func TestReadmeRuleTable(t *testing.T) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"rules", "--format", "markdown"}, Env{Stdout: &out, Stderr: &errb})
	if code != ExitOK {
		t.Fatalf("rules --format markdown: exit %d: %s", code, errb.String())
	}
	want := strings.TrimSpace(strings.ReplaceAll(out.String(), rulePageURL, "docs/rules/"))
	sec := section(t, readme(t), "## Rules")
	if !strings.Contains(sec, want) {
		t.Errorf("the README's rule table differs from `mlflow-guard rules --format markdown`; paste the new output (links rewritten to docs/rules/) under ## Rules")
	}
}

// TestReadmeSampleOutput checks that the sample output in the quick start is
// still what the scan prints (as recorded in the text golden).
func TestReadmeSampleOutput(t *testing.T) {
	doc := readme(t)
	const intro = "Part of the output of step 1:\n\n```\n"
	i := strings.Index(doc, intro)
	if i < 0 {
		t.Fatal("README.md has no sample output after \"Part of the output of step 1:\"")
	}
	block := doc[i+len(intro):]
	j := strings.Index(block, "```")
	if j < 0 {
		t.Fatal("README.md: the sample output block is not closed")
	}
	block = block[:j]
	golden, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "cli", "testdata", "golden", "examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(golden), "\n") {
		have[l] = true
	}
	for _, l := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if !have[l] {
			t.Errorf("README sample output line is not in the scan output any more:\n%s", l)
		}
	}
}
