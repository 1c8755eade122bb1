package audit

import (
	"testing"
)

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
