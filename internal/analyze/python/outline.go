package python

import (
	"bytes"
)

// The slicer. Parsing is most of the analyzer's cost, and in a large module
// most functions cannot hold a sink. Before parsing, the file is split at
// its top-level definitions (and at the methods of top-level classes) with
// the lexer; a definition whose words cannot make any check fire (see
// sinkwords.go) is replaced by a one-line stub that binds the same name
// ("def f(): pass"), its other lines left empty, so that line and column
// numbers of everything kept stay those of the file. Module-level statements
// are always kept. What a dropped definition could still change elsewhere
// is carried over: the names it binds (the analysis treats a name bound
// nowhere as input from outside), and for a method, the self.<attr> it
// shares with a kept method.

// logLine is one non-empty logical line. It is kept small (offsets are
// int32: files are at most MaxSize) because a file has one per line.
type logLine struct {
	start      int32 // offset of its first physical line
	end        int32 // offset after its newline
	indentEnd  int32 // its leading whitespace is b[start:indentEnd]
	firstStart int32 // offset of its first token
	// firstWord: "@" for a decorator, or the first word when it is one the
	// slicer looks for (def, class, async); "" otherwise
	firstWord string
}

// indent is the line's leading whitespace.
func (l logLine) indent(b []byte) []byte { return b[l.start:l.indentEnd] }

// defBlock is a definition the slicer may drop.
type defBlock struct {
	start, end int // whole physical lines, decorators included
	indent     []byte
	class      bool
	name       string
	keep       bool
	methods    []defBlock // direct methods and nested classes of a top-level class
}

// outline is the slicer's view of one file.
type outline struct {
	b       []byte
	module  []logLine // module-level logical lines (kept)
	blocks  []defBlock
	aliases *aliasSet
}

// sliced is what the analyzer parses instead of the file.
type sliced struct {
	src   []byte          // same lines as the file; dropped definitions stubbed
	bound map[string]bool // names the dropped definitions bind
	whole bool            // nothing dropped: src is the file
	skip  bool            // nothing in the file can fire: do not parse
}

// maxLogLines bounds the outline (32 bytes a line). A file with more
// logical lines has more module-level nodes than the parser's cap allows, or
// lines of a few bytes each; either way slicing it would not pay.
const maxLogLines = 400_000

// logicalLines lexes the file into non-empty logical lines; ok is false when
// the lexer lost track (the file is then parsed whole).
func logicalLines(b []byte) ([]logLine, bool) {
	lx := &lexer{b: b}
	var out []logLine
	lineStart := 0 // offset of the current physical line
	var cur logLine
	open := false
	for {
		t := lx.next()
		switch t.kind {
		case tEOF:
			if open {
				cur.end = int32(len(b))
				out = append(out, cur)
			}
			return out, !lx.bad
		case tNewline:
			if open {
				cur.end = int32(t.end)
				out = append(out, cur)
				open = false
				if len(out) >= maxLogLines {
					// a file this dense in statements is parsed whole, where
					// the parser's caps bound it; the outline would not be
					return nil, false
				}
			}
			lineStart = t.end
			continue
		}
		if !open {
			// the first token of a logical line: find its physical line start
			ls := t.start
			for ls > lineStart && b[ls-1] != '\n' && b[ls-1] != '\r' {
				ls--
			}
			lineStart = ls
			cur = logLine{start: int32(ls), indentEnd: int32(t.start), firstStart: int32(t.start)}
			open = true
			switch {
			case t.kind == tWord:
				cur.firstWord = defWord(b[t.start:t.end])
			case t.kind == tOp && b[t.start] == '@':
				cur.firstWord = "@"
			}
		}
	}
}

// defWord is w when it is a word startsDef looks for (a constant: no
// allocation per line), else "".
func defWord(w []byte) string {
	for _, k := range [...]string{"def", "class", "async"} {
		if string(w) == k {
			return k
		}
	}
	return ""
}

// defName returns the name a def/class logical line binds and whether it is
// a class: "def", "async def", "class" followed by a word.
func defName(b []byte, l logLine) (string, bool, bool) {
	lx := &lexer{b: b[:l.end], i: int(l.firstStart)}
	t := lx.next()
	w := string(b[t.start:t.end])
	if w == "async" {
		t = lx.next()
		w = string(b[t.start:t.end])
	}
	if t.kind != tWord || w != "def" && w != "class" {
		return "", false, false
	}
	n := lx.next()
	if n.kind != tWord {
		return "", false, false
	}
	return string(b[n.start:n.end]), w == "class", true
}

// startsDef: the logical line opens a definition (or decorates one).
func startsDef(l logLine) bool {
	switch l.firstWord {
	case "@", "def", "class", "async":
		return true
	}
	return false
}

