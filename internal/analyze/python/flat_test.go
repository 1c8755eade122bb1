package python

import (
	"os"
	"path/filepath"
	"testing"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// TestFlattenMatchesBinding checks the one-call C flattening (and the
// declarations it relies on) against the binding's own node-by-node walk.
func TestFlattenMatchesBinding(t *testing.T) {
	g := loadGrammar()
	files, _ := filepath.Glob("testdata/src/*.py")
	files = append(files, "testdata/fuzz/FuzzAnalyze/0d5e67f7b9ba87cd")
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		parser := sitter.NewParser()
		if err := parser.SetLanguage(g.lang); err != nil {
			t.Fatal(err)
		}
		tree := parser.Parse(src, nil)
		defer tree.Close()
		// convert closes its tree: give it a second one
		root, lim, err := g.convert(parser.Parse(src, nil), 0)
		if err != nil || lim.deepAt >= 0 {
			t.Fatalf("%s: convert: %v, cut at %d", p, err, lim.deepAt)
		}
		var cmp func(b *sitter.Node, n *node, path string)
		count := 0
		cmp = func(b *sitter.Node, n *node, path string) {
			count++
			if b.Kind() != n.kind || uint32(b.StartByte()) != n.start || uint32(b.EndByte()) != n.end || b.ChildCount() != uint(len(n.kids)) {
				t.Fatalf("%s %s: binding %s[%d,%d) %d kids, flat %s[%d,%d) %d kids", p, path, b.Kind(), b.StartByte(), b.EndByte(), b.ChildCount(), n.kind, n.start, n.end, len(n.kids))
			}
			for i := uint(0); i < b.ChildCount(); i++ {
				if f := b.FieldNameForChild(uint32(i)); f != n.kids[i].fieldName() {
					t.Fatalf("%s %s/%d: field %q, flat %q", p, path, i, f, n.kids[i].fieldName())
				}
				cmp(b.Child(i), n.kids[i], path+"/"+n.kids[i].kind)
			}
		}
		cmp(tree.RootNode(), root, "")
		if uint(count) != tree.RootNode().DescendantCount() {
			t.Errorf("%s: compared %d nodes, tree has %d", p, count, tree.RootNode().DescendantCount())
		}
		parser.Close()
	}
}
