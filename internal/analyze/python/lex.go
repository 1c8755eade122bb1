package python

import "strings"

// A small Python lexer for the slicer: enough to find logical lines (strings,
// comments, brackets and continuations understood), their indentation and
// their words and operators. It does not validate anything; a file it cannot
// follow (unclosed string or bracket) is parsed whole instead.

type tokKind byte

const (
	tEOF tokKind = iota
	tWord
	tStr
	tOp
	tNum
	tNewline // end of a logical line
)

type token struct {
	kind       tokKind
	start, end int
}

type lexer struct {
	b     []byte
	i     int
	depth int  // open brackets
	bad   bool // unclosed string, unbalanced bracket: do not trust the structure
}

// opLen is the length of the operator at the start of b (at least 1):
// ** // >> << ... == != <= >= := -> and the augmented assignments.
func opLen(b []byte) int {
	if len(b) < 2 {
		return 1
	}
	c, d := b[0], b[1]
	switch {
	case (c == '*' || c == '/' || c == '>' || c == '<') && d == c:
		if len(b) > 2 && b[2] == '=' {
			return 3
		}
		return 2
	case c == '.' && d == '.' && len(b) > 2 && b[2] == '.':
		return 3
	case c == '-' && d == '>':
		return 2
	case d == '=' && strings.IndexByte("=!<>:+-*/%&|^@", c) >= 0:
		return 2
	}
	return 1
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// isStrPrefix: r, b, u, f, t and their two-letter combinations.
func isStrPrefix(w []byte) bool {
	if len(w) == 0 || len(w) > 2 {
		return false
	}
	for _, c := range w {
		switch c | 0x20 {
		case 'r', 'b', 'u', 'f', 't':
		default:
			return false
		}
	}
	return true
}

func (lx *lexer) next() token {
	b := lx.b
	for lx.i < len(b) {
		c := b[lx.i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			lx.i++
		case c == '\\' && lx.i+1 < len(b) && (b[lx.i+1] == '\n' || b[lx.i+1] == '\r'):
			lx.i += 2
			if b[lx.i-1] == '\r' && lx.i < len(b) && b[lx.i] == '\n' {
				lx.i++
			}
		case c == '#':
			for lx.i < len(b) && b[lx.i] != '\n' && b[lx.i] != '\r' {
				lx.i++
			}
		case c == '\n' || c == '\r':
			st := lx.i
			lx.i++
			if c == '\r' && lx.i < len(b) && b[lx.i] == '\n' {
				lx.i++
			}
			if lx.depth > 0 {
				continue
			}
			return token{tNewline, st, lx.i}
		case c == '"' || c == '\'':
			st := lx.i
			lx.str(c)
			return token{tStr, st, lx.i}
		case isIdentStart(c):
			st := lx.i
			for lx.i < len(b) && isIdentByte(b[lx.i]) {
				lx.i++
			}
			if lx.i < len(b) && (b[lx.i] == '"' || b[lx.i] == '\'') && isStrPrefix(b[st:lx.i]) {
				lx.str(b[lx.i])
				return token{tStr, st, lx.i}
			}
			return token{tWord, st, lx.i}
		case c >= '0' && c <= '9' || c == '.' && lx.i+1 < len(b) && b[lx.i+1] >= '0' && b[lx.i+1] <= '9':
			st := lx.i
			lx.i += numLen(b[lx.i:])
			return token{tNum, st, lx.i}
		default:
			st := lx.i
			switch c {
			case '(', '[', '{':
				lx.depth++
			case ')', ']', '}':
				if lx.depth == 0 {
					lx.bad = true
				} else {
					lx.depth--
				}
			}
			lx.i += opLen(b[lx.i:])
			return token{tOp, st, lx.i}
		}
	}
	if lx.depth > 0 {
		lx.bad = true
	}
	return token{tEOF, len(b), len(b)}
}

// str skips a string starting at the quote q (at lx.i).
func (lx *lexer) str(q byte) {
	b := lx.b
	triple := lx.i+2 < len(b) && b[lx.i+1] == q && b[lx.i+2] == q
	if triple {
		lx.i += 3
	} else {
		lx.i++
	}
	for lx.i < len(b) {
		c := b[lx.i]
		switch {
		case c == '\\':
			lx.i += 2
		case c == q && !triple:
			lx.i++
			return
		case c == q && lx.i+2 < len(b) && b[lx.i+1] == q && b[lx.i+2] == q:
			lx.i += 3
			return
		case (c == '\n' || c == '\r') && !triple:
			lx.bad = true // unterminated single-quoted string
			return
		default:
			lx.i++
		}
	}
	lx.i = len(b)
	lx.bad = true
}

// numLen is the length of the number literal at the start of b: what
// follows it (0x, 1e-3j, 1_000.5) is not taken for a name, and a name glued
// to it (0name) is left for the next token, as tree-sitter does.
func numLen(b []byte) int {
	digits := func(i int, ok func(byte) bool) int {
		for i < len(b) && (ok(b[i]) || b[i] == '_') {
			i++
		}
		return i
	}
	dec := func(c byte) bool { return c >= '0' && c <= '9' }
	if len(b) > 1 && b[0] == '0' {
		switch b[1] | 0x20 {
		case 'x':
			return digits(2, func(c byte) bool { return dec(c) || c|0x20 >= 'a' && c|0x20 <= 'f' })
		case 'o', 'b':
			return digits(2, dec)
		}
	}
	i := digits(0, dec)
	if i < len(b) && b[i] == '.' {
		i = digits(i+1, dec)
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && dec(b[j]) {
			i = digits(j, dec)
		}
	}
	if i < len(b) && b[i]|0x20 == 'j' {
		i++
	}
	return max(i, 1)
}
