package python

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

func dumpNode(s *src, n *node, depth int, sb *strings.Builder) {
	if n.named {
		t := ""
		if len(n.kids) == 0 {
			t = " " + s.text(n)
		}
		fmt.Fprintf(sb, "%s%s:%s%s%v\n", strings.Repeat("  ", depth), n.field, n.kind, t, map[bool]string{true: " BAD", false: ""}[n.bad])
	} else {
		fmt.Fprintf(sb, "%s%s:%q\n", strings.Repeat("  ", depth), n.field, n.kind)
	}
	for _, k := range n.kids {
		dumpNode(s, k, depth+1, sb)
	}
}

func TestDump(t *testing.T) {
	f := os.Getenv("PYDUMP")
	if f == "" {
		t.Skip("set PYDUMP=file.py")
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	root, err := loadGrammar().parse(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	dumpNode(newSrc(b), root, 0, &sb)
	fmt.Print(sb.String())
}
