package scan

import (
	"bytes"
	"path"
	"strings"
)

// stringLexer finds the string literals of a source line, so that an
// inline suppression marker is honoured only in a comment: a string that
// happens to contain "# mlflow-guard: ignore[...]" (a log message, a test
// fixture, an attacker's payload) must not suppress the finding on its
// line. It is a line-level approximation of each language's tokenizer:
//
//   - Python: '...' and "..." with backslash escapes, and ”'...”' /
//     """...""" which may span lines (docstrings), so the lexer keeps state
//     from one line to the next; '#' outside a string starts a comment.
//   - Everything else (YAML, shell, Dockerfile, ini, nginx, .env): a quote
//     opens a string only where a value can start (line start, after
//     whitespace or one of =:[{(,), so an apostrophe in a plain YAML value
//     is not mistaken for one; '#' after whitespace starts a comment.
type stringLexer struct {
	python bool
	triple string // the closing `"""` or `'''` while inside one
}

func newStringLexer(rel string) *stringLexer {
	switch strings.ToLower(path.Ext(rel)) {
	case ".py", ".pyw", ".pyi", ".ipynb": // a notebook's lines are given as their cell text
		return &stringLexer{python: true}
	}
	return &stringLexer{}
}

// spans returns the byte ranges [start, end) of string literals on line;
// it must see every line of a file in order.
func (lx *stringLexer) spans(line []byte) [][2]int {
	var out [][2]int
	i := 0
	if lx.triple != "" {
		end := bytes.Index(line, []byte(lx.triple))
		if end < 0 {
			return [][2]int{{0, len(line)}}
		}
		out = append(out, [2]int{0, end + 3})
		i = end + 3
		lx.triple = ""
	}
	for i < len(line) {
		c := line[i]
		switch {
		case c == '#' && (lx.python || i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return out // a comment runs to the end of the line
		case c == '"' || c == '\'':
			if !lx.python && i > 0 && !strings.ContainsRune(" \t=:[{(,", rune(line[i-1])) {
				i++
				continue
			}
			if lx.python && i+2 < len(line) && line[i+1] == c && line[i+2] == c {
				q := string(line[i : i+3])
				end := bytes.Index(line[i+3:], []byte(q))
				if end < 0 {
					lx.triple = q
					return append(out, [2]int{i, len(line)})
				}
				out = append(out, [2]int{i, i + 3 + end + 3})
				i += 3 + end + 3
				continue
			}
			j := i + 1
			for j < len(line) && line[j] != c {
				if line[j] == '\\' && (lx.python || c == '"') {
					j++
				}
				j++
			}
			if j >= len(line) {
				return append(out, [2]int{i, len(line)})
			}
			out = append(out, [2]int{i, j + 1})
			i = j + 1
		default:
			i++
		}
	}
	return out
}

func inSpans(spans [][2]int, pos int) bool {
	for _, s := range spans {
		if pos >= s[0] && pos < s[1] {
			return true
		}
	}
	return false
}