// groupDefs splits lines (all at one indentation, with their deeper body
// lines) into definitions and plain statements. end is where the last group
// ends. ok is false when a decorator is not followed by a definition.
func groupDefs(b []byte, lines []logLine, indent []byte, end int) (defs []defBlock, stmts []logLine, ok bool) {
	for i := 0; i < len(lines); {
		l := lines[i]
		if !bytes.Equal(l.indent(b), indent) {
			if len(l.indent(b)) <= len(indent) || !bytes.HasPrefix(l.indent(b), indent) {
				return nil, nil, false // inconsistent indentation
			}
			stmts = append(stmts, l) // body line of a plain compound statement
			i++
			continue
		}
		if !startsDef(l) {
			stmts = append(stmts, l)
			i++
			continue
		}
		// decorators, then the def/class line
		j := i
		for j < len(lines) && lines[j].firstWord == "@" && bytes.Equal(lines[j].indent(b), indent) {
			j++
		}
		if j == len(lines) || !bytes.Equal(lines[j].indent(b), indent) {
			return nil, nil, false
		}
		name, class, isDef := defName(b, lines[j])
		if !isDef {
			if lines[j].firstWord == "async" && j == i {
				stmts = append(stmts, l) // async for/with at this level
				i++
				continue
			}
			return nil, nil, false
		}
		k := j + 1
		for k < len(lines) && !bytes.Equal(lines[k].indent(b), indent) {
			if !bytes.HasPrefix(lines[k].indent(b), indent) {
				return nil, nil, false
			}
			k++
		}
		blockEnd := end
		if k < len(lines) {
			blockEnd = int(lines[k].start)
		}
		d := defBlock{start: int(l.start), end: blockEnd, indent: indent, class: class, name: name}
		if class && k > j+1 {
			d.methods, _, _ = groupDefs(b, lines[j+1:k], lines[j+1].indent(b), blockEnd)
		}
		defs = append(defs, d)
		i = k
	}
	return defs, stmts, true
}

// outlineOf builds the outline; nil when the file cannot be split safely.
func outlineOf(b []byte) *outline {
	lines, ok := logicalLines(b)
	if !ok {
		return nil
	}
	defs, stmts, ok := groupDefs(b, lines, nil, len(b))
	if !ok {
		return nil
	}
	o := &outline{b: b, module: stmts, blocks: defs, aliases: newAliasSet()}
	o.collectAliases()
	return o
}

// collectAliases: a module-level name bound by a statement whose words fall
// in some class carries those classes (load = pickle.load; from mlflow import
// MlflowClient as C; DEST = client.download_artifacts(...)). Two passes, so
// that a name assigned from a later one is covered as well.
func (o *outline) collectAliases() {
	for range 2 {
		for _, l := range o.module {
			seg := o.b[l.start:l.end]
			m := maskOf(seg, o.aliases)
			if m == 0 {
				continue
			}
			forEachBinding(o.b, l, func(name string) { o.aliases.add(name, m) })
		}
	}
}

// decide marks the definitions to keep and returns the file's overall mask.
func (o *outline) decide() wordMask {
	var all wordMask
	for _, l := range o.module {
		all |= maskOf(o.b[l.start:l.end], o.aliases)
	}
	for i := range o.blocks {
		d := &o.blocks[i]
		dm := maskOf(o.b[d.start:d.end], o.aliases)
		all |= dm
		if !dm.relevant() {
			continue
		}
		d.keep = true
		if len(d.methods) == 0 {
			continue
		}
		// keep the methods that matter, and those sharing self.<attr> with them
		attrs := map[string]bool{}
		for j := range d.methods {
			m := &d.methods[j]
			if maskOf(o.b[m.start:m.end], o.aliases).relevant() {
				m.keep = true
				selfAttrs(o.b[m.start:m.end], func(a string) { attrs[a] = true })
			}
		}
		for j := range d.methods {
			m := &d.methods[j]
			if !m.keep {
				selfAttrs(o.b[m.start:m.end], func(a string) {
					if attrs[a] {
						m.keep = true
					}
				})
			}
		}
	}
	o.keepModels()
	o.keepCallers()
	return all
}

// modelWords in a class header mark a request model (pydantic, marshmallow,
// WTForms) or an Enum: its field
// declarations and validators say which inputs are validated (validated.go),
// so it is kept whole whatever words it holds.
var modelWords = [][]byte{[]byte("BaseModel"), []byte("SQLModel"), []byte("BaseSettings"), []byte("Enum"), []byte("Schema"), []byte("Form")}

// keepModels keeps the top-level model and Enum classes, and the classes
// derived from a kept one.
func (o *outline) keepModels() {
	kept := map[string]bool{}
	// a few rounds follow any real hierarchy; the bound keeps a file of
	// thousands of classes linear
	for round, changed := 0, true; changed && round < 4; round++ {
		changed = false
		for i := range o.blocks {
			d := &o.blocks[i]
			if !d.class || kept[d.name] {
				continue
			}
			head := o.b[d.start:d.end]
			if j := bytes.Index(head, []byte("class ")); j >= 0 {
				head = head[j:]
			}
			if j := bytes.IndexByte(head, ':'); j >= 0 {
				head = head[:j]
			}
			hit := false
			for _, w := range modelWords {
				hit = hit || bytes.Contains(head, w)
			}
			for name := range kept {
				hit = hit || bytes.Contains(head, []byte(name))
			}
			if !hit {
				continue
			}
			kept[d.name], changed = true, true
			d.keep = true
			for j := range d.methods {
				d.methods[j].keep = true
			}
		}
	}
}

