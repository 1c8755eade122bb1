package python

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

func TestSyntaxErrorStillAnalysed(t *testing.T) {
	src := []byte("import pickle\n\ndef ok(p):\n    return pickle.load(open(p, 'rb'))\n\ndef broken(:\n    pass\n")
	res := New(analyze.Options{}).analyzeBytes(context.Background(), "bad.py", src)
	if len(res.Errors) != 1 || res.Errors[0].Kind != "parse" {
		t.Fatalf("want one parse error, got %+v", res.Errors)
	}
	if res.Errors[0].Line != 6 {
		t.Errorf("parse error line = %d, want 6", res.Errors[0].Line)
	}
	if !strings.Contains(res.Errors[0].Message, "line 6") {
		t.Errorf("message should name the line: %q", res.Errors[0].Message)
	}
	if len(res.Findings) != 1 || res.Findings[0].RuleID != "MLG102" || res.Findings[0].Line != 4 {
		t.Errorf("want the MLG102 from the valid part at line 4, got %+v", res.Findings)
	}
}

func TestGarbageDoesNotPanic(t *testing.T) {
	for _, in := range []string{"mlflow(((((", "\x00\xff mlflow.log_param \xfe", "def mlflow(:\n\t\t  )]]]", strings.Repeat("(", 5000) + "mlflow", "mlflow.log_param(" + strings.Repeat("[", 3000)} {
		res := New(analyze.Options{}).analyzeBytes(context.Background(), "x.py", []byte(in))
		if len(res.Errors) == 0 {
			t.Errorf("%.20q: want a parse error", in)
		}
	}
}

func TestRelevant(t *testing.T) {
	a := New(analyze.Options{})
	cases := []struct {
		path, head string
		want       bool
	}{
		{"a/train.py", "", true},
		{"gui.pyw", "", true},
		{"types.pyi", "", false},
		{"bin/tool", "#!/usr/bin/env python3\nimport mlflow\n", true},
		{"bin/run", "#!/bin/sh\necho python\n", false},
		{"README.md", "", false},
	}
	for _, c := range cases {
		if got := a.Relevant(&analyze.File{Path: c.path, Head: []byte(c.head)}); got != c.want {
			t.Errorf("Relevant(%s) = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestPrefilterSkipsUnrelatedFiles(t *testing.T) {
	if mayMatch([]byte("import os\nprint(os.getcwd())\n")) {
		t.Error("a file without trigger words must be skipped")
	}
	if !mayMatch([]byte("from joblib import load")) {
		t.Error("joblib must trigger")
	}
}

func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.py")
	if err := os.WriteFile(p, []byte("import mlflow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := New(analyze.Options{})
	if a.MaxFileSize() != 8<<20 {
		t.Errorf("MaxFileSize = %d", a.MaxFileSize())
	}
	res := a.Analyze(context.Background(), &analyze.File{Path: "big.py", Abs: p, Size: MaxSize + 1})
	if len(res.Errors) != 1 || res.Errors[0].Kind != "limit" {
		t.Fatalf("want a limit error, got %+v", res.Errors)
	}
}

func TestReadErrorNamesPath(t *testing.T) {
	res := New(analyze.Options{}).Analyze(context.Background(), &analyze.File{Path: "gone.py", Abs: filepath.Join(t.TempDir(), "gone.py")})
	if len(res.Errors) != 1 || res.Errors[0].Kind != "read" || !strings.Contains(res.Errors[0].Message, "gone.py") {
		t.Fatalf("got %+v", res.Errors)
	}
}

func TestSnippetRedacted(t *testing.T) {
	src := []byte(`import mlflow
mlflow.log_params({"password": "secret123", "lr": 1})
mlflow.set_tag("note", "ghp_0123456789abcdefghijABCDEFGHIJ012345")
mlflow.set_tracking_uri("https://admin:S3cretPass@mlflow.example.com")
`)
	res := New(analyze.Options{}).analyzeBytes(context.Background(), "s.py", src)
	if len(res.Findings) != 3 {
		t.Fatalf("want 3 findings, got %+v", res.Findings)
	}
	for _, f := range res.Findings {
		for _, secret := range []string{"secret123", "ghp_0123456789", "S3cretPass"} {
			if strings.Contains(f.Snippet, secret) || strings.Contains(f.Message, secret) {
				t.Errorf("%s leaks a secret: %q / %q", f.RuleID, f.Snippet, f.Message)
			}
		}
	}
}

func TestConcurrentAnalyze(t *testing.T) {
	files, err := filepath.Glob("testdata/src/*.py")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures", err)
	}
	a := New(analyze.Options{})
	want := map[string]int{}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		want[p] = len(a.analyzeBytes(context.Background(), p, b).Findings)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				for _, p := range files {
					b, _ := os.ReadFile(p)
					if n := len(a.analyzeBytes(context.Background(), p, b).Findings); n != want[p] {
						t.Errorf("%s: %d findings concurrently, %d alone", p, n, want[p])
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := []byte("import mlflow\n" + strings.Repeat("mlflow.log_param('a', 1)\n", 20000))
	done := make(chan struct{})
	go func() {
		defer close(done)
		res := New(analyze.Options{}).analyzeBytes(ctx, "c.py", src)
		if len(res.Errors) == 0 {
			t.Error("a cancelled analysis must say so")
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled analysis did not stop")
	}
}

// Many module-level names times many branches must stay bounded.
func TestManyBranchesBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("import mlflow\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "v%d = %d\n", i, i)
	}
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "if v%d:\n    mlflow.log_param('a', v%d)\n", i, i)
	}
	b.WriteString("mlflow.log_params(os.environ)\n")
	start := time.Now()
	res := New(analyze.Options{}).analyzeBytes(context.Background(), "many.py", []byte(b.String()))
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
	if len(res.Findings) == 0 && len(res.Errors) == 0 {
		t.Error("want the MLG202 at the end or a limit error")
	}
	t.Logf("%v: %d findings, errors %v", time.Since(start), len(res.Findings), res.Errors)
}
