package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// A small GraphQL reader for what MLflow's schema accepts: operations,
// fields, aliases, arguments, variables with defaults, directives, named and
// inline fragments. It is stricter than graphql-core where a laxer reading
// could differ from the server's (block strings and \u escapes are refused,
// as are type-system definitions), and bounded in size, tokens and nesting
// so that hostile input costs little and never recurses deeply.

// ErrGraphQL marks a GraphQL document the gateway will not authorize.
var ErrGraphQL = errors.New("graphql")

const (
	gqlMaxSource = 64 << 10 // bytes of query text
	gqlMaxTokens = 20000
	gqlMaxNest   = 48 // selection sets, lists and objects nested while parsing
)

type gqlTokKind int

const (
	tEOF gqlTokKind = iota
	tPunct
	tName
	tInt
	tFloat
	tString
)

type gqlTok struct {
	kind gqlTokKind
	val  string // punctuator, name, number text or decoded string
	pos  int
}

// gqlLex splits src into tokens the way graphql-core's lexer does for the
// subset accepted here.
func gqlLex(src string) ([]gqlTok, error) {
	if len(src) > gqlMaxSource {
		return nil, fmt.Errorf("%w: query over %d bytes", ErrGraphQL, gqlMaxSource)
	}
	var toks []gqlTok
	i := 0
	bad := func(msg string) error { return fmt.Errorf("%w: %s at byte %d", ErrGraphQL, msg, i) }
	for {
		if len(toks) > gqlMaxTokens {
			return nil, fmt.Errorf("%w: more than %d tokens", ErrGraphQL, gqlMaxTokens)
		}
		// Ignored tokens: BOM, white space, line terminators, commas, comments.
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' {
				i++
				continue
			}
			if strings.HasPrefix(src[i:], "\ufeff") {
				i += len("\ufeff")
				continue
			}
			if c == '#' {
				for i < len(src) && src[i] != '\n' && src[i] != '\r' {
					i++
				}
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, gqlTok{tEOF, "", i})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case strings.IndexByte("!$&():=@[]{}|", c) >= 0:
			toks = append(toks, gqlTok{tPunct, string(c), start})
			i++
		case c == '.':
			if !strings.HasPrefix(src[i:], "...") {
				return nil, bad("unexpected '.'")
			}
			toks = append(toks, gqlTok{tPunct, "...", start})
			i += 3
		case isNameStart(c):
			for i < len(src) && isNameCont(src[i]) {
				i++
			}
			toks = append(toks, gqlTok{tName, src[start:i], start})
		case c == '-' || (c >= '0' && c <= '9'):
			kind, err := gqlNumber(src, &i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, gqlTok{kind, src[start:i], start})
		case c == '"':
			if strings.HasPrefix(src[i:], `"""`) {
				return nil, bad("block strings are not accepted")
			}
			s, err := gqlString(src, &i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, gqlTok{tString, s, start})
		default:
			return nil, bad(fmt.Sprintf("unexpected character %q", c))
		}
	}
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameCont(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// gqlNumber reads IntValue or FloatValue; a number followed by '.' or a
// name character is an error, as in graphql-core.
func gqlNumber(src string, i *int) (gqlTokKind, error) {
	p := *i
	bad := func() (gqlTokKind, error) {
		return tEOF, fmt.Errorf("%w: malformed number at byte %d", ErrGraphQL, *i)
	}
	if src[p] == '-' {
		p++
	}
	if p >= len(src) || !isDigit(src[p]) {
		return bad()
	}
	if src[p] == '0' {
		p++
		if p < len(src) && isDigit(src[p]) {
			return bad()
		}
	} else {
		for p < len(src) && isDigit(src[p]) {
			p++
		}
	}
	kind := tInt
	if p < len(src) && src[p] == '.' {
		kind = tFloat
		p++
		if p >= len(src) || !isDigit(src[p]) {
			return bad()
		}
		for p < len(src) && isDigit(src[p]) {
			p++
		}
	}
	if p < len(src) && (src[p] == 'e' || src[p] == 'E') {
		kind = tFloat
		p++
		if p < len(src) && (src[p] == '+' || src[p] == '-') {
			p++
		}
		if p >= len(src) || !isDigit(src[p]) {
			return bad()
		}
		for p < len(src) && isDigit(src[p]) {
			p++
		}
	}
	if p < len(src) && (src[p] == '.' || isNameStart(src[p])) {
		return bad()
	}
	*i = p
	return kind, nil
}

// gqlString reads a quoted string with the simple escapes. \u escapes are
// refused: graphql-core's handling of surrogates and braced code points is
// where two readers would most easily disagree about an id.
func gqlString(src string, i *int) (string, error) {
	p := *i + 1
	var b strings.Builder
	for p < len(src) {
		c := src[p]
		switch {
		case c == '"':
			*i = p + 1
			return b.String(), nil
		case c == '\n' || c == '\r':
			return "", fmt.Errorf("%w: unterminated string at byte %d", ErrGraphQL, p)
		case c < 0x20 && c != '\t':
			return "", fmt.Errorf("%w: control character in string at byte %d", ErrGraphQL, p)
		case c == '\\':
			if p+1 >= len(src) {
				return "", fmt.Errorf("%w: unterminated string at byte %d", ErrGraphQL, p)
			}
			r, ok := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[src[p+1]]
			if !ok {
				return "", fmt.Errorf("%w: escape \\%c in string at byte %d is not accepted", ErrGraphQL, src[p+1], p)
			}
			b.WriteByte(r)
			p += 2
		default:
			b.WriteByte(c)
			p++
		}
	}
	return "", fmt.Errorf("%w: unterminated string at byte %d", ErrGraphQL, *i)
}

// AST.

type gqlValueKind int

const (
	vVar gqlValueKind = iota
	vInt
	vFloat
	vString
	vBool
	vNull
	vEnum
	vList
	vObject
)

type gqlValue struct {
	kind   gqlValueKind
	text   string // variable name, scalar text or decoded string
	list   []*gqlValue
	fields []gqlObjField
}

type gqlObjField struct {
	name  string
	value *gqlValue
}

type gqlArg struct {
	name  string
	value *gqlValue
}

type gqlSelKind int

const (
	selField gqlSelKind = iota
	selSpread
	selInline
)

type gqlSel struct {
	kind     gqlSelKind
	alias    string // response key when set
	name     string // field name or fragment name
	args     []gqlArg
	typeCond string // inline fragment's type condition ("" for none)
	sel      []gqlSel
	hasSel   bool
}

func (s *gqlSel) key() string {
	if s.alias != "" {
		return s.alias
	}
	return s.name
}

type gqlType struct {
	name    string
	list    *gqlType
	nonNull bool
}

type gqlVarDef struct {
	name string
	typ  *gqlType
	def  *gqlValue
}

type gqlOp struct {
	kind string // query, mutation or subscription
	name string
	vars []gqlVarDef
	sel  []gqlSel
}

type gqlFrag struct {
	name     string
	typeCond string
	sel      []gqlSel
}

type gqlDoc struct {
	ops   []*gqlOp
	frags map[string]*gqlFrag
}

type gqlParser struct {
	toks []gqlTok
	p    int
	nest int
}

// parseGraphQL reads an executable document.
func parseGraphQL(src string) (*gqlDoc, error) {
	toks, err := gqlLex(src)
	if err != nil {
		return nil, err
	}
	ps := &gqlParser{toks: toks}
	doc := &gqlDoc{frags: map[string]*gqlFrag{}}
	for ps.peek().kind != tEOF {
		t := ps.peek()
		switch {
		case t.kind == tPunct && t.val == "{":
			sel, err := ps.selectionSet()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, &gqlOp{kind: "query", sel: sel})
		case t.kind == tName && (t.val == "query" || t.val == "mutation" || t.val == "subscription"):
			op, err := ps.operation()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, op)
		case t.kind == tName && t.val == "fragment":
			f, err := ps.fragment()
			if err != nil {
				return nil, err
			}
			if _, dup := doc.frags[f.name]; dup {
				return nil, fmt.Errorf("%w: fragment %q defined twice", ErrGraphQL, f.name)
			}
			doc.frags[f.name] = f
		default:
			return nil, ps.errf("expected an operation or fragment definition")
		}
	}
	if len(doc.ops) == 0 {
		return nil, fmt.Errorf("%w: no operation", ErrGraphQL)
	}
	return doc, nil
}

