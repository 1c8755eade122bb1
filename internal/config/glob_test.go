package config

import "testing"

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, path string
		want      bool
	}{
		{"vendor/**", "vendor", true},
		{"vendor/**", "vendor/a/b.py", true},
		{"vendor/**", "src/vendor/a.py", false},
		{"*.pyc", "a/b/c.pyc", true},
		{"*.pyc", "c.pyc", true},
		{"*.pyc", "c.py", false},
		{"src/*.py", "src/a.py", true},
		{"src/*.py", "src/x/a.py", false},
		{"src/**/test_*.py", "src/test_a.py", true},
		{"src/**/test_*.py", "src/a/b/test_a.py", true},
		{"**/node_modules", "web/node_modules/x/y.js", true},
		{"build", "build/out.bin", true},
		{"build", "rebuild/out.bin", false},
		{"/docs/", "docs/a.md", true},
		{"a/**/b/**/c", "a/x/b/y/z/c", true},
		{"a/**/b/**/c", "a/x/c", false},
		{"data/?.csv", "data/1.csv", true},
		{"data/[ab].csv", "data/c.csv", false},
	}
	for _, c := range cases {
		g, err := CompileGlob(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		if got := g.Match(c.path); got != c.want {
			t.Errorf("%q ~ %q = %v, want %v", c.pat, c.path, got, c.want)
		}
	}
	if g, _ := CompileGlob("src/*.py"); g.MatchExact("src/a.py/x") {
		t.Error("MatchExact must not match children")
	}
	for _, bad := range []string{"", "/", "a//b", "a/b**", "[a-"} {
		if _, err := CompileGlob(bad); err == nil {
			t.Errorf("CompileGlob(%q): want an error", bad)
		}
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("vendor/**", "vendor/a/b.py")
	f.Add("a/**/b/**/c", "a/x/b/y/z/c")
	f.Add("[a-", "x")
	f.Fuzz(func(t *testing.T, pat, p string) {
		g, err := CompileGlob(pat)
		if err != nil {
			return
		}
		_ = g.Match(p)
		_ = g.MatchExact(p)
	})
}
