package python

import "bytes"

// Lexical name bindings, for definitions the slicer drops: the analysis
// needs every name the file binds (a name bound nowhere is input from
// outside), and these are the names a dropped definition would have added.
// The forms are Python's: def/class names and parameters, assignment and
// annotation targets, for/as/import/global/nonlocal/lambda/:= names.
// TestBoundNamesMatchTree checks the result against the parse tree.

var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true, "await": true,
	"break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true, "except": true,
	"finally": true, "for": true, "from": true, "global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true, "return": true, "try": true,
	"while": true, "with": true, "yield": true,
}

// compoundKeywords open a header that ends at the first top-level colon.
var compoundKeywords = map[string]bool{
	"if": true, "elif": true, "else": true, "while": true, "for": true, "try": true, "except": true, "finally": true,
	"with": true, "def": true, "class": true, "async": true, "match": true, "case": true,
}

// boundNames calls fn for each name bound by the logical lines that start
// in b[start:] (b ends where the range ends).
func boundNames(b []byte, start int, fn func(string)) {
	lx := &lexer{b: b, i: start}
	var toks []token
	for {
		t := lx.next()
		if t.kind == tEOF || t.kind == tNewline {
			if len(toks) > 0 {
				binder{b: b, fn: fn}.stmt(toks)
			}
			toks = toks[:0]
			if t.kind == tEOF {
				return
			}
			continue
		}
		toks = append(toks, t)
		if t.kind == tStr {
			fstringBindings(b[t.start:t.end], fn)
		}
	}
}

// fstringBindings: comprehensions and := inside an f-string's replacement
// fields bind names too (f"{[c.name for c in cs]}").
func fstringBindings(s []byte, fn func(string)) {
	i := 0
	for i < len(s) && isIdentByte(s[i]) {
		i++
	}
	if !bytes.ContainsAny(s[:i], "fF") || !bytes.Contains(s[i:], []byte("for")) && !bytes.Contains(s[i:], []byte(":=")) {
		return
	}
	for ; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			i++ // {{ is a literal brace
			continue
		}
		depth, j := 0, i
		for ; j < len(s); j++ {
			if s[j] == '{' {
				depth++
			} else if s[j] == '}' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		field := s[i+1 : min(j, len(s))]
		lx := &lexer{b: field}
		var toks []token
		for t := lx.next(); t.kind != tEOF; t = lx.next() {
			if t.kind != tNewline {
				toks = append(toks, t)
			}
		}
		bd := binder{b: field, fn: fn}
		bd.everywhere(toks, bd.depths(toks))
		i = j
	}
}

// forEachBinding is boundNames for one logical line.
func forEachBinding(b []byte, l logLine, fn func(string)) { boundNames(b[:l.end], int(l.start), fn) }

type binder struct {
	b  []byte
	fn func(string)
}

func (bd binder) text(t token) string { return normIdent(string(bd.b[t.start:t.end])) }

func (bd binder) is(t token, s string) bool {
	return (t.kind == tOp || t.kind == tWord) && t.end-t.start == len(s) && string(bd.b[t.start:t.end]) == s
}

func (bd binder) bind(t token) {
	if t.kind == tWord {
		if w := bd.text(t); !pyKeywords[w] {
			bd.fn(w)
		}
	}
}

func isOpen(bd binder, t token) bool  { return bd.is(t, "(") || bd.is(t, "[") || bd.is(t, "{") }
func isClose(bd binder, t token) bool { return bd.is(t, ")") || bd.is(t, "]") || bd.is(t, "}") }

// isAssign: = and the augmented assignments (not ==, <=, >=, !=, :=).
func (bd binder) isAssign(t token) bool {
	if t.kind != tOp || bd.b[t.end-1] != '=' {
		return false
	}
	switch bd.text(t) {
	case "==", "<=", ">=", "!=", ":=":
		return false
	}
	return true
}

// depths gives each token its bracket depth: a bracket counts at the level
// outside it, the tokens between a pair at one more. Every token list the
// binder handles starts at depth 0.
func (bd binder) depths(toks []token) []int {
	d := make([]int, len(toks))
	cur := 0
	for i, t := range toks {
		if isClose(bd, t) && cur > 0 {
			cur--
		}
		d[i] = cur
		if isOpen(bd, t) {
			cur++
		}
	}
	return d
}

