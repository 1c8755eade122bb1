package analyze

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestReadAllReusesHeadAndCaches(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.py")
	if err := os.WriteFile(small, []byte("import mlflow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &File{Path: "small.py", Abs: small, Size: 14, Head: []byte("import mlflow\n")}
	if f.Content() != nil {
		t.Fatal("Content before ReadAll must be nil")
	}
	if err := os.Remove(small); err != nil {
		t.Fatal(err)
	}
	// the head holds the whole file: no second read
	if b, err := f.ReadAll(); err != nil || string(b) != "import mlflow\n" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}

	big := filepath.Join(dir, "big.py")
	content := bytes.Repeat([]byte("x = 1\n"), HeadSize)
	if err := os.WriteFile(big, content, 0o644); err != nil {
		t.Fatal(err)
	}
	g := &File{Path: "big.py", Abs: big, Size: int64(len(content)), Head: content[:HeadSize]}
	b, err := g.ReadAll()
	if err != nil || !bytes.Equal(b, content) {
		t.Fatalf("ReadAll of a file larger than its head: %d bytes, %v", len(b), err)
	}
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	if b2, err := g.ReadAll(); err != nil || !bytes.Equal(b2, content) || !bytes.Equal(g.Content(), content) {
		t.Fatalf("second ReadAll must come from the cache: %v", err)
	}

	gone := &File{Path: "gone.py", Abs: filepath.Join(dir, "gone.py"), Size: 10, Head: nil}
	if _, err := gone.ReadAll(); err == nil {
		t.Fatal("a missing file without a head must fail to read")
	}
}
