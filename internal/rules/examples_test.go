package rules

import (
	"strings"
	"testing"

	sitter "github.com/tree-sitter/go-tree-sitter"
	tspython "github.com/tree-sitter/tree-sitter-python/bindings/go"
	"go.yaml.in/yaml/v3"
	"mvdan.cc/sh/v3/syntax"
)

// TestExamplesParse checks that every Do/Dont example is valid in the
// language its docs fence claims: Python through the real tree-sitter
// grammar, shell through mvdan.cc/sh, YAML through yaml.v3. A broken example
// teaches the wrong thing and confuses the analyzers' own fixtures.
func TestExamplesParse(t *testing.T) {
	parser := sitter.NewParser()
	defer parser.Close()
	if err := parser.SetLanguage(sitter.NewLanguage(tspython.Language())); err != nil {
		t.Fatal(err)
	}
	// The check must be able to fail: a broken snippet has to be caught.
	if tree := parser.Parse([]byte("def f(:\n    pass"), nil); !tree.RootNode().HasError() {
		t.Fatal("tree-sitter accepted broken Python; the example check would prove nothing")
	} else {
		tree.Close()
	}
	counts := map[string]int{}
	for _, r := range Catalog() {
		for label, code := range map[string]string{"Do": r.Do, "Dont": r.Dont} {
			lang := ExampleLang(code)
			counts[lang]++
			switch lang {
			case "python":
				tree := parser.Parse([]byte(code), nil)
				if tree.RootNode().HasError() {
					t.Errorf("%s %s: Python example does not parse:\n%s", r.ID, label, code)
				}
				tree.Close()
			case "shell":
				if _, err := syntax.NewParser().Parse(strings.NewReader(code), r.ID); err != nil {
					t.Errorf("%s %s: shell example does not parse: %v", r.ID, label, err)
				}
			case "yaml":
				var v any
				if err := yaml.Unmarshal([]byte(code), &v); err != nil {
					t.Errorf("%s %s: YAML example does not parse: %v", r.ID, label, err)
				}
			case "ini":
				for i, line := range strings.Split(code, "\n") {
					l := strings.TrimSpace(line)
					if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "[") && !strings.Contains(l, "=") {
						t.Errorf("%s %s: ini line %d is neither section, key = value nor comment: %q", r.ID, label, i+1, l)
					}
				}
			case "nginx":
				if strings.Count(code, "{") != strings.Count(code, "}") {
					t.Errorf("%s %s: nginx example has unbalanced braces", r.ID, label)
				}
			}
		}
	}
	if counts["python"] == 0 || counts["shell"] == 0 || counts["yaml"] == 0 {
		t.Errorf("example languages seen: %v; expected python, shell and yaml", counts)
	}
}