// after: the token before i is one of ss.
func (bd binder) after(toks []token, i int, ss ...string) bool {
	if i == 0 {
		return false
	}
	for _, s := range ss {
		if bd.is(toks[i-1], s) {
			return true
		}
	}
	return false
}

// stmt handles one logical line, split at top-level semicolons.
func (bd binder) stmt(toks []token) {
	d := bd.depths(toks)
	from := 0
	for i, t := range toks {
		if d[i] == 0 && bd.is(t, ";") {
			bd.simple(toks[from:i], d[from:i])
			from = i + 1
		}
	}
	bd.simple(toks[from:], d[from:])
}

// simple handles one statement (and an inline suite after a header colon).
func (bd binder) simple(toks []token, d []int) {
	if len(toks) == 0 {
		return
	}
	first := toks[0]
	if first.kind == tWord {
		switch bd.text(first) {
		case "import", "from":
			bd.imports(toks)
			return
		case "global", "nonlocal":
			for _, t := range toks[1:] {
				bd.bind(t)
			}
			return
		}
	}
	bd.everywhere(toks, d)
	kw := ""
	if first.kind == tWord {
		kw = bd.text(first)
	}
	switch kw {
	case "match", "case", "type":
		// soft keywords: a header only when the line ends in a colon
		if !bd.is(toks[len(toks)-1], ":") || len(toks) < 3 {
			if kw == "type" && len(toks) > 2 && toks[1].kind == tWord && (bd.is(toks[2], "=") || bd.is(toks[2], "[")) {
				return // type X = ...: a type alias binds nothing we track
			}
			kw = ""
		} else if kw == "case" {
			for _, t := range toks[1 : len(toks)-1] {
				if bd.is(t, "if") {
					break // the guard reads
				}
				if !bd.is(t, "_") {
					bd.bind(t) // capture patterns (the tree binds every pattern name)
				}
			}
		}
	}
	if !compoundKeywords[kw] {
		bd.assignments(toks, d)
		return
	}
	if kw == "def" || kw == "class" || kw == "async" {
		bd.def(toks, d)
	}
	// the header ends at the first top-level colon that closes no lambda;
	// an inline suite may follow
	lambdas := 0
	for i, t := range toks {
		switch {
		case d[i] != 0:
		case bd.is(t, "lambda"):
			lambdas++
		case bd.is(t, ":") && lambdas > 0:
			lambdas--
		case bd.is(t, ":"):
			bd.simple(toks[i+1:], d[i+1:])
			return
		}
	}
}

// everywhere binds the forms that can appear anywhere in a statement:
// for-targets (comprehensions too), as-names, lambda parameters, walrus.
func (bd binder) everywhere(toks []token, d []int) {
	for i, t := range toks {
		switch {
		case bd.is(t, "for"):
			for j := i + 1; j < len(toks) && d[j] >= d[i] && (d[j] > d[i] || !bd.is(toks[j], "in")); j++ {
				if toks[j].kind == tWord && !bd.after(toks, j, ".") {
					bd.bind(toks[j])
				}
			}
		case bd.is(t, "as") && i+1 < len(toks):
			if !isOpen(bd, toks[i+1]) {
				bd.bind(toks[i+1])
				continue
			}
			for j := i + 2; j < len(toks) && d[j] > d[i+1]; j++ { // as (a, b)
				if toks[j].kind == tWord && !bd.after(toks, j, ".") {
					bd.bind(toks[j])
				}
			}
		case bd.is(t, "lambda"):
			for j := i + 1; j < len(toks) && d[j] >= d[i] && (d[j] > d[i] || !bd.is(toks[j], ":")); j++ {
				if toks[j].kind == tWord && d[j] == d[i] && bd.after(toks, j, "lambda", ",", "*", "**") {
					bd.bind(toks[j])
				}
			}
		case bd.is(t, ":=") && i > 0:
			bd.bind(toks[i-1])
		}
	}
}

