package deploy

// The shell parser (mvdan.cc/sh) recurses once per nesting level of
// $( ( { ${ $(( if/while/for/case and quotes, and a Go stack overflow kills
// the process. shellNesting is a cheap scan that bounds that depth before
// the parser sees the source. It errs on the high side: it counts an opener
// it is unsure of, and lowers the depth only on a closer that certainly
// matches the innermost opener (a case pattern's ")" closes nothing).

// maxShellDepth is far above what scripts use (a few levels) and far below
// what the parser's stack can take.
const maxShellDepth = 200

type nestKind byte

const (
	nParen      nestKind = iota + 1 // ( $( $((
	nBrace                          // { ${
	nDQ                             // "..."
	nBacktick                       // `...`
	nCase                           // case ... esac: ")" closes patterns, not parens
	nKeyword                        // if/while/until/for/select ... fi/done
	nHeredoc                        // an unquoted heredoc body: expansions only
	nArith                          // $(( or (( ... )): "<<" is a shift, quotes are not special
	nArithParen                     // ( inside arithmetic
)

// shellNesting returns the 1-based line where the nesting of src first goes
// past maxShellDepth, or 0 if it never does.
func shellNesting(src string) int {
	line, _ := nestScan(src, 1, 0, false)
	return line
}

// nestScan scans src starting at line line0 with base levels already open
// (heredoc: the text is a heredoc body). It returns the line where the depth
// first goes past maxShellDepth (0: never) and the number of lines scanned.
func nestScan(src string, line0, base int, heredoc bool) (int, int) {
	var stack []nestKind
	if heredoc {
		stack = append(stack, nHeredoc)
	}
	line := line0
	type pending struct {
		delim  string
		quoted bool
		strip  bool
	}
	var docs []pending
	cmdStart := true // at a position where a keyword starts a command
	push := func(k nestKind) bool {
		stack = append(stack, k)
		return base+len(stack) > maxShellDepth
	}
	pop := func(k nestKind) {
		if len(stack) > 0 && stack[len(stack)-1] == k {
			stack = stack[:len(stack)-1]
		}
	}
	top := func() nestKind {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1]
	}
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if c == '\n' {
			line++
			i++
			if len(docs) > 0 && top() != nDQ && top() != nHeredoc {
				// heredoc bodies start on the next line
				for _, d := range docs {
					start, startLine := i, line
					for i < n {
						e := i
						for e < n && src[e] != '\n' {
							e++
						}
						l := src[i:e]
						if d.strip {
							for len(l) > 0 && l[0] == '\t' {
								l = l[1:]
							}
						}
						done := l == d.delim || l == d.delim+"\r"
						i = min(e+1, n)
						line++
						if done {
							break
						}
					}
					if !d.quoted {
						if at, _ := nestScan(src[start:i], startLine, base+len(stack), true); at > 0 {
							return at, 0
						}
					}
				}
				docs = docs[:0]
			}
			cmdStart = true
			continue
		}
		t := top()
		if t == nArith || t == nArithParen {
			switch {
			case c == ')' && t == nArithParen:
				pop(nArithParen)
				i++
			case c == ')' && i+1 < n && src[i+1] == ')':
				pop(nArith)
				i += 2
			case c == '(':
				if push(nArithParen) {
					return line, 0
				}
				i++
			case c == '$' && i+1 < n && (src[i+1] == '(' || src[i+1] == '{'):
				k := nParen
				if src[i+1] == '{' {
					k = nBrace
				}
				if push(k) {
					return line, 0
				}
				i += 2
			default:
				i++
			}
			continue
		}
		if t == nDQ || t == nHeredoc {
			switch {
			case c == '\\':
				i += 2
			case c == '"' && t == nDQ:
				pop(nDQ)
				i++
			case c == '$' && i+2 < n && src[i+1] == '(' && src[i+2] == '(':
				if push(nArith) {
					return line, 0
				}
				i += 3
			case c == '$' && i+1 < n && src[i+1] == '(':
				if push(nParen) {
					return line, 0
				}
				i += 2
				cmdStart = true
			case c == '$' && i+1 < n && src[i+1] == '{':
				if push(nBrace) {
					return line, 0
				}
				i += 2
			case c == '`':
				if push(nBacktick) {
					return line, 0
				}
				i++
				cmdStart = true
			default:
				i++
			}
			continue
		}
		switch {
		case c == '\\':
			i += 2
			cmdStart = false
		case c == '\'':
			// $'...' takes backslash escapes; '...' none
			ansi := i > 0 && src[i-1] == '$'
			i++
			for i < n && src[i] != '\'' {
				if src[i] == '\n' {
					line++
				}
				if ansi && src[i] == '\\' {
					i++
				}
				i++
			}
			i++
			cmdStart = false
		case c == '"':
			if push(nDQ) {
				return line, 0
			}
			i++
			cmdStart = false
		case c == '`':
			if t == nBacktick {
				pop(nBacktick)
			} else if push(nBacktick) {
				return line, 0
			}
			i++
			cmdStart = true
		case c == '#' && (i == 0 || isShellBreak(src[i-1])):
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '$' && i+2 < n && src[i+1] == '(' && src[i+2] == '(',
			c == '(' && cmdStart && i+1 < n && src[i+1] == '(':
			if push(nArith) {
				return line, 0
			}
			if c == '$' {
				i++
			}
			i += 2
			cmdStart = false
		case c == '$' && i+1 < n && (src[i+1] == '(' || src[i+1] == '{'):
			k := nParen
			if src[i+1] == '{' {
				k = nBrace
			}
			if push(k) {
				return line, 0
			}
			i += 2
			cmdStart = k == nParen
		case c == '(':
			if push(nParen) {
				return line, 0
			}
			i++
			cmdStart = true
		case c == ')':
			pop(nParen)
			i++
		case c == '{':
			if push(nBrace) {
				return line, 0
			}
			i++
			cmdStart = true
		case c == '}':
			pop(nBrace)
			i++
		case c == '<' && i+1 < n && src[i+1] == '<' && (i+2 >= n || src[i+2] != '<'):
			i += 2
			d := pending{}
			if i < n && src[i] == '-' {
				d.strip = true
				i++
			}
			for i < n && (src[i] == ' ' || src[i] == '\t') {
				i++
			}
			s := i
			for i < n && !isShellBreak(src[i]) {
				if src[i] == '\'' || src[i] == '"' || src[i] == '\\' {
					d.quoted = true
				}
				i++
			}
			d.delim = trimQuotes(src[s:i])
			if d.delim != "" {
				docs = append(docs, d)
			}
			cmdStart = false
		case c == ';' || c == '&' || c == '|' || c == '!':
			i++
			cmdStart = true
		case c == ' ' || c == '\t' || c == '\r':
			i++
		default:
			s := i
			for i < n && !isShellBreak(src[i]) && src[i] != '\'' && src[i] != '"' && src[i] != '`' && src[i] != '$' && src[i] != '\\' && src[i] != '(' && src[i] != ')' && src[i] != '{' && src[i] != '}' {
				i++
			}
			if i == s {
				i++ // a lone '$' and the like
				cmdStart = false
				continue
			}
			w := src[s:i]
			if cmdStart {
				switch w {
				case "if", "while", "until", "for", "select":
					if push(nKeyword) {
						return line, 0
					}
				case "case":
					if push(nCase) {
						return line, 0
					}
				case "fi", "done":
					pop(nKeyword)
				case "esac":
					pop(nCase)
				}
			}
			// after these a command (or keyword) follows
			cmdStart = w == "then" || w == "do" || w == "else" || w == "elif" || w == "time" || w == "!"
		}
	}
	return 0, line - line0
}

func isShellBreak(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

func trimQuotes(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"', '\\':
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}