func (ps *gqlParser) peek() gqlTok { return ps.toks[ps.p] }

func (ps *gqlParser) next() gqlTok {
	t := ps.toks[ps.p]
	if t.kind != tEOF {
		ps.p++
	}
	return t
}

func (ps *gqlParser) errf(format string, a ...any) error {
	t := ps.peek()
	what := t.val
	if t.kind == tEOF {
		what = "end of query"
	}
	return fmt.Errorf("%w: %s at byte %d (found %q)", ErrGraphQL, fmt.Sprintf(format, a...), t.pos, what)
}

func (ps *gqlParser) isPunct(v string) bool {
	t := ps.peek()
	return t.kind == tPunct && t.val == v
}

func (ps *gqlParser) expectPunct(v string) error {
	if !ps.isPunct(v) {
		return ps.errf("expected %q", v)
	}
	ps.next()
	return nil
}

func (ps *gqlParser) name() (string, error) {
	if ps.peek().kind != tName {
		return "", ps.errf("expected a name")
	}
	return ps.next().val, nil
}

func (ps *gqlParser) enter() error {
	ps.nest++
	if ps.nest > gqlMaxNest {
		return fmt.Errorf("%w: nested deeper than %d", ErrGraphQL, gqlMaxNest)
	}
	return nil
}

