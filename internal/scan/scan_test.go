package scan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// lineRule is a tiny test analyzer: every line containing "BAD" is an
// MLG102 finding, "SECRET" is MLG201. It records which files it saw. It
// exists to drive the walk; the real analyzers have their own fixtures.
type lineRule struct {
	mu     sync.Mutex
	seen   []string
	limit  int64
	panics bool
}

func (a *lineRule) Name() string                  { return "line" }
func (a *lineRule) Relevant(f *analyze.File) bool { return !bytes.Contains(f.Head, []byte{0}) }
func (a *lineRule) Analyze(ctx context.Context, f *analyze.File) analyze.Result {
	a.mu.Lock()
	a.seen = append(a.seen, f.Path)
	a.mu.Unlock()
	if a.panics && strings.HasSuffix(f.Path, "boom.py") {
		panic("boom")
	}
	data, err := f.ReadAll()
	if err != nil {
		return analyze.Result{Errors: []finding.Error{{Kind: finding.ErrRead, Message: err.Error()}}}
	}
	var r analyze.Result
	for i, ln := range strings.Split(string(data), "\n") {
		if c := strings.Index(ln, "BAD"); c >= 0 {
			r.Add(finding.Finding{RuleID: "MLG102", Line: i + 1, Column: c + 1, Message: "bad thing"})
		}
		if strings.Contains(ln, "SECRET") {
			r.Add(finding.Finding{RuleID: "MLG201", Line: i + 1, Column: 1, Message: "secret"})
		}
	}
	return r
}

type limited struct{ *lineRule }

func (l limited) MaxFileSize() int64 { return l.limit }

func (a *lineRule) files() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]string(nil), a.seen...)
	sort.Strings(out)
	return out
}

