package python

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
)

// TestNotebookFixtures runs the notebook fixtures against their want
// comments, which sit on the .ipynb lines the findings must name.
func TestNotebookFixtures(t *testing.T) {
	nb := NewNotebooks(New(analyze.Options{Policy: testPolicy()}))
	got := analyzetest.Run(t, nb, "testdata/notebooks", false)
	for _, f := range got {
		if f.Cell <= 0 {
			t.Errorf("%s:%d: %s finding without its cell", f.Path, f.Line, f.RuleID)
		}
		if f.RuleID != "MLG403" && f.CellLine <= 0 {
			t.Errorf("%s:%d: %s finding without its line in the cell", f.Path, f.Line, f.RuleID)
		}
	}
}

// TestNotebookCellPositions pins cell numbers and cell lines (markdown
// cells count) and the rewriting of module lines in error messages.
func TestNotebookCellPositions(t *testing.T) {
	nb := NewNotebooks(New(analyze.Options{Policy: testPolicy()}))
	src := `{"cells": [
 {"cell_type": "markdown", "source": ["# title"]},
 {"cell_type": "code", "source": ["import pickle\n", "x = 1\n"], "outputs": []},
 {"cell_type": "code", "source": ["y = 2\n", "pickle.loads(data)\n", "def broken(:\n", "    pass"], "outputs": []}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	res := nb.analyzeBytes(context.Background(), "n.ipynb", []byte(src))
	if len(res.Findings) != 1 {
		t.Fatalf("want one finding, got %+v", res.Findings)
	}
	f := res.Findings[0]
	if f.RuleID != "MLG102" || f.Line != 4 || f.Cell != 3 || f.CellLine != 2 || f.Column != 0 {
		t.Errorf("got %s at line %d cell %d line %d col %d, want MLG102 at line 4 cell 3 line 2", f.RuleID, f.Line, f.Cell, f.CellLine, f.Column)
	}
	if len(res.Errors) != 1 || res.Errors[0].Kind != "parse" || res.Errors[0].Line != 4 ||
		!strings.Contains(res.Errors[0].Message, "cell 3, line 3") {
		t.Errorf("want one parse error at line 4 naming cell 3, line 3; got %+v", res.Errors)
	}
}

// TestNotebookMalformed: a notebook that is not one is a parse error
// naming the file and the line; an empty file holds nothing to check.
func TestNotebookMalformed(t *testing.T) {
	nb := NewNotebooks(New(analyze.Options{}))
	cases := []struct {
		in   string
		line int
		msg  string
	}{
		{"{\n \"cells\": [\n  {\"cell_type\": \"code\", \"source\": [\"x\"]}\n ,]\n}", 4, "invalid JSON"},
		{"{\"cells\": [", 1, "ends early"},
		{"{\"cells\": {}}", 1, "cells is not a list"},
		{"{\n\"cells\": [{\"cell_type\": \"code\",\n \"source\": [1, 2]}]}", 3, "other than strings"},
		{"[]", 1, "notebook is not an object"},
		{"{} {}", 1, "after the notebook"},
		{strings.Repeat(`{"metadata": `, 300) + "1" + strings.Repeat("}", 300), 1, "nested deeper"},
	}
	for _, c := range cases {
		res := nb.analyzeBytes(context.Background(), "bad.ipynb", []byte(c.in))
		if len(res.Errors) != 1 || res.Errors[0].Kind != "parse" || res.Errors[0].Line != c.line ||
			!strings.Contains(res.Errors[0].Message, c.msg) || !strings.Contains(res.Errors[0].Message, "bad.ipynb") {
			t.Errorf("%.40q: want a parse error at line %d with %q, got %+v", c.in, c.line, c.msg, res.Errors)
		}
	}
	for _, empty := range []string{"", " \n"} {
		if res := nb.analyzeBytes(context.Background(), "e.ipynb", []byte(empty)); len(res.Errors)+len(res.Findings) != 0 {
			t.Errorf("%q: want nothing, got %+v", empty, res)
		}
	}
}

// TestNotebookText: list sources join with "" (a line may span two
// strings), tracebacks with "\n", and each line keeps the .ipynb line it
// starts on.
func TestNotebookText(t *testing.T) {
	src := "{\"cells\": [{\"cell_type\": \"code\",\n\"source\": [\"a = (1 +\",\n\" 2)\\nb\\r\\n\",\n\"c\"],\n\"outputs\": [{\"traceback\": [\"t1\",\n\"t2\"]}]}]}"
	nb, err := readNotebook([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := nb.cells[0]
	want := []nbLine{{"a = (1 + 2)", 2}, {"b", 3}, {"c", 4}}
	if len(c.src) != len(want) {
		t.Fatalf("source lines %+v, want %+v", c.src, want)
	}
	for i := range want {
		if c.src[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, c.src[i], want[i])
		}
	}
	if len(c.outputs) != 1 || len(c.outputs[0].lines) != 2 || c.outputs[0].lines[0] != (nbLine{"t1", 5}) || c.outputs[0].lines[1] != (nbLine{"t2", 6}) {
		t.Errorf("traceback lines %+v", c.outputs)
	}
}

// TestNotebookStreamMerge: consecutive outputs to the same stream are one
// text, as Jupyter shows them (a line cut between two writes is rejoined);
// another stream, or any other output in between, starts a new text.
func TestNotebookStreamMerge(t *testing.T) {
	src := `{"cells": [{"cell_type": "code", "source": "", "outputs": [
{"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
{"output_type": "stream", "name": "stdout", "text": "c\nd\n"},
{"output_type": "stream", "name": "stderr", "text": "e\n"},
{"output_type": "stream", "name": "stdout", "text": "f"},
{"output_type": "display_data", "data": {"image/png": "iVBO"}},
{"name": "stdout", "text": "g", "output_type": "stream"},
{"output_type": "error", "evalue": "h", "traceback": ["i"]},
{"output_type": "stream", "name": "stdout", "text": []},
{"output_type": "stream", "name": "stdout", "text": "j"}
]}, {"cell_type": "code", "input": "", "outputs": [
{"output_type": "stream", "stream": "stdout", "text": "k"},
{"output_type": "stream", "stream": "stdout", "text": "l"},
{"output_type": "pyout", "text": "m"},
{"output_type": "pyout", "text": "n"}
]}]}`
	nb, err := readNotebook([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range nb.cells {
		for _, o := range c.outputs {
			var ls []string
			for _, l := range o.lines {
				ls = append(ls, fmt.Sprintf("%s@%d", l.text, l.line))
			}
			got = append(got, strings.Join(ls, "|"))
		}
	}
	want := []string{"a@2|bc@2|d@3", "e@4", "f@5", "g@7", "h@8", "i@8", "j@10", "kl@12", "m@14", "n@15"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("output texts\n got %q\nwant %q", got, want)
	}
}

// TestNotebookOutputKeyLines: a key far into a long output (past the first
// window of the scan) is reported once, on the .ipynb line of its header,
// and no finding carries key material.
func TestNotebookOutputKeyLines(t *testing.T) {
	const body = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCmU9thDEOrlgSx"
	var b strings.Builder
	b.WriteString("{\"cells\": [{\"cell_type\": \"code\", \"source\": \"print(log)\", \"outputs\": [\n{\"output_type\": \"stream\", \"name\": \"stdout\", \"text\": [\n")
	line := 3
	for i := 0; i < 3000; i++ { // ~160 KiB of log before the key
		fmt.Fprintf(&b, "\"epoch %d loss 0.%06d accuracy 0.%06d lr 0.0001 batch 512 grad-norm 1.25\\n\",\n", i, i*7, i*13)
		line++
	}
	keyLine := line
	b.WriteString("\"-----BEGIN PRIVATE KEY-----\\n\",\n")
	for i := 0; i < 25; i++ {
		b.WriteString("\"" + body + "\\n\",\n")
	}
	b.WriteString("\"-----END PRIVATE KEY-----\\n\"\n]}]}]}")
	nb := NewNotebooks(New(analyze.Options{}))
	res := nb.analyzeBytes(context.Background(), "long.ipynb", []byte(b.String()))
	if len(res.Errors) != 0 || len(res.Findings) != 1 {
		t.Fatalf("want one finding, got %+v %+v", res.Findings, res.Errors)
	}
	f := res.Findings[0]
	if f.RuleID != "MLG403" || f.Line != keyLine || f.EndLine != keyLine || f.Cell != 1 ||
		!strings.Contains(f.Message, "cell 1 holds a credential (private key)") {
		t.Errorf("got %s at line %d-%d cell %d %q, want MLG403 at line %d", f.RuleID, f.Line, f.EndLine, f.Cell, f.Message, keyLine)
	}
	if s := fmt.Sprintf("%+v", f); strings.Contains(s, body[:16]) || strings.Contains(s, body[40:]) {
		t.Errorf("finding carries key material: %s", s)
	}
}