func (ps *gqlParser) leave() { ps.nest-- }

func (ps *gqlParser) operation() (*gqlOp, error) {
	op := &gqlOp{kind: ps.next().val}
	if ps.peek().kind == tName {
		op.name = ps.next().val
	}
	if ps.isPunct("(") {
		ps.next()
		for {
			if err := ps.expectPunct("$"); err != nil {
				return nil, err
			}
			n, err := ps.name()
			if err != nil {
				return nil, err
			}
			if err := ps.expectPunct(":"); err != nil {
				return nil, err
			}
			typ, err := ps.typeRef()
			if err != nil {
				return nil, err
			}
			vd := gqlVarDef{name: n, typ: typ}
			if ps.isPunct("=") {
				ps.next()
				if vd.def, err = ps.value(true); err != nil {
					return nil, err
				}
			}
			if err := ps.directives(true); err != nil {
				return nil, err
			}
			op.vars = append(op.vars, vd)
			if ps.isPunct(")") {
				ps.next()
				break
			}
		}
	}
	if err := ps.directives(false); err != nil {
		return nil, err
	}
	sel, err := ps.selectionSet()
	if err != nil {
		return nil, err
	}
	op.sel = sel
	return op, nil
}

func (ps *gqlParser) fragment() (*gqlFrag, error) {
	ps.next() // "fragment"
	n, err := ps.name()
	if err != nil {
		return nil, err
	}
	if n == "on" {
		return nil, ps.errf("a fragment cannot be named \"on\"")
	}
	if t := ps.peek(); t.kind != tName || t.val != "on" {
		return nil, ps.errf("expected \"on\"")
	}
	ps.next()
	tc, err := ps.name()
	if err != nil {
		return nil, err
	}
	if err := ps.directives(false); err != nil {
		return nil, err
	}
	sel, err := ps.selectionSet()
	if err != nil {
		return nil, err
	}
	return &gqlFrag{name: n, typeCond: tc, sel: sel}, nil
}

func (ps *gqlParser) typeRef() (*gqlType, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.leave()
	var t *gqlType
	if ps.isPunct("[") {
		ps.next()
		inner, err := ps.typeRef()
		if err != nil {
			return nil, err
		}
		if err := ps.expectPunct("]"); err != nil {
			return nil, err
		}
		t = &gqlType{list: inner}
	} else {
		n, err := ps.name()
		if err != nil {
			return nil, err
		}
		t = &gqlType{name: n}
	}
	if ps.isPunct("!") {
		ps.next()
		t.nonNull = true
	}
	return t, nil
}

// directives reads and drops @name(args) lists: MLflow's schema declares
// only @component, which changes nothing; skip/include are not declared
// there, and a skipped field is checked anyway.
func (ps *gqlParser) directives(isConst bool) error {
	for ps.isPunct("@") {
		ps.next()
		if _, err := ps.name(); err != nil {
			return err
		}
		if ps.isPunct("(") {
			if _, err := ps.arguments(isConst); err != nil {
				return err
			}
		}
	}
	return nil
}

