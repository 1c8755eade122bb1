package model

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The npy header is a Python literal that numpy reads with
// ast.literal_eval (numpy/lib/format.py, _read_array_header). It is parsed
// here as a literal, not matched as a string, and the dtype is judged the way
// descr_to_dtype builds it, because an object dtype anywhere in it means
// numpy.load(allow_pickle=True) unpickles the data.

// pyVal is a parsed Python literal.
type pyVal struct {
	kind  byte // 's' str, 'b' bytes, 'i' int, 'f' float/complex, 'B' bool, 'N' None, 't' tuple, 'l' list, 'd' dict, 'S' set
	str   string
	items []pyVal // tuple/list/set items; dict: key, value, key, value...
}

type litParser struct {
	s   string
	pos int
}

func parsePyLiteral(s string) (pyVal, error) {
	p := &litParser{s: s}
	v, err := p.value()
	if err != nil {
		return v, err
	}
	p.space()
	if p.pos != len(p.s) {
		return v, fmt.Errorf("trailing text at %d", p.pos)
	}
	return v, nil
}

// space skips whitespace, comments and line continuations.
func (p *litParser) space() {
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			p.pos++
		case c == '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		case c == '\\' && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '\n' || p.s[p.pos+1] == '\r'):
			p.pos += 2
		default:
			return
		}
	}
}

const maxLiteralDepth = 100

func (p *litParser) value() (pyVal, error) { return p.valueDepth(0) }

func (p *litParser) valueDepth(depth int) (pyVal, error) {
	if depth > maxLiteralDepth {
		return pyVal{}, fmt.Errorf("literal nested too deep")
	}
	p.space()
	if p.pos >= len(p.s) {
		return pyVal{}, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.container('}', depth)
	case c == '[':
		return p.container(']', depth)
	case c == '(':
		return p.container(')', depth)
	case c == '\'' || c == '"' || strPrefix.MatchString(p.s[p.pos:]):
		return p.strings()
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	default:
		for _, kw := range []struct {
			w string
			k byte
		}{{"True", 'B'}, {"False", 'B'}, {"None", 'N'}} {
			if strings.HasPrefix(p.s[p.pos:], kw.w) && !identChar(p.s, p.pos+len(kw.w)) {
				p.pos += len(kw.w)
				return pyVal{kind: kw.k, str: kw.w}, nil
			}
		}
	}
	return pyVal{}, fmt.Errorf("not a literal at %d", p.pos)
}

func identChar(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

var strPrefix = regexp.MustCompile(`^(?i:rb|br|r|b|u)['"]`)

// strings reads one or more adjacent string literals (implicit concatenation).
func (p *litParser) strings() (pyVal, error) {
	var sb strings.Builder
	kind := byte(0)
	for {
		p.space()
		if p.pos >= len(p.s) {
			break
		}
		pre := ""
		if m := strPrefix.FindString(p.s[p.pos:]); m != "" {
			pre = strings.ToLower(m[:len(m)-1])
		} else if c := p.s[p.pos]; c != '\'' && c != '"' {
			break
		}
		k := byte('s')
		if strings.Contains(pre, "b") {
			k = 'b'
		}
		if kind != 0 && kind != k {
			return pyVal{}, fmt.Errorf("cannot mix bytes and str literals")
		}
		kind = k
		p.pos += len(pre)
		s, err := p.quoted(strings.Contains(pre, "r"))
		if err != nil {
			return pyVal{}, err
		}
		sb.WriteString(s)
	}
	return pyVal{kind: kind, str: sb.String()}, nil
}

func (p *litParser) quoted(raw bool) (string, error) {
	q := p.s[p.pos : p.pos+1]
	if strings.HasPrefix(p.s[p.pos:], q+q+q) {
		q = q + q + q
	}
	p.pos += len(q)
	var sb strings.Builder
	for p.pos < len(p.s) {
		if strings.HasPrefix(p.s[p.pos:], q) {
			p.pos += len(q)
			return sb.String(), nil
		}
		c := p.s[p.pos]
		if len(q) == 1 && c == '\n' {
			return "", fmt.Errorf("newline in string")
		}
		if c == '\\' && p.pos+1 < len(p.s) {
			if raw {
				sb.WriteString(p.s[p.pos : p.pos+2])
				p.pos += 2
				continue
			}
			p.pos++
			e := p.s[p.pos]
			p.pos++
			switch e {
			case '\n':
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v, n := int(e-'0'), 1
				for n < 3 && p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '7' {
					v = v*8 + int(p.s[p.pos]-'0')
					p.pos++
					n++
				}
				sb.WriteRune(rune(v))
			case 'x':
				if p.pos+2 > len(p.s) {
					return "", fmt.Errorf("bad \\x escape")
				}
				v, ok := pyHexInt([]byte(p.s[p.pos : p.pos+2]))
				if !ok || strings.ContainsAny(p.s[p.pos:p.pos+2], "_ +-") {
					return "", fmt.Errorf("bad \\x escape")
				}
				sb.WriteRune(rune(v))
				p.pos += 2
			case '\\', '\'', '"':
				sb.WriteByte(e)
			case 'a':
				sb.WriteByte(7)
			case 'b':
				sb.WriteByte(8)
			case 'f':
				sb.WriteByte(12)
			case 'v':
				sb.WriteByte(11)
			default:
				// \u, \U, \N and unknown escapes: kept as written; a name
				// built this way is judged unknown, never safe.
				sb.WriteByte('\\')
				sb.WriteByte(e)
			}
			continue
		}
		_, n := utf8.DecodeRuneInString(p.s[p.pos:])
		sb.WriteString(p.s[p.pos : p.pos+n])
		p.pos += n
	}
	return "", fmt.Errorf("unterminated string")
}

var numRe = regexp.MustCompile(`^[-+]*\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?[jJlL]?)`)

func (p *litParser) number() (pyVal, error) {
	m := numRe.FindString(p.s[p.pos:])
	if m == "" || strings.Trim(m, "-+ \t") == "" {
		return pyVal{}, fmt.Errorf("bad number at %d", p.pos)
	}
	p.pos += len(m)
	k := byte('i')
	if strings.ContainsAny(strings.TrimLeft(m, "-+ \t"), ".eEjJ") && !strings.HasPrefix(strings.TrimLeft(m, "-+ \t"), "0x") {
		k = 'f'
	}
	// Complex literals such as 1+2j: one more signed term.
	p.space()
	if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
		save := p.pos
		if m2 := numRe.FindString(p.s[p.pos:]); strings.HasSuffix(m2, "j") || strings.HasSuffix(m2, "J") {
			p.pos += len(m2)
			k = 'f'
		} else {
			p.pos = save
		}
	}
	return pyVal{kind: k, str: m}, nil
}

