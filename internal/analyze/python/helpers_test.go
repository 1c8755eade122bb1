package python

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRelModuleStaysInTree: a relative import resolves only to a regular
// .py file inside the scanned tree, also through symlinked folders.
func TestRelModuleStaysInTree(t *testing.T) {
	root := t.TempDir()
	out := t.TempDir()
	pkg := filepath.Join(root, "pkg")
	for _, d := range []string{pkg, filepath.Join(pkg, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		if err := os.WriteFile(p, []byte("def f(client):\n    return client.get_run('x')\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(pkg, "utils.py"))
	write(filepath.Join(pkg, "sub", "deep.py"))
	write(filepath.Join(root, "top.py"))
	write(filepath.Join(out, "outside.py"))
	if err := os.Symlink(out, filepath.Join(pkg, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(out, "outside.py"), filepath.Join(pkg, "alias.py")); err != nil {
		t.Fatal(err)
	}
	d := pkgDir{dir: pkg, root: root}
	cases := []struct {
		dots      int
		mod, name string
		want      string
	}{
		{1, "", "utils", filepath.Join(pkg, "utils.py")},
		{1, "sub", "deep", filepath.Join(pkg, "sub", "deep.py")},
		{2, "", "top", filepath.Join(root, "top.py")},
		{3, filepath.Base(out), "outside", ""}, // above the scan root
		{1, "linked", "outside", ""},           // a symlinked folder leading out
		{1, "", "alias", ""},                   // a symlink, not a regular file
		{1, "", "missing", ""},                 // no such module
		{1, "", "../top", ""},                  // not a module name
		{0, "", "utils", ""},                   // not a relative import
	}
	for _, c := range cases {
		if got := d.relModule(c.dots, c.mod, c.name); got != c.want {
			t.Errorf("relModule(%d, %q, %q) = %q, want %q", c.dots, c.mod, c.name, got, c.want)
		}
	}
	if got := (pkgDir{}).relModule(1, "", "utils"); got != "" {
		t.Errorf("no file on disk: got %q", got)
	}
}
