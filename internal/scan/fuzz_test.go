package scan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

func FuzzGitignore(f *testing.F) {
	f.Add("build/\n*.log\n!keep.log\n/only-top.py\n\\#hash\n", "a/b/keep.log", true)
	f.Add("**/x/**\n[a-\n", "x", false)
	f.Fuzz(func(t *testing.T, content, p string, isDir bool) {
		l, _ := parseGitignore(strings.NewReader(content), "")
		_ = ignoredBy([]*ignoreLayer{l}, p, isDir)
	})
}

func FuzzDirective(f *testing.F) {
	for _, s := range []string{
		"a = BAD  # mlflow-guard: ignore[MLG102] fixture data",
		"# mlflow-guard: ignore[unsafe-deserialization, MLG103] -- vetted",
		"x  // mlflow-guard: ignore",
		"; mlflow-guard: ignroe[MLG1",
		"# mlflow-guard: ignore[]]]",
		`x = "# mlflow-guard: ignore[MLG102] in a string"; load()`,
		"s = '''\n# mlflow-guard: ignore[MLG102] in a docstring",
		`u = "a\\"  # mlflow-guard: ignore[MLG102] after an escaped backslash`,
	} {
		f.Add(s)
	}
	ix := rules.NewIndex()
	f.Fuzz(func(t *testing.T, line string) {
		// The last line of the input, with the lexer state of those before.
		lx := newStringLexer("f.py")
		var spans [][2]int
		for _, ln := range strings.Split(line, "\n") {
			spans = lx.spans([]byte(ln))
			line = ln
		}
		d, errs := parseDirective(ix, "f.py", 3, line, spans)
		if d != nil && d.target != 3 && d.target != 4 {
			t.Fatalf("target %d", d.target)
		}
		for _, e := range errs {
			if e.Path != "f.py" || e.Line != 3 {
				t.Fatalf("error without location: %+v", e)
			}
		}
	})
}

func FuzzEachLine(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nc"))
	f.Add(bytes.Repeat([]byte("x"), 10000))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			want++
		}
		n := 0
		if err := eachLine(bytes.NewReader(data), func(i int, line []byte) bool {
			n++
			if i != n || len(line) > lineKeep {
				t.Fatalf("line %d (count %d) len %d", i, n, len(line))
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("got %d lines, want %d", n, want)
		}
	})
}
