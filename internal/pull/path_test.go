package pull

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateRel(t *testing.T) {
	good := []string{"MLmodel", "data/model.pkl", "a b/c.d", "é/ü", "..a", "a..", ".hidden", strings.Repeat("d/", maxDepth) + "f"}
	bad := []string{"", "/etc/passwd", "../x", "a/../b", "a/./b", "./a", "a/", "a//b", `a\b`, `..\..\x`, "C:/x", "c:x",
		"a\x00b", "a\nb", "a\x7fb", "x/\xff", strings.Repeat("a", 256), strings.Repeat("d/", maxDepth+1) + "f",
		strings.Repeat("abcdefgh/", 500)}
	for _, p := range good {
		if err := ValidateRel(p); err != nil {
			t.Errorf("ValidateRel(%q) = %v, want ok", p, err)
		}
	}
	for _, p := range bad {
		if err := ValidateRel(p); err == nil {
			t.Errorf("ValidateRel(%q) = ok, want an error", p)
		}
	}
	for _, n := range []string{".", "..", "a/b", ""} {
		if ValidateName(n) == nil {
			t.Errorf("ValidateName(%q) = ok", n)
		}
	}
}

// FuzzValidateRel: any path the validator accepts stays inside the
// directory it is joined to, both by lexical joining and on disk through
// an os.Root, and names no parent.
func FuzzValidateRel(f *testing.F) {
	for _, s := range []string{"MLmodel", "a/b", "../x", "/x", `a\b`, "a/../../b", "a\x00", "C:x", "é", ".", "a/./b", "...", "a/.."} {
		f.Add(s)
	}
	dir := f.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
	f.Fuzz(func(t *testing.T, p string) {
		if ValidateRel(p) != nil {
			return
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "." || seg == "" || strings.ContainsAny(seg, "\\\x00:") {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
		j := filepath.Join(dir, filepath.FromSlash(p))
		rel, err := filepath.Rel(dir, j)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("accepted %q joins outside: %q", p, j)
		}
		if filepath.ToSlash(rel) != p {
			t.Fatalf("accepted %q is not clean: cleans to %q", p, rel)
		}
	})
}

// FuzzParseManifest: a manifest that parses holds only valid paths and
// 64-hex digests.
func FuzzParseManifest(f *testing.F) {
	f.Add("# mlflow-guard digest v1 (sha256)\n" + strings.Repeat("a", 64) + "  MLmodel\n")
	f.Add(strings.Repeat("A", 64) + "  *x/y\r\n")
	f.Add(strings.Repeat("0", 64) + "  ../x\n")
	f.Add(strings.Repeat("0", 64) + "  a\n" + strings.Repeat("1", 64) + "  a/b\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseManifest(s)
		if err != nil {
			return
		}
		for p, sum := range m {
			if ValidateRel(p) != nil || len(sum) != 64 || strings.ToLower(sum) != sum {
				t.Fatalf("accepted %q -> %q", p, sum)
			}
		}
	})
}
