package python

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// lineOf returns the 1-based line of src holding sub (first occurrence).
func lineOf(t *testing.T, src, sub string) int {
	t.Helper()
	i := strings.Index(src, sub)
	if i < 0 {
		t.Fatalf("%q not in source", sub)
	}
	return strings.Count(src[:i], "\n") + 1
}

func lineAt(b []byte, n int) string {
	return strings.Split(string(b), "\n")[n-1]
}

func TestSliceDropsDefinitionsWithoutSinks(t *testing.T) {
	src := `import pickle
from mlflow.pyfunc import load_model as lm
TEMPLATE = """
def not_a_function():
    pickle.load(x)
"""

@decorator(arg=1)
def helper(a, b=2, *rest, key: int = 3, **kw):
    total = a + b
    return total

class Model:
    uri = "models:/m/3"

    def __init__(self):
        self.path = "/tmp/model.pkl"
        self.other = 1

    def unrelated(self):
        return self.other

    def load(self):
        with open(self.path, "rb") as f:
            return pickle.load(f)

class Plain:
    def method(self):
        return 1

def serve(name):
    return lm(name)
`
	sl := slice([]byte(src))
	if sl.skip || sl.whole {
		t.Fatalf("want a sliced file, got skip=%v whole=%v", sl.skip, sl.whole)
	}
	if got, want := bytes.Count(sl.src, []byte("\n")), strings.Count(src, "\n"); got != want {
		t.Fatalf("sliced source has %d lines, want %d", got, want)
	}
	for _, c := range []struct {
		at, want string
	}{
		{"@decorator(arg=1)", "def helper(): pass"},                                // decorator line carries the stub
		{"def unrelated(self):", "    def unrelated(): pass"},                      // method stub keeps its indentation
		{"class Plain:", "class Plain: pass"},                                      // class without sinks
		{"def not_a_function():", "def not_a_function():"},                         // inside a string: untouched
		{"def __init__(self):", "    def __init__(self):"},                         // shares self.path with load: kept
		{"            return pickle.load(f)", "            return pickle.load(f)"}, // kept
		{"    return lm(name)", "    return lm(name)"},                             // alias of a sink: kept
	} {
		if got := lineAt(sl.src, lineOf(t, src, c.at)); got != c.want {
			t.Errorf("line of %q: got %q, want %q", c.at, got, c.want)
		}
	}
	for _, n := range []string{"a", "b", "rest", "key", "kw", "total", "helper", "Plain"} {
		if !sl.bound[n] {
			t.Errorf("dropped definitions bind %q; not recorded (%v)", n, sl.bound)
		}
	}
}

func TestSliceFallsBackToWhole(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed bracket":  "import pickle\ndef f(:\n    pass\ndef g(x):\n    return pickle.load(x)\n",
		"unclosed string":   "import pickle\ns = '''\ndef g(x):\n    return pickle.load(x)\n",
		"lone CR":           "import pickle\rdef f():\r    return 1\rdef g(x):\r    return pickle.load(x)\r",
		"nothing to drop":   "import pickle\ndef g(x):\n    return pickle.load(x)\n",
		"stray decorator":   "import pickle\n@dec\nx = 1\ndef g(x):\n    return pickle.load(x)\n",
		"inconsistent body": "import pickle\nclass A:\n        def f(self):\n            pass\n    def g(self, x):\n        return pickle.load(x)\n",
	} {
		if sl := slice([]byte(src)); !sl.whole {
			t.Errorf("%s: want the whole file parsed, got %q", name, sl.src)
		}
	}
	if sl := slice([]byte("import mlflow\n\ndef f():\n    return mlflow.__version__\n")); !sl.skip {
		t.Error("a file whose words cannot make any check fire must not be parsed")
	}
}

func TestSliceSyntaxErrors(t *testing.T) {
	a := New(analyze.Options{})
	// an error in kept code: the whole file is parsed and the error reported
	kept := "import pickle\n\ndef g(x):\n    return pickle.load(x) +\n\ndef h():\n    return 1\n"
	res := a.analyzeBytes(context.Background(), "k.py", []byte(kept))
	if len(res.Errors) != 1 || res.Errors[0].Kind != "parse" || res.Errors[0].Line != 4 {
		t.Errorf("kept code with a syntax error: want a parse error at line 4, got %+v", res.Errors)
	}
	// an error in a dropped definition that the lexer can follow is not seen:
	// the definition is not parsed (docs/python.md says so)
	dropped := "import pickle\n\ndef g(x):\n    return pickle.load(x)\n\ndef h():\n    return 1 +* 2\n"
	res = a.analyzeBytes(context.Background(), "d.py", []byte(dropped))
	if len(res.Errors) != 0 || len(res.Findings) != 1 || res.Findings[0].Line != 4 {
		t.Errorf("dropped code with a syntax error: want only the MLG102 at line 4, got %+v %+v", res.Findings, res.Errors)
	}
}

