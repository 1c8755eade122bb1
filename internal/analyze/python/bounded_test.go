package python

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// nested builds open^n core close^n.
func nested(open, core, close string, n int) string {
	return strings.Repeat(open, n) + core + strings.Repeat(close, n)
}

// deepInputs are generated hostile files: each nests one construct far past
// any real program, then has a sink after it.
func deepInputs() map[string]string {
	const n = 120_000 // depth; the files are about 0.5 to 1.5 MB
	sink := "\nwith open(p, 'rb') as fh:\n    pickle.load(fh)\n"
	head := "import pickle\n"
	return map[string]string{
		"parens":      head + "x = " + nested("(", "1", ")", 600_000) + sink,
		"lists":       head + "x = " + nested("[", "1", "]", 600_000) + sink,
		"calls":       head + "x = " + nested("f(", "1", ")", n*3) + sink,
		"lambdas":     head + "x = " + strings.Repeat("lambda: ", n) + "1" + sink,
		"fstrings":    head + "x = " + nested("f'{", "1", "}'", n) + sink,
		"binops":      head + "x = 1" + strings.Repeat(" + 1", n*2) + sink,
		"unary":       head + "x = " + strings.Repeat("-", n*4) + "1" + sink,
		"attrs":       head + "x = a" + strings.Repeat(".b", n*3) + sink,
		"subscr":      head + "x = a" + strings.Repeat("[0]", n*2) + sink,
		"dicts":       head + "x = " + nested("{'k': ", "1", "}", n) + sink,
		"notnot":      head + "if " + strings.Repeat("not ", n*2) + "x:\n    pass" + sink,
		"blocks":      head + deepBlocks(3000) + sink,
		"list7mb":     head + "x = [" + strings.Repeat("1,", 3_500_000) + "]" + sink,
		"short lines": head + strings.Repeat("a\n", 3_900_000) + sink,
		"doubling":    head + "s = 'ab'\n" + strings.Repeat("s = s + s\n", 200_000) + strings.Repeat("t = f'{s}{s}{s}{s}'\n", 20_000) + sink,
	}
}

// deepBlocks nests if-blocks, one indentation level each.
func deepBlocks(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("if x:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "pass\n")
	return b.String()
}

// TestBoundedOnHostileInput: no input crashes the process (a Go stack
// overflow cannot be recovered), and each either yields the sink that
// follows the hostile part or says, with a "limit" error naming the cause,
// that the file was not fully analysed; peak memory stays in one worker's
// budget.
func TestBoundedOnHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("generates megabytes of input")
	}
	a := New(analyze.Options{})
	for name, src := range deepInputs() {
		t.Run(name, func(t *testing.T) {
			var res analyze.Result
			heap, rss := testenv.PeakMemory(func() { res = a.analyzeBytes(context.Background(), "deep.py", []byte(src)) })
			t.Logf("%d bytes: Go heap peak %d MiB, RSS growth %d MiB; %d findings, errors %v",
				len(src), heap>>20, rss>>20, len(res.Findings), res.Errors)
			found := false
			for _, f := range res.Findings {
				found = found || f.RuleID == "MLG102"
			}
			limited := false
			for _, e := range res.Errors {
				if e.Kind == "unchecked" || strings.Contains(e.Message, "internal error") {
					t.Fatalf("analysis failed: %v", e)
				}
				if e.Kind == "limit" {
					limited = true
					if e.Path != "deep.py" || !strings.Contains(e.Message, "limit") && !strings.Contains(e.Message, "nested deeper") && !strings.Contains(e.Message, "MiB") {
						t.Errorf("limit error does not name its cause: %+v", e)
					}
				}
			}
			if !found && !limited {
				t.Errorf("the sink after the hostile part was neither found nor reported as unchecked")
			}
			if heap > testenv.WorkerBudget || rss > testenv.WorkerBudget {
				t.Errorf("peak memory over the %d MiB worker budget: Go heap %d MiB, RSS %d MiB", testenv.WorkerBudget>>20, heap>>20, rss>>20)
			}
		})
	}
}

