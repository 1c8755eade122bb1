// Package analyzetest runs an analyzer over fixture files and checks its
// findings against "want" comments, in the manner of x/tools analysistest.
//
// A fixture line ending in a comment "# want: MLG102 MLG103" (or "; want:"
// or "// want:") must be reported with exactly those rules. A line that is
// only the comment "# want-below: MLG404" puts the expectation on the next
// line instead, for formats where a trailing comment would change the value
// (ini files, some Dockerfile forms). Every other line must be clean.
//
// A rule ID may be followed by a Go-quoted string, as in
// # want: MLG105 "protected stage \"Production\""
// and a finding of that rule on the line must then have a message
// containing it: that pins what the message says.
package analyzetest

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

var (
	wantRe      = regexp.MustCompile(`(?:#|;|//)\s*want:\s*((?:MLG\d{3}(?:\s+"(?:[^"\\]|\\.)*")?\s*)+)\s*$`)
	wantBelowRe = regexp.MustCompile(`^\s*(?:#|;|//)\s*want-below:\s*((?:MLG\d{3}(?:\s+"(?:[^"\\]|\\.)*")?\s*)+)\s*$`)
	wantItemRe  = regexp.MustCompile(`MLG\d{3}|"(?:[^"\\]|\\.)*"`)
)

// WantText is a message expectation: a finding of Rule on the line must
// contain Text.
type WantText struct{ Rule, Text string }

// Wants parses the expectations of one file: line (1-based) -> sorted rule IDs.
func Wants(content []byte) map[int][]string {
	ids, _ := parseWants(content)
	return ids
}

func parseWants(content []byte) (map[int][]string, map[int][]WantText) {
	out := map[int][]string{}
	texts := map[int][]WantText{}
	add := func(line int, spec string) {
		for _, it := range wantItemRe.FindAllString(spec, -1) {
			if strings.HasPrefix(it, "MLG") {
				out[line] = append(out[line], it)
				continue
			}
			txt, err := strconv.Unquote(it)
			if err != nil || len(out[line]) == 0 {
				txt = it // kept as written: the check then fails loudly
			}
			rule := ""
			if n := len(out[line]); n > 0 {
				rule = out[line][n-1]
			}
			texts[line] = append(texts[line], WantText{Rule: rule, Text: txt})
		}
	}
	lines := strings.Split(string(content), "\n")
	for i, ln := range lines {
		if m := wantBelowRe.FindStringSubmatch(ln); m != nil {
			add(i+2, m[1])
			continue
		}
		if m := wantRe.FindStringSubmatch(ln); m != nil {
			add(i+1, m[1])
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, texts
}

// WantsIn is Wants for the file at path. In a Jupyter notebook the want
// comments are in cell text, so each line holding one JSON string is read
// as that string's text: the expectation is on the .ipynb line.
func WantsIn(path string, content []byte) map[int][]string {
	ids, _ := wantsIn(path, content)
	return ids
}

func wantsIn(path string, content []byte) (map[int][]string, map[int][]WantText) {
	if !strings.EqualFold(filepath.Ext(path), ".ipynb") {
		return parseWants(content)
	}
	lines := strings.Split(string(content), "\n")
	for i, ln := range lines {
		t := strings.TrimSuffix(strings.TrimSpace(ln), ",")
		var s string
		if !strings.HasPrefix(t, `"`) {
			continue
		}
		if json.Unmarshal([]byte(t), &s) != nil {
			// "source": "...": a cell held as one string
			j := strings.Index(t, `": "`)
			if j < 0 || json.Unmarshal([]byte(t[j+3:]), &s) != nil {
				continue
			}
		}
		// one .ipynb line may hold several source lines: the one with a
		// want comment speaks for the line
		text := strings.TrimRight(s, "\r\n")
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "want") {
				text = l
			}
		}
		lines[i] = strings.ReplaceAll(text, "\n", " ")
	}
	return parseWants([]byte(strings.Join(lines, "\n")))
}

// Scan feeds every file under root to one fresh analyzer (relevance check
// first, then Analyze, then Finish, through the same analyze.Run driver as
// the scan, so a crash is an error of kind panic) and returns the findings
// and errors.
func Scan(t testing.TB, a analyze.Analyzer, root string) ([]finding.Finding, []finding.Error) {
	t.Helper()
	var res analyze.Result
	ctx := context.Background()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		head := make([]byte, analyze.HeadSize)
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		n, _ := fh.Read(head)
		fh.Close()
		f := &analyze.File{Path: rel, Abs: p, Size: info.Size(), Head: head[:n], Root: root}
		if !a.Relevant(f) {
			return nil
		}
		r := analyze.Run(ctx, a, f)
		res.Findings = append(res.Findings, r.Findings...)
		res.Errors = append(res.Errors, r.Errors...)
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	r := analyze.Finish(ctx, a)
	res.Findings = append(res.Findings, r.Findings...)
	res.Errors = append(res.Errors, r.Errors...)
	return res.Findings, res.Errors
}

// Run scans root with a and checks the findings against the want comments
// of every file under root. Input errors fail the test unless allowErrors.
func Run(t *testing.T, a analyze.Analyzer, root string, allowErrors bool) []finding.Finding {
	t.Helper()
	got, errs := Scan(t, a, root)
	if !allowErrors {
		for _, e := range errs {
			t.Errorf("unexpected input error: %s", e)
		}
	}
	type key struct {
		path string
		line int
	}
	gotBy := map[key][]string{}
	for _, f := range got {
		if f.RuleID == "" {
			t.Errorf("%s:%d: finding without rule ID: %q", f.Path, f.Line, f.Message)
		}
		if f.Message == "" {
			t.Errorf("%s:%d: %s finding without message", f.Path, f.Line, f.RuleID)
		}
		k := key{f.Path, f.Line}
		gotBy[k] = append(gotBy[k], f.RuleID)
	}
	wantBy := map[key][]string{}
	textBy := map[key][]WantText{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		ids, texts := wantsIn(rel, b)
		for line, w := range ids {
			wantBy[key{filepath.ToSlash(rel), line}] = w
		}
		for line, w := range texts {
			textBy[key{filepath.ToSlash(rel), line}] = w
		}
		return nil
	})
	for k, ids := range gotBy {
		sort.Strings(ids)
		if w, ok := wantBy[k]; !ok {
			t.Errorf("%s:%d: unexpected %s", k.path, k.line, strings.Join(ids, " "))
		} else if strings.Join(w, " ") != strings.Join(ids, " ") {
			t.Errorf("%s:%d: got %s, want %s", k.path, k.line, strings.Join(ids, " "), strings.Join(w, " "))
		}
	}
	for k, w := range wantBy {
		if _, ok := gotBy[k]; !ok {
			t.Errorf("%s:%d: missing %s", k.path, k.line, strings.Join(w, " "))
		}
	}
	for k, ws := range textBy {
		for _, w := range ws {
			found := false
			var msgs []string
			for _, f := range got {
				if f.Path == k.path && f.Line == k.line && f.RuleID == w.Rule {
					found = found || strings.Contains(f.Message, w.Text)
					msgs = append(msgs, f.Message)
				}
			}
			if !found {
				t.Errorf("%s:%d: no %s message contains %q; got %q", k.path, k.line, w.Rule, w.Text, msgs)
			}
		}
	}
	return got
}
