package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The golden tests run the real CLI over the bundled examples/ tree (real
// files, the real analyzers) exactly as the README's quick start does, and
// compare the three report formats byte for byte with testdata/golden.
// Refresh with: go test ./internal/cli -run Golden -update

var update = flag.Bool("update", false, "rewrite internal/cli/testdata/golden from the current output")

// fakeSecrets are the made-up credentials written into examples/; no report
// may ever contain them.
var fakeSecrets = []string{
	"Chr0nJob-Passw0rd-77",                     // ml-service: tracking URI password
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // ml-service: AWS's documented example secret key
	"AKIAIOSFODNN7EXAMPLE",                     // ml-service: AWS's documented example key id
	"Tr4ck1ng-Db-2024",                         // deploy-insecure: database password
	"p9Vd2Kx7Rq4Lm8Tz3Wn6Yb1Hc5Jf0Gs7Ae2Ui4Oo", // deploy-insecure: S3 secret key
}

var (
	// The SARIF run carries the scanned root as an absolute file:// URI.
	reRootURI = regexp.MustCompile(`"uri": "file://[^"]*/examples/"`)
	// Tool versions change with every release; the goldens should not.
	reVersion    = regexp.MustCompile(`"version": "` + regexp.QuoteMeta(Version) + `"`)
	reSemVersion = regexp.MustCompile(`"semanticVersion": "[^"]*"`)
	// One EXPECTED.md table row: | dir/file.py:12 | MLG102 | reported | why |;
	// a binary file's row has no ":line" (its findings have line 0).
	reExpectedRow = regexp.MustCompile(`^\|\s*([^|\s]+?)(?::(\d+))?\s*\|\s*(MLG\d{3})\s*\|\s*(reported|suppressed)\s*\|`)
	// The table's header; a header without rows means "expect nothing".
	reExpectedHeader = regexp.MustCompile(`^\|\s*location\s*\|\s*rule\s*\|\s*status\s*\|`)
)

// requireFakeSecrets fails when an example no longer holds one of the fake
// secrets, so the redaction check below cannot pass vacuously.
func requireFakeSecrets(t *testing.T) {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir("examples", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range fakeSecrets {
			if bytes.Contains(b, []byte(s)) {
				found[s] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fakeSecrets {
		if !found[s] {
			t.Errorf("no file under examples/ contains the fake secret %q any more; update fakeSecrets", s)
		}
	}
}

// validateSchema checks a report against a schema file of the repository
// (the published report schema, the official SARIF 2.1.0 schema). The file
// is registered under a local URL so nothing is fetched.
func validateSchema(t *testing.T, schemaPath, report string) {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	url := "file:///schema/" + filepath.Base(schemaPath)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(report))
	if err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("report does not match %s: %v", filepath.Base(schemaPath), err)
	}
}

// repoRoot finds the module root (where go.mod is) above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// scanExamples runs `mlflow-guard scan --format F --color never examples`
// from the repository root and returns the exit code and normalised stdout.
func scanExamples(t *testing.T, format string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(),
		[]string{"scan", "--format", format, "--color", "never", "examples"},
		Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, normalise(out.String()), errb.String()
}

func normalise(s string) string {
	s = reRootURI.ReplaceAllString(s, `"uri": "file:///REPO/examples/"`)
	s = reVersion.ReplaceAllString(s, `"version": "VERSION"`)
	s = reSemVersion.ReplaceAllString(s, `"semanticVersion": "0.0.0"`)
	return s
}

func TestGoldenExamples(t *testing.T) {
	root := repoRoot(t)
	goldenDir := filepath.Join(root, "internal", "cli", "testdata", "golden")
	t.Chdir(root)
	requireFakeSecrets(t)
	for _, tc := range []struct{ format, ext string }{{"text", "txt"}, {"json", "json"}, {"sarif", "sarif"}} {
		t.Run(tc.format, func(t *testing.T) {
			code, got, stderr := scanExamples(t, tc.format)
			if code != ExitFindings {
				t.Errorf("exit code %d, want %d (strict findings); stderr:\n%s", code, ExitFindings, stderr)
			}
			for _, s := range fakeSecrets {
				if strings.Contains(got, s) || strings.Contains(stderr, s) {
					t.Errorf("%s report prints the example secret %q; it must be redacted", tc.format, s)
				}
			}
			if strings.Contains(got, root) {
				t.Errorf("%s report contains the absolute path %s; paths must be relative", tc.format, root)
			}
			if schema := map[string]string{"json": "report.schema.json", "sarif": "sarif-schema-2.1.0.json"}[tc.format]; schema != "" {
				validateSchema(t, filepath.Join(root, "schema", schema), got)
			}
			golden := filepath.Join(goldenDir, "examples."+tc.ext)
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (create it with -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s report differs from %s (rerun with -update after checking the change):\n%s",
					tc.format, golden, firstDiff(string(want), got))
			}
		})
	}
}

// TestExamplesMatchExpected checks each examples/*/EXPECTED.md table against
// a real scan: every listed finding is reported with the listed status, and
// nothing else is reported under that directory.
func TestExamplesMatchExpected(t *testing.T) {
	root := repoRoot(t)
	t.Chdir(root)
	code, out, stderr := scanExamples(t, "json")
	if code != ExitFindings {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, ExitFindings, stderr)
	}
	var rep struct {
		Findings []struct {
			RuleID     string `json:"rule_id"`
			Path       string `json:"path"`
			Line       int    `json:"line"`
			Suppressed bool   `json:"suppressed"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	docs, err := filepath.Glob(filepath.Join("examples", "*", "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Every example directory says what it must produce (the README
	// promises it), so none can drift unchecked.
	dirs, err := os.ReadDir("examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join("examples", d.Name(), "EXPECTED.md")); d.IsDir() && err != nil {
			t.Errorf("examples/%s has no EXPECTED.md", d.Name())
		}
	}
	checked := 0
	for _, doc := range docs {
		want, hasTable, err := readExpected(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !hasTable {
			t.Logf("%s has no | location | rule | status | table; not checked", doc)
			continue
		}
		checked++
		dir := filepath.Base(filepath.Dir(doc)) + "/"
		got := map[string]string{}
		for _, f := range rep.Findings {
			if !strings.HasPrefix(f.Path, dir) {
				continue
			}
			status := "reported"
			if f.Suppressed {
				status = "suppressed"
			}
			key := fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.RuleID)
			if prev, dup := got[key]; dup && prev != status {
				status = prev + "+" + status
			}
			got[key] = status
		}
		for _, k := range sortedKeys(want) {
			switch g, ok := got[k]; {
			case !ok:
				t.Errorf("%s: expected %s (%s) is not reported", doc, k, want[k])
			case g != want[k]:
				t.Errorf("%s: %s is %s, want %s", doc, k, g, want[k])
			}
		}
		for _, k := range sortedKeys(got) {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected finding %s (%s): a false positive, or add it to the table", doc, k, got[k])
			}
		}
	}
	if checked == 0 {
		t.Fatal("no examples/*/EXPECTED.md with a finding table")
	}
}

// readExpected parses the finding table of an EXPECTED.md into
// "path:line RULE" -> status, and says whether the file has such a table.
func readExpected(path string) (map[string]string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	hasTable := false
	for sc.Scan() {
		n++
		if reExpectedHeader.MatchString(sc.Text()) {
			hasTable = true
			continue
		}
		m := reExpectedRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		line := 0
		if m[2] != "" {
			l, err := strconv.Atoi(m[2])
			if err != nil || l <= 0 {
				return nil, false, fmt.Errorf("%s:%d: bad line number %q", path, n, m[2])
			}
			line = l
		}
		if !hasTable {
			return nil, false, fmt.Errorf("%s:%d: finding row before the | location | rule | status | header", path, n)
		}
		key := fmt.Sprintf("%s:%d %s", m[1], line, m[3])
		if _, dup := out[key]; dup {
			return nil, false, fmt.Errorf("%s:%d: %s listed twice", path, n, key)
		}
		out[key] = m[4]
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return out, hasTable, nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// firstDiff shows the first differing line with a little context, which is
// enough to see what changed without dumping two whole reports.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "(no line differs; trailing bytes differ)"
}