// keepCallers keeps the definitions that call a kept top-level function:
// what they pass in decides whether its parameters are untrusted
// (callers.go). Repeated until nothing changes; each round scans every
// dropped definition once.
func (o *outline) keepCallers() {
	kept := map[string]bool{}
	for _, d := range o.blocks {
		if d.keep && !d.class && d.name != "" {
			kept[d.name] = true
		}
	}
	tables := map[string]bool{} // module-level names bound to something naming a kept function
	for changed := len(kept) > 0; changed; {
		changed = false
		for _, l := range o.module {
			line := o.b[l.firstStart:l.end]
			if name, ok := assignedName(line); ok && !tables[name] && mentionsAny(line, kept) {
				tables[name], changed = true, true
			}
		}
		calls := func(b []byte) bool {
			return callsAny(b, kept) || mentionsAny(b, tables)
		}
		for i := range o.blocks {
			d := &o.blocks[i]
			if d.class {
				for j := range d.methods {
					m := &d.methods[j]
					if !m.keep && calls(o.b[m.start:m.end]) {
						m.keep, d.keep = true, true
					}
				}
				continue
			}
			if !d.keep && calls(o.b[d.start:d.end]) {
				d.keep, changed = true, true
				kept[d.name] = true
			}
		}
	}
}

// assignedName is NAME in a logical line "NAME = ...".
func assignedName(b []byte) (string, bool) {
	k := 0
	for k < len(b) && isIdentByte(b[k]) {
		k++
	}
	j := k
	for j < len(b) && b[j] == ' ' {
		j++
	}
	if k == 0 || j+1 >= len(b) || b[j] != '=' || b[j+1] == '=' {
		return "", false
	}
	return string(b[:k]), true
}

// mentionsAny: some whole word of b is one of names.
func mentionsAny(b []byte, names map[string]bool) bool {
	if len(names) == 0 {
		return false
	}
	for i := 0; i < len(b); {
		if !isIdentByte(b[i]) || i > 0 && (isIdentByte(b[i-1]) || b[i-1] == '.') {
			i++
			continue
		}
		k := i
		for k < len(b) && isIdentByte(b[k]) {
			k++
		}
		if names[string(b[i:k])] {
			return true
		}
		i = k
	}
	return false
}

// callsAny: b calls one of names directly, as a plain name followed by "("
// (obj.name( is a method call, not one of the module's functions).
func callsAny(b []byte, names map[string]bool) bool {
	for i := 0; i < len(b); {
		if !isIdentByte(b[i]) || i > 0 && (isIdentByte(b[i-1]) || b[i-1] == '.') {
			i++
			continue
		}
		k := i
		for k < len(b) && isIdentByte(b[k]) {
			k++
		}
		j := k
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '(' && names[string(b[i:k])] {
			return true
		}
		i = k
	}
	return false
}

// selfAttrs calls fn for each self.<name> in b.
func selfAttrs(b []byte, fn func(string)) {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("self."))
		if j < 0 {
			return
		}
		i += j
		if i > 0 && isIdentByte(b[i-1]) {
			i += 5
			continue
		}
		k := i + 5
		for k < len(b) && isIdentByte(b[k]) {
			k++
		}
		if k > i+5 {
			fn(string(b[i+5 : k]))
		}
		i = k
	}
}

// slice produces the source to parse.
func slice(b []byte) sliced {
	if loneCR(b) {
		// old Mac line ends: tree-sitter and the line index would count
		// lines differently once lines are emptied
		return sliced{src: b, whole: true}
	}
	o := outlineOf(b)
	if o == nil {
		return sliced{src: b, whole: true}
	}
	all := o.decide()
	if !all.relevant() {
		return sliced{skip: true}
	}
	var drops []defBlock
	for _, d := range o.blocks {
		if !d.keep {
			drops = append(drops, d)
			continue
		}
		for _, m := range d.methods {
			if !m.keep {
				drops = append(drops, m)
			}
		}
	}
	if len(drops) == 0 {
		return sliced{src: b, whole: true}
	}
	out := make([]byte, 0, len(b))
	bound := map[string]bool{}
	pos := 0
	for _, d := range drops {
		out = append(out, b[pos:d.start]...)
		out = append(out, d.indent...)
		if d.class {
			out = append(out, "class "...)
			out = append(out, d.name...)
			out = append(out, ": pass"...)
		} else {
			out = append(out, "def "...)
			out = append(out, d.name...)
			out = append(out, "(): pass"...)
		}
		// keep every line break, so the lines after it keep their numbers
		for _, c := range b[d.start:d.end] {
			if c == '\n' {
				out = append(out, '\n')
			}
		}
		boundNames(b[:d.end], d.start, func(n string) { bound[n] = true })
		pos = d.end
	}
	out = append(out, b[pos:]...)
	return sliced{src: out, bound: bound}
}

// loneCR reports a carriage return not followed by a line feed.
func loneCR(b []byte) bool {
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 >= len(b) || b[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