// def binds a definition's name and, for a function, its parameters.
func (bd binder) def(toks []token, d []int) {
	i := 0
	if bd.is(toks[0], "async") {
		i = 1
	}
	if i+1 >= len(toks) || !bd.is(toks[i], "def") && !bd.is(toks[i], "class") {
		return
	}
	bd.bind(toks[i+1])
	if !bd.is(toks[i], "def") {
		return
	}
	j := i + 2
	if j < len(toks) && bd.is(toks[j], "[") { // type parameters
		for j++; j < len(toks) && d[j] > d[i]; j++ {
		}
		j++ // the closing bracket
	}
	if j >= len(toks) || !bd.is(toks[j], "(") {
		return
	}
	for k := j + 1; k < len(toks) && d[k] > d[j]; k++ {
		if d[k] == d[j]+1 && toks[k].kind == tWord && bd.after(toks, k, "(", ",", "*", "**") {
			bd.bind(toks[k])
		}
	}
}

// imports binds what an import statement binds: the alias, else the first
// part of a plain import or the name of a from-import.
func (bd binder) imports(toks []token) {
	from := bd.is(toks[0], "from")
	i := 1
	if from {
		if len(toks) > 1 && bd.is(toks[1], "__future__") {
			// compiler directives bind only their aliases
			for i := 2; i+1 < len(toks); i++ {
				if bd.is(toks[i], "as") {
					bd.bind(toks[i+1])
				}
			}
			return
		}
		for i < len(toks) && !bd.is(toks[i], "import") {
			i++
		}
		i++
	}
	for i < len(toks) {
		// one item: dotted name [as alias]
		for i < len(toks) && (bd.is(toks[i], "(") || bd.is(toks[i], ")") || bd.is(toks[i], ",")) {
			i++
		}
		if i >= len(toks) {
			return
		}
		first := toks[i]
		last := first
		for i < len(toks) && !bd.is(toks[i], ",") && !bd.is(toks[i], "as") && !bd.is(toks[i], ")") {
			if toks[i].kind == tWord {
				last = toks[i]
			}
			i++
		}
		switch {
		case i+1 < len(toks) && bd.is(toks[i], "as"):
			bd.bind(toks[i+1])
			i += 2
		case from:
			bd.bind(last)
		default:
			bd.bind(first)
		}
		if i < len(toks) && bd.is(toks[i], "as") {
			i++ // a dangling "as" (broken input) must not stop the walk here
		}
	}
}

// assignments binds the targets of every top-level = in a simple statement
// (chained ones too), and a bare annotated name (x: int).
func (bd binder) assignments(toks []token, d []int) {
	seg := 0
	for i, t := range toks {
		if d[i] == 0 && bd.isAssign(t) {
			bd.targets(toks[seg:i])
			seg = i + 1
		}
	}
	if seg == 0 && len(toks) >= 2 && toks[0].kind == tWord && bd.is(toks[1], ":") {
		bd.bind(toks[0])
	}
}

// targets binds the names of an assignment target list: not attribute names
// (x.y), not subscripts or call arguments (x[i], f(a).b), not the annotation
// after a top-level colon.
func (bd binder) targets(toks []token) {
	type frame struct{ trailer bool }
	var stack []frame
	trailerDepth := 0
	for i, t := range toks {
		switch {
		case isOpen(bd, t):
			tr := i > 0 && (toks[i-1].kind == tWord || toks[i-1].kind == tStr || isClose(bd, toks[i-1]))
			stack = append(stack, frame{tr})
			if tr {
				trailerDepth++
			}
		case isClose(bd, t):
			if len(stack) > 0 {
				if stack[len(stack)-1].trailer {
					trailerDepth--
				}
				stack = stack[:len(stack)-1]
			}
		case len(stack) == 0 && bd.is(t, ":"):
			return // annotation follows
		case t.kind == tWord && trailerDepth == 0 && (i == 0 || !bd.is(toks[i-1], ".")):
			// x.y = / x[i] = / f(x).y = bind no plain name: x is read
			if i+1 < len(toks) && (bd.is(toks[i+1], ".") || bd.is(toks[i+1], "[") || bd.is(toks[i+1], "(")) {
				continue
			}
			bd.bind(t)
		}
	}
}