func write(t *testing.T, root, rel, content string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func redactFake(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") }

func errorsOf(r Result, kind finding.ErrorKind) map[string]string {
	out := map[string]string{}
	for _, e := range r.Errors {
		if e.Kind == kind {
			out[fmt.Sprintf("%s:%d", e.Path, e.Line)] = e.Message
		}
	}
	return out
}

func TestWalkHonoursIgnoresCapsAndLinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, root, ".gitignore", "# build output\nbuild/\n*.log\n!keep.log\n/only-top.py\n")
	write(t, root, "main.py", "x = 1\n")
	write(t, root, "build/gen.py", "BAD\n")
	write(t, root, "a.log", "BAD\n")
	write(t, root, "keep.log", "ok\n")
	write(t, root, "only-top.py", "BAD\n")
	write(t, root, "pkg/only-top.py", "fine\n")
	write(t, root, "pkg/.gitignore", "local.py\n")
	write(t, root, "pkg/local.py", "BAD\n")
	write(t, root, "other/local.py", "fine\n")
	write(t, root, ".git/config", "BAD\n")
	write(t, root, "vendor/lib/x.py", "BAD\n")
	write(t, root, "big.py", strings.Repeat("#", 2000))
	write(t, outside, "escape.py", "BAD\n")
	write(t, outside, "dir/in.py", "BAD\n")
	must(t, os.Symlink(filepath.Join(outside, "escape.py"), filepath.Join(root, "escape.py")))
	must(t, os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "linkdir")))
	must(t, os.Symlink(filepath.Join(root, "main.py"), filepath.Join(root, "alias.py")))
	must(t, os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(root, "dangling.py")))
	must(t, syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644))

	a := &lineRule{}
	res, err := Run(context.Background(), Options{Roots: []string{root}, Exclude: []string{"vendor/**"}, MaxFileSize: 1000, Workers: 3, Analyzers: []analyze.Analyzer{a}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alias.py", "keep.log", "main.py", "other/local.py", "pkg/.gitignore", "pkg/only-top.py"}
	gotFiles := a.files()
	gotFiles = without(gotFiles, ".gitignore")
	if !reflect.DeepEqual(gotFiles, want) {
		t.Errorf("analyzed %v\nwant     %v", gotFiles, want)
	}
	if res.Files != len(want)+1 { // + the root .gitignore
		t.Errorf("Files = %d", res.Files)
	}
	// The user set the size cap: a note. A dangling link has nothing to
	// read: a note. A link leaving the root hides content: a gap.
	excluded := errorsOf(res, finding.ErrExcluded)
	for _, p := range []string{"big.py:0", "dangling.py:0"} {
		if _, ok := excluded[p]; !ok {
			t.Errorf("want an excluded note for %s, got %v", p, excluded)
		}
	}
	if skipped := errorsOf(res, finding.ErrSkipped); len(skipped) != 1 || skipped["escape.py:0"] == "" {
		t.Errorf("skipped = %v", skipped)
	}
	if len(excluded) != 2 {
		t.Errorf("excluded = %v", excluded)
	}
	// vendor/ (--exclude) and big.py (the user's cap); build/, a.log,
	// only-top.py and pkg/local.py (.gitignore).
	if res.Excluded != 2 || res.Ignored != 4 {
		t.Errorf("Excluded = %d, Ignored = %d", res.Excluded, res.Ignored)
	}
	if len(res.Findings) != 0 {
		t.Errorf("findings from ignored files: %+v", res.Findings)
	}
}

func without(ss []string, drop string) []string {
	var out []string
	for _, s := range ss {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInlineSuppression(t *testing.T) {
	root := t.TempDir()
	write(t, root, "app.py", strings.Join([]string{
		"a = BAD  # mlflow-guard: ignore[MLG102] fixture data we generate", // 1 suppressed
		"# mlflow-guard: ignore[unsafe-deserialization] -- vetted loader",  // 2 covers 3
		"b = BAD", // 3 suppressed
		"c = BAD", // 4 reported
		"d = 1  # mlflow-guard: ignore[MLG102] stale",                     // 5 unused
		"e = BAD  // mlflow-guard: ignore[MLG102]",                        // 6 suppressed, no reason
		"f = BAD  ; mlflow-guard: ignore[MLG999, MLG102] typo in list",    // 7 unknown rule, still suppresses MLG102
		"g = BAD SECRET  # mlflow-guard: ignore[MLG201] test key hunter2", // 8 MLG201 suppressed, MLG102 not
		"h = BAD  # mlflow-guard: ignore all of it",                       // 9 bare ignore: every rule
		"i = 2  # mlflow-guard: ignroe[MLG102] typo",                      // 10 unknown directive
	}, "\n")+"\n")
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		line int
		rule string
	}
	got := map[key]*finding.Finding{}
	for i := range res.Findings {
		f := &res.Findings[i]
		got[key{f.Line, f.RuleID}] = f
	}
	suppressed := map[key]string{{1, "MLG102"}: "fixture data we generate", {3, "MLG102"}: "vetted loader", {6, "MLG102"}: "",
		{7, "MLG102"}: "typo in list", {8, "MLG201"}: "test key [REDACTED]", {9, "MLG102"}: "all of it"}
	for k, reason := range suppressed {
		f := got[k]
		if f == nil || !f.Suppressed || f.Suppression == nil || f.Suppression.Kind != "inline" {
			t.Errorf("%v: want inline-suppressed, got %+v", k, f)
			continue
		}
		if f.Suppression.Reason != reason && !(k.rule == "MLG201") {
			t.Errorf("%v: reason %q, want %q", k, f.Suppression.Reason, reason)
		}
	}
	for _, k := range []key{{4, "MLG102"}, {8, "MLG102"}} {
		if f := got[k]; f == nil || f.Suppressed {
			t.Errorf("%v: want an unsuppressed finding, got %+v", k, f)
		}
	}
	if w := got[key{1, "MLG102"}].Suppression.Where; w != "app.py:1" {
		t.Errorf("where = %q", w)
	}
	if s := got[key{8, "MLG201"}].Snippet; strings.Contains(s, "hunter2") || !strings.Contains(s, "[REDACTED]") {
		t.Errorf("snippet not redacted: %q", s)
	}
	unused := errorsOf(res, "unused-suppression")
	if _, ok := unused["app.py:5"]; !ok || len(unused) != 1 {
		t.Errorf("unused = %v", unused)
	}
	sup := errorsOf(res, "suppression")
	for _, want := range []string{"app.py:6", "app.py:7", "app.py:10"} {
		if _, ok := sup[want]; !ok {
			t.Errorf("want a suppression problem at %s, got %v", want, sup)
		}
	}
	if !strings.Contains(sup["app.py:6"], "no reason") || !strings.Contains(sup["app.py:7"], "MLG999") {
		t.Errorf("messages: %v", sup)
	}
}

func TestRootsPrefixAndFileRoot(t *testing.T) {
	base := t.TempDir()
	write(t, base, "one/a.py", "BAD\n")
	write(t, base, "two/b.py", "x\nBAD\n")
	one, two := filepath.Join(base, "one"), filepath.Join(base, "two")
	res, err := Run(context.Background(), Options{Roots: []string{one, two + "/b.py"}, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range res.Findings {
		paths = append(paths, fmt.Sprintf("%s:%d", f.Path, f.Line))
	}
	// Roots outside the working directory are shown by base name: reports
	// carry no machine path.
	want := []string{"b.py:2", "one/a.py:1"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
	res, err = Run(context.Background(), Options{Roots: []string{filepath.Join(base, "missing")}, Analyzers: []analyze.Analyzer{&lineRule{}}})
	if err != nil || len(errorsOf(res, "read")) != 1 {
		t.Errorf("missing root: %v %+v", err, res.Errors)
	}
}

func TestSizeLimiterPanicAndUnreadable(t *testing.T) {
	root := t.TempDir()
	write(t, root, "small.py", "BAD\n")
	write(t, root, "large.py", strings.Repeat("x", 100)+"\nBAD\n")
	write(t, root, "boom.py", "BAD\n")
	locked := write(t, root, "locked.py", "BAD\n")
	must(t, os.Chmod(locked, 0))
	a := &lineRule{limit: 50, panics: true}
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{limited{a}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	if s := errorsOf(res, "skipped"); !strings.Contains(s["large.py:0"], "line analyzer's 50-byte limit") {
		t.Errorf("skipped = %v", s)
	}
	if e := errorsOf(res, finding.ErrPanic); !strings.Contains(e["boom.py:0"], "boom") {
		t.Errorf("panic not contained: %v", res.Errors)
	}
	if os.Geteuid() != 0 { // root reads anything
		if e := errorsOf(res, "read"); e["locked.py:0"] == "" {
			t.Errorf("unreadable file not reported: %v", res.Errors)
		}
	}
	paths := map[string]bool{}
	for _, f := range res.Findings {
		paths[f.Path] = true
	}
	if !paths["small.py"] || paths["large.py"] || paths["boom.py"] {
		t.Errorf("findings = %+v", res.Findings)
	}
}

func TestDeterministicOrderAndSnippets(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < 60; i++ {
		write(t, root, fmt.Sprintf("d%d/f%02d.py", i%7, i), fmt.Sprintf("ok\n  x = BAD(%d)   \nBAD\n", i))
	}
	write(t, root, "long.py", "y = BAD"+strings.Repeat("z", 10000)+"\n")
	var first []finding.Finding
	for run := 0; run < 3; run++ {
		res, err := Run(context.Background(), Options{Roots: []string{root}, Workers: 1 + run*3, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = res.Findings
			continue
		}
		if !reflect.DeepEqual(first, res.Findings) {
			t.Fatal("findings differ between runs")
		}
	}
	if len(first) != 121 || first[0].Path != "d0/f00.py" || first[0].Line != 2 || first[0].Snippet != "x = BAD(0)" {
		t.Errorf("first = %+v (n=%d)", first[0], len(first))
	}
	for _, f := range first {
		if f.Path == "long.py" && (len(f.Snippet) > snippetMax+4 || !strings.HasPrefix(f.Snippet, "y = BAD")) {
			t.Errorf("long snippet = %q", f.Snippet)
		}
	}
}

// finisher reports a cross-file finding after the walk, on a file it saw.
type finisher struct{ lineRule }

func (f *finisher) Analyze(ctx context.Context, file *analyze.File) analyze.Result {
	f.lineRule.Analyze(ctx, file)
	return analyze.Result{}
}

func (f *finisher) Finish(ctx context.Context) analyze.Result {
	var r analyze.Result
	for _, p := range f.files() {
		r.Add(finding.Finding{RuleID: "MLG401", Path: p, Line: 2, Message: "server without auth"})
	}
	return r
}

func TestFinisherFindingsGetSnippetsAndInline(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.sh", "#!/bin/sh\nmlflow server --host 0.0.0.0  # mlflow-guard: ignore[MLG401] lab box\n")
	write(t, root, "b.sh", "#!/bin/sh\nmlflow server --host 0.0.0.0\n")
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{&finisher{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 2 || !res.Findings[0].Suppressed || res.Findings[1].Suppressed {
		t.Fatalf("findings = %+v", res.Findings)
	}
	if res.Findings[1].Snippet != "mlflow server --host 0.0.0.0" {
		t.Errorf("snippet = %q", res.Findings[1].Snippet)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors = %v (the directive is used, and must not be counted twice)", res.Errors)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{}); err == nil {
		t.Error("no roots: want an error")
	}
	if _, err := Run(context.Background(), Options{Roots: []string{"."}, Exclude: []string{"a/[b"}}); err == nil || !strings.Contains(err.Error(), "--exclude") {
		t.Errorf("bad exclude: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Options{Roots: []string{t.TempDir()}})
	if err != nil || !res.Interrupted || len(errorsOf(res, finding.ErrCancelled)) != 1 {
		t.Errorf("cancelled context: want a partial result marked cancelled, got %v %+v", err, res)
	}
}

func TestRepoIgnoresApplyToSubdirectoryRoot(t *testing.T) {
	top := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(top, ".git"), 0o755))
	write(t, top, ".gitignore", "*.gen.py\n/src/skip/\n")
	write(t, top, "src/.gitignore", "local/\n")
	write(t, top, "src/ok.py", "BAD\n")
	write(t, top, "src/a.gen.py", "BAD\n")
	write(t, top, "src/skip/x.py", "BAD\n")
	write(t, top, "src/local/y.py", "BAD\n")
	write(t, top, "src/deep/skip/z.py", "BAD\n")
	a := &lineRule{}
	_, err := Run(context.Background(), Options{Roots: []string{filepath.Join(top, "src")}, Analyzers: []analyze.Analyzer{a}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := without(a.files(), ".gitignore"), []string{"deep/skip/z.py", "ok.py"}; !reflect.DeepEqual(got, want) {
		t.Errorf("analyzed %v, want %v", got, want)
	}
	// Without a work tree above, a parent's .gitignore is nobody's business.
	must(t, os.RemoveAll(filepath.Join(top, ".git")))
	a = &lineRule{}
	if _, err := Run(context.Background(), Options{Roots: []string{filepath.Join(top, "src")}, Analyzers: []analyze.Analyzer{a}}); err != nil {
		t.Fatal(err)
	}
	if got := without(a.files(), ".gitignore"); len(got) != 4 {
		t.Errorf("outside a work tree: analyzed %v", got)
	}
}

// TestModelSymlinkFailsGate: a model file the walk will not follow (a link
// out of the root, or to a device) is MLG111, not only an error: the loader
// would read the target nobody judged. Other unfollowed links stay errors.
func TestModelSymlinkFailsGate(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	write(t, outside, "evil.pkl", "BAD\n")
	write(t, outside, "notes.txt", "BAD\n")
	must(t, os.Symlink(filepath.Join(outside, "evil.pkl"), filepath.Join(root, "model.pkl")))
	must(t, os.Symlink("/dev/zero", filepath.Join(root, "weights.pt")))
	must(t, os.Symlink(filepath.Join(outside, "notes.txt"), filepath.Join(root, "notes.txt")))
	res, err := Run(context.Background(), Options{Roots: []string{root}, Workers: 1, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Path+" "+f.RuleID)
	}
	if strings.Join(got, ",") != "model.pkl MLG111,weights.pt MLG111" {
		t.Errorf("findings %v", got)
	}
	if skipped := errorsOf(res, finding.ErrSkipped); len(skipped) != 1 || skipped["notes.txt:0"] == "" {
		t.Errorf("skipped = %v", skipped)
	}
}

// TestNotebookInlineSuppression: in an .ipynb, code sits in JSON strings;
// a directive in a cell's comment suppresses the finding on its line, one
// inside a Python string does not, and snippets are the cell text.
func TestNotebookInlineSuppression(t *testing.T) {
	root := t.TempDir()
	write(t, root, "nb.ipynb", strings.Join([]string{
		`{`,
		` "cells": [{"cell_type": "code", "source": [`,
		`   "a = BAD  # mlflow-guard: ignore[MLG102] notebook fixture\n",`, // 3 suppressed
		`   "b = BAD\n",`, // 4 reported
		`   "c = \"# mlflow-guard: ignore[MLG102]\" + BAD"`, // 5 reported: the marker is in a string
		` ]}],`,
		` "metadata": {}, "nbformat": 4, "nbformat_minor": 5`,
		`}`,
	}, "\n")+"\n")
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]*finding.Finding{}
	for i := range res.Findings {
		got[res.Findings[i].Line] = &res.Findings[i]
	}
	if f := got[3]; f == nil || !f.Suppressed || f.Suppression.Reason != "notebook fixture" {
		t.Errorf("line 3: want suppressed, got %+v", f)
	}
	if f := got[4]; f == nil || f.Suppressed || f.Snippet != "b = BAD" {
		t.Errorf("line 4: want reported with the cell text as snippet, got %+v", f)
	}
	if f := got[5]; f == nil || f.Suppressed {
		t.Errorf("line 5: want reported, got %+v", f)
	}
	inString := false
	for _, e := range res.Errors {
		inString = inString || (e.Line == 5 && e.Kind == finding.ErrSuppression && strings.Contains(e.Message, "string literal"))
	}
	if !inString {
		t.Errorf("want a suppression error for the marker in a string on line 5, got %+v", res.Errors)
	}
}
