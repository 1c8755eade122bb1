package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LevelFor("MLG104", finding.Warning); got != finding.Strict {
		t.Errorf("MLG104 level = %v, want strict", got)
	}
	if got := c.LevelFor("MLG203", finding.Warning); got != finding.Advisory {
		t.Errorf("MLG203 level = %v, want advisory (scalar shorthand)", got)
	}
	if got := c.LevelFor("MLG102", finding.Strict); got != finding.Strict {
		t.Errorf("MLG102 level = %v, want the default", got)
	}
	if c.Enabled("MLG305") || c.Enabled("MLG202") || !c.Enabled("MLG102") {
		t.Errorf("enabled: MLG305=%v MLG202=%v MLG102=%v", c.Enabled("MLG305"), c.Enabled("MLG202"), c.Enabled("MLG102"))
	}
	if len(c.Exclude) != 2 || !c.Exclude[0].Match("vendor/a/b.py") || !c.Exclude[1].Match("web/x.min.js") {
		t.Errorf("exclude = %v", c.Exclude)
	}
	if c.MaxFileSize != 50_000_000 {
		t.Errorf("max_file_size = %d", c.MaxFileSize)
	}
	if len(c.Ignores) != 2 {
		t.Fatalf("ignores = %+v", c.Ignores)
	}
	ig := c.Ignores[0]
	if ig.Rule != "MLG102" || ig.Line != 10 || !ig.Matches("MLG102", "legacy/x/load.py") || ig.Matches("MLG103", "legacy/x.py") {
		t.Errorf("ignore[0] = %+v", ig)
	}
	if want := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC); !ig.Expires.Equal(want) {
		t.Errorf("expires = %v", ig.Expires)
	}
	if ig.Expired(time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)) || !ig.Expired(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("an entry must apply through its expiry day and stop the day after")
	}
	if c.Ignores[1].Rule != "MLG104" {
		t.Errorf("ignore by rule name: %+v", c.Ignores[1])
	}
	if !c.IsProtectedAlias("prod-eu") || c.ArtifactLocationAllowed("s3://other/") || c.Approval.Digest != "sec.digest" {
		t.Errorf("policy = %+v", c.Policy)
	}
}

func TestLoadReportsEveryProblemWithLines(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	want := map[int]string{
		2:  `unknown rule "MLG999"`,
		3:  `unknown level "extreme"`,
		4:  "enabled must be true or false",
		5:  `unknown rule "no-such-rule"`,
		6:  "exclude:",
		7:  "max_file_size: bad size unit",
		9:  "ignore entry has no reason",
		13: "ignore.expires: bad date",
		14: "needs a rule, a path or both",
		15: "protected_aliases: bad pattern",
		16: `approval: unknown key "approved_by"`,
		17: `unknown key "colour"`,
	}
	got := map[int][]string{}
	for _, p := range errs {
		if p.File != "testdata/bad.yaml" {
			t.Errorf("problem without the file name: %+v", p)
		}
		got[p.Line] = append(got[p.Line], p.Msg)
	}
	for line, frag := range want {
		found := false
		for _, m := range got[line] {
			found = found || strings.Contains(m, frag)
		}
		if !found {
			t.Errorf("line %d: want a problem containing %q, got %q", line, frag, got[line])
		}
	}
	if !strings.Contains(err.Error(), "testdata/bad.yaml:4: rules.MLG105: unknown key \"color\"") {
		t.Errorf("joined message lacks file:line form:\n%v", err)
	}
}

func TestLoadSyntaxAndEmpty(t *testing.T) {
	_, err := Load("testdata/syntax.yaml")
	var errs Errors
	if !errors.As(err, &errs) || errs[0].Line == 0 {
		t.Fatalf("syntax error should carry a line: %v", err)
	}
	c, err := Load("testdata/empty.yaml")
	if err != nil || len(c.ProtectedStages) != 2 {
		t.Fatalf("empty config: %v %+v", err, c)
	}
	if _, err := Load("testdata/missing.yaml"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file error should name the path: %v", err)
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	c, err := Discover(dir)
	if err != nil || c.Path != "" {
		t.Fatalf("no file: %v %+v", err, c)
	}
	if err := os.WriteFile(filepath.Join(dir, ".mlflow-guard.yml"), []byte("disable: [MLG101]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "x.py")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{dir, f} {
		c, err := Discover(root)
		if err != nil || c.Enabled("MLG101") || !strings.HasSuffix(c.Path, ".mlflow-guard.yml") {
			t.Fatalf("Discover(%s): %v %+v", root, err, c)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"1024": 1024, "50MB": 50_000_000, "50MiB": 50 << 20, "1.5k": 1536, "2 GiB": 2 << 30, "0": 0}
	for in, want := range cases {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1", "5 parsecs", "1e999GB", "1.2.3"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): want an error", in)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"good.yaml", "bad.yaml", "syntax.yaml", "empty.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("ignore: [{rule: MLG102, path: '**/**/**', reason: r}]\nexclude: ['a/**/b/**/c']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func TestEmptySections(t *testing.T) {
	c, err := Parse("c.yaml", []byte("rules:\nignore:\nexclude:\nprotected_stages:\n"))
	if err != nil || len(c.ProtectedStages) != 2 || len(c.Ignores) != 0 {
		t.Fatalf("empty sections keep defaults: %v %+v", err, c)
	}
	if _, err := Parse("c.yaml", []byte("colour:\n")); err == nil || !strings.Contains(err.Error(), "c.yaml:1:") {
		t.Fatalf("unknown empty key: %v", err)
	}
}
