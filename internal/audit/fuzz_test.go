package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseMLmodel: any bytes give a model or an error, never a panic, and
// judging a parsed model never panics either.
func FuzzParseMLmodel(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/mlmodel/*")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("flavors:\n  sklearn:\n    serialization_format: cloudpickle\n"))
	f.Add([]byte("flavors:\n  python_function: {loader_module: x, code: [a, b]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMLmodel(b)
		if err != nil {
			return
		}
		for _, p := range m.Problems() {
			if p.rule != "MLG101" && p.rule != "MLG108" {
				t.Fatalf("unexpected rule %q", p.rule)
			}
		}
	})
}

// FuzzJudgeLocation: location strings from a server are untrusted.
func FuzzJudgeLocation(f *testing.F) {
	for _, s := range []string{"s3://b/a/%252e%252e/x", "file:///x", "http://h/a#b;c", "mlflow-artifacts:/1", "%", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range judgeLocation(s, func(string) bool { return true }) {
			if p.rule != "MLG205" && p.rule != "MLG304" {
				t.Fatalf("unexpected rule %q", p.rule)
			}
		}
	})
}
