package python

import (
	"errors"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"
)

var errNoParser = errors.New("tree-sitter parser unavailable")

// child returns the first child with the given field name, or nil.
func (n *node) child(field string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.fieldName() == field {
			return k
		}
	}
	return nil
}

// namedKids returns the named children, skipping comments.
func (n *node) namedKids() []*node {
	if n == nil {
		return nil
	}
	out := make([]*node, 0, len(n.kids))
	for _, k := range n.kids {
		if k.named && k.kind != "comment" {
			out = append(out, k)
		}
	}
	return out
}

// firstNamed returns the first named non-comment child.
func (n *node) firstNamed() *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.named && k.kind != "comment" {
			return k
		}
	}
	return nil
}

// unparen strips parentheses around an expression.
func unparen(n *node) *node {
	for n != nil && n.kind == "parenthesized_expression" {
		n = n.firstNamed()
	}
	return n
}

// walk visits n and its descendants in pre-order until fn returns false for
// a node (its subtree is then skipped).
func walk(n *node, fn func(*node) bool) {
	if n == nil || !fn(n) {
		return
	}
	// a stack of (node, next child) frames: memory grows with the depth of
	// the tree, not with the width of its widest node
	type frame struct {
		n *node
		i int
	}
	var buf [32]frame
	stack := append(buf[:0], frame{n, 0})
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i >= len(top.n.kids) {
			stack = stack[:len(stack)-1]
			continue
		}
		k := top.n.kids[top.i]
		top.i++
		if fn(k) && len(k.kids) > 0 {
			stack = append(stack, frame{k, 0})
		}
	}
}

// isScopeNode reports whether n opens a new Python scope.
func isScopeNode(n *node) bool {
	switch n.kind {
	case "function_definition", "class_definition", "lambda":
		return true
	}
	return false
}

// src is the file being analysed with a line index.
type src struct {
	b     []byte
	lines []uint32 // byte offset of each line start
	hi    bool     // some byte is not ASCII: names may need normalising
}

func newSrc(b []byte) *src {
	s := &src{b: b, lines: []uint32{0}}
	var or byte
	for i, c := range b {
		or |= c
		if c == '\n' {
			s.lines = append(s.lines, uint32(i+1))
		}
	}
	s.hi = or >= 0x80
	return s
}

// text is n's source text; names come NFKC-normalised, as Python reads
// them, so that ｌｏａｄ is load.
func (s *src) text(n *node) string {
	if n == nil || int(n.end) > len(s.b) || n.start > n.end {
		return ""
	}
	t := string(s.b[n.start:n.end])
	if s.hi && (n.kind == "identifier" || n.kind == "dotted_name") {
		return normIdent(t)
	}
	return t
}

// normIdent is Python's identifier normalisation (NFKC; PEP 3131).
func normIdent(t string) string {
	for i := 0; i < len(t); i++ {
		if t[i] >= 0x80 {
			return norm.NFKC.String(t)
		}
	}
	return t
}

// pos converts a byte offset to a 1-based line and column.
func (s *src) pos(off uint32) (int, int) {
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, int(off-s.lines[i]) + 1
}

// lineText returns the trimmed text of a 1-based line.
func (s *src) lineText(line int) string {
	if line < 1 || line > len(s.lines) {
		return ""
	}
	st := s.lines[line-1]
	en := uint32(len(s.b))
	if line < len(s.lines) {
		en = s.lines[line] - 1
	}
	if en < st {
		en = st
	}
	t := strings.TrimSpace(string(s.b[st:en]))
	if len(t) > 200 {
		t = t[:200]
	}
	return t
}
