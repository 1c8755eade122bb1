package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON builds the same tree encoding/json's Decoder (with UseNumber)
// builds into an `any` (map[string]any, []any, string, json.Number, bool,
// nil; the last of duplicate keys wins) and refuses the same inputs,
// including data after the value. It exists for speed: a 1,000-entry
// log-batch spent most of the policies' time in reflection-driven decoding.
// Callers have already refused invalid UTF-8 and surrogate escapes
// (decodeJSON); nesting deeper than maxDepth is refused here (errTooDeep).
// FuzzParseJSON holds it to encoding/json.
//
// The body is copied into one string and escape-free strings are slices of
// it, so most values cost no allocation of their own; object keys are
// interned per body (a log-batch repeats "key" and "value" thousands of
// times).
func parseJSON(b []byte) (any, error) {
	p := jsonParser{s: string(b), keys: make(map[string]string, 8)}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, errTrailing
	}
	return v, nil
}

type jsonParser struct {
	s     string
	i     int
	depth int // open objects and arrays; over maxDepth is refused
	keys  map[string]string
	// strict is ParseStrict (strict.go): duplicate keys refused, and the
	// gateway's depth rule instead of maxDepth.
	strict bool
	deep   int       // deepest nesting seen
	seen   []seenKey // strict: the keys of the open objects, innermost last
}

var (
	errJSONEnd  = errors.New("unexpected end of JSON input")
	errTrailing = errors.New("data after the JSON value")
	errTooDeep  = errors.New("JSON nested too deep")
)

func (p *jsonParser) errAt(ctx string) error {
	if p.i >= len(p.s) {
		return errJSONEnd
	}
	return fmt.Errorf("invalid character %q %s at offset %d", p.s[p.i], ctx, p.i)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, errJSONEnd
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	}
	return nil, p.errAt("looking for beginning of value")
}

func (p *jsonParser) lit(w string) error {
	for j := 0; j < len(w); j++ {
		if p.i >= len(p.s) {
			return errJSONEnd
		}
		if p.s[p.i] != w[j] {
			return p.errAt("in literal " + w)
		}
		p.i++
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	p.i++ // '{'
	if err := p.open(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, nil
	}
	ks := objectKeys{base: len(p.seen)}
	if p.strict {
		defer ks.close(p)
	}
	for {
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		if p.s[p.i] != '"' {
			return nil, p.errAt("looking for beginning of object key string")
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if p.strict {
			if err := ks.add(p, k); err != nil {
				return nil, err
			}
			if err := p.strictDepth(); err != nil {
				return nil, err
			}
		}
		p.ws()
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		if p.s[p.i] != ':' {
			return nil, p.errAt("after object key")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if more, err := p.next('}', "after object key:value pair"); !more {
			if err != nil {
				return nil, err
			}
			return m, nil
		}
	}
}

func (p *jsonParser) array() (any, error) {
	p.i++ // '['
	if err := p.open(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	a := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return a, nil
	}
	if err := p.strictDepth(); err != nil {
		return nil, err
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if more, err := p.next(']', "after array element"); !more {
			if err != nil {
				return nil, err
			}
			return a, nil
		}
	}
}

// next reads what follows a member or element: a ',' (more follow) or the
// container's closing byte; anything else is an error worded as
// encoding/json words it (ctx).
func (p *jsonParser) next(closing byte, ctx string) (more bool, err error) {
	p.ws()
	if p.i >= len(p.s) {
		return false, errJSONEnd
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		p.ws()
		return true, nil
	case closing:
		p.i++
		return false, nil
	}
	return false, p.errAt(ctx)
}

// key reads an object key, interned for the rest of the body.
func (p *jsonParser) key() (string, error) {
	k, err := p.str()
	if err != nil {
		return "", err
	}
	if ik, ok := p.keys[k]; ok {
		return ik, nil
	}
	if len(p.keys) < 256 {
		p.keys[k] = k
	}
	return k, nil
}

// str reads a string at p.i ('"'): a slice of the body when it has no
// escape, a new string otherwise.
func (p *jsonParser) str() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", p.errAt("in string literal")
		}
		p.i++
	}
	return "", errJSONEnd
}

func (p *jsonParser) escaped(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.errAt("in string literal")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++ // '\\'
		if p.i >= len(p.s) {
			return "", errJSONEnd
		}
		switch e := p.s[p.i]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4(p.i + 1)
			if err != nil {
				return "", err
			}
			p.i += 4
			// As encoding/json: a valid surrogate pair joins, anything
			// else surrogate-like becomes U+FFFD (decodeJSON refuses
			// surrogate escapes before this runs).
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.i+6 < len(p.s) && p.s[p.i+1] == '\\' && p.s[p.i+2] == 'u' {
					if v, ok := hexRune(p.s[p.i+3 : p.i+7]); ok {
						r2 = v
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					p.i += 6
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errAt("in string escape code")
		}
		p.i++
	}
	return "", errJSONEnd
}

func (p *jsonParser) hex4(at int) (rune, error) {
	if at+4 > len(p.s) {
		// the scanner reports the first bad byte, or the end
		for j := at; j < len(p.s); j++ {
			if !isHex(p.s[j]) {
				p.i = j
				return 0, p.errAt("in \\u hexadecimal character escape")
			}
		}
		return 0, errJSONEnd
	}
	for j := at; j < at+4; j++ {
		if !isHex(p.s[j]) {
			p.i = j
			return 0, p.errAt("in \\u hexadecimal character escape")
		}
	}
	v, _ := hexRune(p.s[at : at+4])
	return v, nil
}

func hexRune(h string) (rune, bool) {
	for j := 0; j < len(h); j++ {
		if !isHex(h[j]) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(h, 16, 32)
	return rune(v), err == nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads JSON's number grammar; with UseNumber the literal itself
// is the value.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, errJSONEnd
	}
	switch c := p.s[p.i]; {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return nil, p.errAt("in numeric literal")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		if !isDigit(p.s[p.i]) {
			return nil, p.errAt("after decimal point in numeric literal")
		}
		p.digits()
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.i >= len(p.s) {
			return nil, errJSONEnd
		}
		if !isDigit(p.s[p.i]) {
			return nil, p.errAt("in exponent of numeric literal")
		}
		p.digits()
	}
	return json.Number(p.s[start:p.i]), nil
}

func (p *jsonParser) digits() {
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