// TestSlicedMatchesWhole is the slicer's contract: on every fixture, and on
// every file of the test virtualenv that passes the gate, the findings are
// those of the whole file parsed, and the names bound lexically are the
// names bound in the tree.
func TestSlicedMatchesWhole(t *testing.T) {
	files, _ := filepath.Glob("testdata/src/*.py")
	site, _ := filepath.Glob(filepath.Join(testenv.Venv(), "lib", "python3*", "site-packages"))
	if len(site) == 0 {
		testenv.Require(t, "the test virtualenv's site-packages")
	} else {
		for _, dir := range []string{"mlflow", "sklearn", "joblib", "skops", "onnx", "cloudpickle", "dill", "pandas"} {
			_ = filepath.WalkDir(filepath.Join(site[0], dir), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, ".py") {
					files = append(files, p)
				}
				return nil
			})
		}
	}
	sliced, whole := New(analyze.Options{}), New(analyze.Options{})
	whole.whole = true
	ctx := context.Background()
	checked, bounds := 0, 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !mayMatch(b) {
			continue
		}
		checked++
		got, want := sliced.analyzeBytes(ctx, p, b), whole.analyzeBytes(ctx, p, b)
		if g, w := fmt.Sprint(got.Findings), fmt.Sprint(want.Findings); g != w {
			t.Errorf("%s: sliced findings differ from the whole file's:\n sliced %s\n whole  %s", p, g, w)
		}
		if len(want.Errors) > 0 {
			continue
		}
		root, _, err := loadGrammar().parse(ctx, whole.parsers, b)
		if err != nil {
			t.Fatal(err)
		}
		fc := &fileCtx{s: newSrc(b), bound: map[string]bool{}}
		fc.collectBound(root)
		lex := map[string]bool{}
		boundNames(b, 0, func(n string) { lex[n] = true })
		var missing, extra []string
		for n := range fc.bound {
			if !lex[n] {
				missing = append(missing, n)
			}
		}
		for n := range lex {
			if !fc.bound[n] {
				extra = append(extra, n)
			}
		}
		if len(missing)+len(extra) > 0 {
			sort.Strings(missing)
			sort.Strings(extra)
			t.Errorf("%s: lexical bindings differ from the tree's: missing %v, extra %v", p, missing, extra)
		}
		bounds++
	}
	t.Logf("%d files compared, %d binding sets", checked, bounds)
}

// FuzzSliceMatchesWhole: for any input that parses cleanly, slicing changes
// no finding.
func FuzzSliceMatchesWhole(f *testing.F) {
	files, _ := filepath.Glob("testdata/src/*.py")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	sliced, whole := New(analyze.Options{}), New(analyze.Options{})
	whole.whole = true
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		want := whole.analyzeBytes(ctx, "f.py", b)
		if len(want.Errors) > 0 {
			return
		}
		got := sliced.analyzeBytes(ctx, "f.py", b)
		if g, w := fmt.Sprint(got.Findings), fmt.Sprint(want.Findings); g != w {
			t.Fatalf("sliced findings differ:\n sliced %s\n whole  %s", g, w)
		}
	})
}

// TestSinkWordsCoverChecks: every call name checkCall dispatches on must be a
// word the slicer keeps a definition for; otherwise a check added there
// would silently never see most functions.
func TestSinkWordsCoverChecks(t *testing.T) {
	fset := gotoken.NewFileSet()
	file, err := parser.ParseFile(fset, "checks.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// boto3 constructors are judged only on their credential keywords,
	// which are the words the slicer looks for instead.
	byOtherWords := map[string]bool{"boto3.client": true, "boto3.resource": true, "boto3.Session": true, "boto3.session.Session": true}
	var labels []string
	ast.Inspect(file, func(n ast.Node) bool {
		fd, ok := n.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "checkCall" {
			return true
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == gotoken.STRING {
						s, _ := strconv.Unquote(bl.Value)
						labels = append(labels, s)
					}
				}
			}
			return true
		})
		return false
	})
	if len(labels) < 50 {
		t.Fatalf("found only %d case labels in checkCall; has it moved?", len(labels))
	}
	for _, l := range labels {
		if byOtherWords[l] {
			continue
		}
		if m := wordClasses([]byte(lastPart(l)), nil); m == 0 {
			t.Errorf("checkCall dispatches on %q but %q is not in sinkWords", l, lastPart(l))
		}
	}
	for _, w := range []string{"load_model", "load_pyfunc", "log_model", "aws_secret_access_key", "aws_session_token", "latest", "ACL"} {
		if wordClasses([]byte(w), nil) == 0 {
			t.Errorf("%q must be a sink word", w)
		}
	}
}
