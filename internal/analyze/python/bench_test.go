package python

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

func benchFile(b *testing.B, name string, src []byte) {
	a := New(analyze.Options{})
	ctx := context.Background()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := a.analyzeBytes(ctx, name, src)
		if len(res.Errors) > 0 && res.Errors[0].Kind != "parse" {
			b.Fatal(res.Errors)
		}
	}
}

// BenchmarkAnalyzeFixtures analyses every fixture concatenated into one
// large file, renamed per copy so it stays valid Python (always available).
func BenchmarkAnalyzeFixtures(b *testing.B) {
	files, _ := filepath.Glob("testdata/src/*.py")
	var buf bytes.Buffer
	for i := 0; i < 10; i++ {
		for _, p := range files {
			if strings.Contains(p, "seed_") {
				continue
			}
			c, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			buf.Write(c)
			buf.WriteString("\n")
		}
	}
	benchFile(b, "big.py", buf.Bytes())
}

// BenchmarkAnalyzeMlflowClient analyses MLflow's own client.py (about 6,000
// lines that mention mlflow throughout: every line is parsed and walked).
func BenchmarkAnalyzeMlflowClient(b *testing.B) {
	py := filepath.Join(testenv.Venv(), "lib", "python3.11", "site-packages", "mlflow", "tracking", "client.py")
	src, err := os.ReadFile(py)
	if err != nil {
		testenv.Require(b, "the test virtualenv's mlflow sources ("+py+")")
	}
	benchFile(b, "client.py", src)
}

// BenchmarkSitePackages analyses every .py file of the test virtualenv's
// site-packages (read into memory first) and reports files per second.
func BenchmarkSitePackages(b *testing.B) {
	root := filepath.Join(testenv.Venv(), "lib", "python3.11", "site-packages")
	if r := os.Getenv("PYBENCH_ROOT"); r != "" {
		root = r // compare with another tool on the same tree
	}
	var srcs [][]byte
	var total int64
	a := New(analyze.Options{})
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !a.Relevant(&analyze.File{Path: p}) {
			return nil
		}
		if c, err := os.ReadFile(p); err == nil && len(c) <= MaxSize {
			srcs = append(srcs, c)
			total += int64(len(c))
		}
		return nil
	})
	if len(srcs) == 0 {
		testenv.Require(b, "the test virtualenv's site-packages ("+root+")")
	}
	ctx := context.Background()
	b.SetBytes(total)
	b.ResetTimer()
	parsed := 0
	for i := 0; i < b.N; i++ {
		parsed = 0
		for _, c := range srcs {
			if mayMatch(c) {
				parsed++
			}
			a.analyzeBytes(ctx, "f.py", c)
		}
	}
	b.ReportMetric(float64(len(srcs)*b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(len(srcs)), "files")
	b.ReportMetric(float64(parsed), "parsed")
}