func (p *litParser) container(closer byte, depth int) (pyVal, error) {
	open := p.s[p.pos]
	p.pos++
	v := pyVal{kind: map[byte]byte{'{': 'd', '[': 'l', '(': 't'}[open]}
	commas := 0
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == closer {
			p.pos++
			break
		}
		item, err := p.valueDepth(depth + 1)
		if err != nil {
			return v, err
		}
		v.items = append(v.items, item)
		p.space()
		if open == '{' && p.pos < len(p.s) && p.s[p.pos] == ':' {
			if len(v.items)%2 != 1 || v.kind != 'd' {
				return v, fmt.Errorf("mixed dict and set")
			}
			p.pos++
			val, err := p.valueDepth(depth + 1)
			if err != nil {
				return v, err
			}
			v.items = append(v.items, val)
			p.space()
		} else if open == '{' {
			if v.kind == 'd' && len(v.items) > 1 {
				return v, fmt.Errorf("mixed dict and set")
			}
			v.kind = 'S'
		}
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			commas++
			continue
		}
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == closer {
			p.pos++
			break
		}
		return v, fmt.Errorf("expected , or %c at %d", closer, p.pos)
	}
	if open == '(' && len(v.items) == 1 && commas == 0 {
		return v.items[0], nil // parentheses, not a tuple
	}
	return v, nil
}

// dtypeVerdict is what an npy dtype means for loading.
type dtypeVerdict int

const (
	dtPlain   dtypeVerdict = iota // numeric/string data numpy reads raw
	dtObject                      // hasobject: numpy.load unpickles the data
	dtUnknown                     // not recognised: the data is tried as a pickle
)

func worse(a, b dtypeVerdict) dtypeVerdict { return max(a, b) }

var (
	objectStr = regexp.MustCompile(`^[<>|=!]?O[48]?$`)
	plainStr  = regexp.MustCompile(`^[<>|=!]?([?bBhHiIlLqQpPeEfdgFDGSaUcV]|[biufc]\d+|[SaUV]\d+|[mM]8?(\[\d*[a-zA-Z]+\])?)$`)
	plainName = map[string]bool{
		"bool": true, "bool_": true, "int8": true, "int16": true, "int32": true, "int64": true,
		"uint8": true, "uint16": true, "uint32": true, "uint64": true, "float16": true, "float32": true,
		"float64": true, "complex64": true, "complex128": true, "bytes": true, "str": true, "int": true,
		"float": true, "complex": true, "void": true, "byte": true, "ubyte": true, "short": true,
		"ushort": true, "intc": true, "uintc": true, "longlong": true, "ulonglong": true, "half": true,
		"single": true, "double": true, "longdouble": true, "bytes_": true, "str_": true,
	}
	objectName = map[string]bool{"object": true, "object_": true, "O": true}
	shapePre   = regexp.MustCompile(`^\s*\(\s*[\d\s,]*\)\s*`)
)