// TestDepthCutAnalysesOn: a nesting cut reports its line and the analysis
// goes on past it, so a sink after it is still found.
func TestDepthCutAnalysesOn(t *testing.T) {
	src := "import pickle\nx = 1" + strings.Repeat(" + 1", 3*maxDepth) + "\nwith open(p, 'rb') as fh:\n    pickle.load(fh)\n"
	res := New(analyze.Options{}).analyzeBytes(context.Background(), "deep.py", []byte(src))
	if len(res.Errors) != 1 || res.Errors[0].Kind != "limit" || res.Errors[0].Line != 2 || !strings.Contains(res.Errors[0].Message, "nested deeper than") {
		t.Fatalf("want one limit error at line 2, got %+v", res.Errors)
	}
	if len(res.Findings) != 1 || res.Findings[0].RuleID != "MLG102" || res.Findings[0].Line != 4 {
		t.Fatalf("want MLG102 at line 4 after the cut, got %+v", res.Findings)
	}
	// the cut keeps the walk bounded: no node is deeper than maxDepth
	root, lim, err := loadGrammar().parse(context.Background(), newParserPool(), []byte(src))
	if err != nil || lim.deepAt < 0 {
		t.Fatalf("parse: %v, cut at %d", err, lim.deepAt)
	}
	deepest := 0
	var visit func(n *node, d int)
	visit = func(n *node, d int) {
		deepest = max(deepest, d)
		for _, k := range n.kids {
			visit(k, d+1)
		}
	}
	visit(root, 0)
	if deepest > maxDepth {
		t.Fatalf("tree %d deep after the cut at %d", deepest, maxDepth)
	}
}

// TestValueCaps: values built by doubling stay capped (a template ends in a
// hole past maxTmpl), and the file is analysed through to the sink.
func TestValueCaps(t *testing.T) {
	src := "import pickle\ns = 'ab' + data\n" + strings.Repeat("s = s + s\n", 64) + "pickle.loads(s)\n"
	a := New(analyze.Options{})
	allocs := testing.AllocsPerRun(3, func() { a.analyzeBytes(context.Background(), "dbl.py", []byte(src)) })
	res := a.analyzeBytes(context.Background(), "dbl.py", []byte(src))
	if len(res.Errors) != 0 || len(res.Findings) != 1 || res.Findings[0].RuleID != "MLG102" {
		t.Fatalf("want one MLG102, got %+v %+v", res.Findings, res.Errors)
	}
	if allocs > 5000 {
		t.Fatalf("%v allocations for 64 doublings", allocs)
	}
	if got := capTmpl(strings.Repeat("a", maxTmpl), "b"); len(got) != maxTmpl+1 || !strings.HasSuffix(got, hole) {
		t.Fatalf("capTmpl: %d bytes", len(got))
	}
	if !bytes.Equal([]byte(capTmpl("a", "b")), []byte("ab")) {
		t.Fatal("capTmpl changed a short value")
	}
}

// TestSharedListsStayLinear: x = [x, x] repeated shares one value 2^n times
// over; the checks visit each value once (this hung before).
func TestSharedListsStayLinear(t *testing.T) {
	src := "import pickle\nx = open(p)\n" + strings.Repeat("x = [x, x]\n", 60) + "pickle.load(x)\n"
	a := New(analyze.Options{})
	allocs := testing.AllocsPerRun(2, func() { a.analyzeBytes(context.Background(), "lists.py", []byte(src)) })
	res := a.analyzeBytes(context.Background(), "lists.py", []byte(src))
	if len(res.Findings) != 1 || res.Findings[0].RuleID != "MLG102" || len(res.Errors) != 0 {
		t.Fatalf("want one MLG102, got %+v %+v", res.Findings, res.Errors)
	}
	if allocs > 20000 {
		t.Fatalf("%v allocations", allocs)
	}
}