func (ps *gqlParser) arguments(isConst bool) ([]gqlArg, error) {
	ps.next() // "("
	var out []gqlArg
	for {
		n, err := ps.name()
		if err != nil {
			return nil, err
		}
		if err := ps.expectPunct(":"); err != nil {
			return nil, err
		}
		v, err := ps.value(isConst)
		if err != nil {
			return nil, err
		}
		out = append(out, gqlArg{n, v})
		if ps.isPunct(")") {
			ps.next()
			return out, nil
		}
	}
}

func (ps *gqlParser) selectionSet() ([]gqlSel, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.leave()
	if err := ps.expectPunct("{"); err != nil {
		return nil, err
	}
	var out []gqlSel
	for {
		s, err := ps.selection()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if ps.isPunct("}") {
			ps.next()
			return out, nil
		}
	}
}

func (ps *gqlParser) selection() (gqlSel, error) {
	if ps.isPunct("...") {
		ps.next()
		t := ps.peek()
		if t.kind == tName && t.val != "on" {
			ps.next()
			if err := ps.directives(false); err != nil {
				return gqlSel{}, err
			}
			return gqlSel{kind: selSpread, name: t.val}, nil
		}
		s := gqlSel{kind: selInline}
		if t.kind == tName { // "on"
			ps.next()
			tc, err := ps.name()
			if err != nil {
				return gqlSel{}, err
			}
			s.typeCond = tc
		}
		if err := ps.directives(false); err != nil {
			return gqlSel{}, err
		}
		sel, err := ps.selectionSet()
		if err != nil {
			return gqlSel{}, err
		}
		s.sel, s.hasSel = sel, true
		return s, nil
	}
	n, err := ps.name()
	if err != nil {
		return gqlSel{}, err
	}
	s := gqlSel{kind: selField, name: n}
	if ps.isPunct(":") {
		ps.next()
		if s.name, err = ps.name(); err != nil {
			return gqlSel{}, err
		}
		s.alias = n
	}
	if ps.isPunct("(") {
		if s.args, err = ps.arguments(false); err != nil {
			return gqlSel{}, err
		}
	}
	if err := ps.directives(false); err != nil {
		return gqlSel{}, err
	}
	if ps.isPunct("{") {
		if s.sel, err = ps.selectionSet(); err != nil {
			return gqlSel{}, err
		}
		s.hasSel = true
	}
	return s, nil
}

func (ps *gqlParser) value(isConst bool) (*gqlValue, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.leave()
	t := ps.peek()
	switch t.kind {
	case tPunct:
		switch t.val {
		case "$":
			if isConst {
				return nil, ps.errf("a variable is not allowed here")
			}
			ps.next()
			n, err := ps.name()
			if err != nil {
				return nil, err
			}
			return &gqlValue{kind: vVar, text: n}, nil
		case "[":
			ps.next()
			v := &gqlValue{kind: vList}
			for !ps.isPunct("]") {
				e, err := ps.value(isConst)
				if err != nil {
					return nil, err
				}
				v.list = append(v.list, e)
			}
			ps.next()
			return v, nil
		case "{":
			ps.next()
			v := &gqlValue{kind: vObject}
			seen := map[string]bool{}
			for !ps.isPunct("}") {
				n, err := ps.name()
				if err != nil {
					return nil, err
				}
				if seen[n] {
					return nil, ps.errf("input field %q given twice", n)
				}
				seen[n] = true
				if err := ps.expectPunct(":"); err != nil {
					return nil, err
				}
				e, err := ps.value(isConst)
				if err != nil {
					return nil, err
				}
				v.fields = append(v.fields, gqlObjField{n, e})
			}
			ps.next()
			return v, nil
		}
	case tInt:
		ps.next()
		return &gqlValue{kind: vInt, text: t.val}, nil
	case tFloat:
		ps.next()
		return &gqlValue{kind: vFloat, text: t.val}, nil
	case tString:
		ps.next()
		return &gqlValue{kind: vString, text: t.val}, nil
	case tName:
		ps.next()
		switch t.val {
		case "true", "false":
			return &gqlValue{kind: vBool, text: t.val}, nil
		case "null":
			return &gqlValue{kind: vNull}, nil
		}
		return &gqlValue{kind: vEnum, text: t.val}, nil
	}
	return nil, ps.errf("expected a value")
}