// dtypeOf judges a descr the way descr_to_dtype and numpy.dtype read it.
func dtypeOf(v pyVal, depth int) dtypeVerdict {
	if depth > maxLiteralDepth {
		return dtUnknown
	}
	switch v.kind {
	case 's':
		return dtypeString(v.str)
	case 't':
		// (subtype, shape)
		if len(v.items) == 0 {
			return dtUnknown
		}
		return dtypeOf(v.items[0], depth+1)
	case 'l', 'd', 'S':
		// A list of fields; a dict or set is iterated the same way (its keys).
		items := v.items
		if v.kind == 'd' {
			items = nil
			for i := 0; i < len(v.items); i += 2 {
				items = append(items, v.items[i])
			}
		}
		verdict := dtPlain
		for _, f := range items {
			verdict = worse(verdict, fieldDtype(f, depth+1))
		}
		return verdict
	}
	return dtUnknown
}

// fieldDtype: a field is (name, descr) or (name, descr, shape); any
// sequence of length 2 or 3 unpacks, a two-character string included.
func fieldDtype(f pyVal, depth int) dtypeVerdict {
	switch f.kind {
	case 't', 'l':
		if len(f.items) == 2 || len(f.items) == 3 {
			return dtypeOf(f.items[1], depth+1)
		}
		return dtUnknown
	case 's':
		r := []rune(f.str)
		if len(r) == 2 || len(r) == 3 {
			return dtypeString(string(r[1]))
		}
	}
	return dtUnknown
}

func dtypeString(s string) dtypeVerdict {
	if strings.Contains(s, ",") {
		verdict := dtPlain
		for _, part := range strings.Split(s, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			verdict = worse(verdict, dtypeString(part))
		}
		return verdict
	}
	t := strings.TrimSpace(shapePre.ReplaceAllString(s, ""))
	switch {
	case objectStr.MatchString(t) || objectName[t]:
		return dtObject
	case plainStr.MatchString(t) || plainName[t]:
		return dtPlain
	}
	if strings.ContainsAny(t, "O") || strings.Contains(t, "object") {
		return dtObject
	}
	return dtUnknown
}

// npyHeader judges a header text as _read_array_header does. ok is false
// when numpy would refuse the header (nothing is loaded then).
func npyHeader(text string) (verdict dtypeVerdict, ok bool, err error) {
	v, err := parsePyLiteral(text)
	if err != nil {
		return dtUnknown, false, err
	}
	if v.kind != 'd' {
		return dtPlain, false, nil
	}
	// The last value of a repeated key wins, as in a dict display.
	last := map[string]pyVal{}
	for i := 0; i < len(v.items); i += 2 {
		k := v.items[i]
		if k.kind != 's' {
			return dtPlain, false, nil
		}
		last[k.str] = v.items[i+1]
	}
	descr, hasDescr := last["descr"]
	shape, hasShape := last["shape"]
	fortran, hasFortran := last["fortran_order"]
	if len(last) != 3 || !hasDescr || !hasShape || !hasFortran {
		return dtPlain, false, nil
	}
	if shape.kind != 't' || fortran.kind != 'B' {
		return dtPlain, false, nil
	}
	for _, x := range shape.items {
		if x.kind != 'i' && x.kind != 'B' {
			return dtPlain, false, nil
		}
	}
	return dtypeOf(descr, 0), true, nil
}

// simpleDescr is a one-field dtype string whose item size the string states.
var simpleDescr = regexp.MustCompile(`^[<>|=]?([biufcmMSaUV])(\d+)(\[\w+\])?$`)

// npyDataSize is the byte size of the array data numpy.load reads for a
// header with a simple dtype and a known shape, or -1.
func npyDataSize(text string) int64 {
	v, err := parsePyLiteral(text)
	if err != nil || v.kind != 'd' {
		return -1
	}
	var descr, shape *pyVal
	for i := 0; i+1 < len(v.items); i += 2 {
		switch v.items[i].str {
		case "descr":
			descr = &v.items[i+1]
		case "shape":
			shape = &v.items[i+1]
		}
	}
	if descr == nil || shape == nil || descr.kind != 's' || shape.kind != 't' {
		return -1
	}
	m := simpleDescr.FindStringSubmatch(descr.str)
	if m == nil {
		return -1
	}
	size, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || size > 1<<30 {
		return -1
	}
	if m[1] == "U" {
		size *= 4
	}
	for _, x := range shape.items {
		var n int64
		switch {
		case x.kind == 'B' && x.str == "True":
			n = 1
		case x.kind == 'B':
			n = 0
		default:
			n, err = strconv.ParseInt(strings.TrimSpace(x.str), 0, 64)
			if err != nil || n < 0 {
				return -1
			}
		}
		if n != 0 && size > math.MaxInt64/n {
			return -1
		}
		size *= n
	}
	return size
}
