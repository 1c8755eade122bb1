package policy

import (
	"bytes"
	"fmt"
	"strings"
)

// ParseStrict reads one JSON value into the tree parseJSON builds, the way
// the gateway's authorization reads a body: it also refuses two keys of one
// object that are equal, equal after strings.ToLower, or name one proto
// field (snake_case and lowerCamelCase), and a value nested inside more
// than 64 objects and arrays. Callers refuse invalid UTF-8 and surrogate
// escapes first, as for parseJSON. deep is the deepest nesting of objects
// and arrays (Parsed uses it).
//
// The gateway reads a body once with it and hands the tree to Decide
// (Parsed), instead of each side parsing the body again.
func ParseStrict(b []byte) (v any, deep int, err error) {
	p := jsonParser{s: string(b), keys: make(map[string]string, 8), strict: true}
	p.ws()
	if v, err = p.value(); err != nil {
		return nil, p.deep, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.deep, errTrailing
	}
	return v, p.deep, nil
}

// ParseStrict's errors, for the gateway's messages.
var (
	// ErrTrailing: data after the JSON value.
	ErrTrailing = errTrailing
	// ErrTooDeep: nested deeper than the limit.
	ErrTooDeep = errTooDeep
)

// DuplicateKeyError is two keys of one object that ParseStrict refuses.
type DuplicateKeyError struct {
	Key, Prev string
	Field     bool // the two name one proto field; else equal after ToLower
}

func (e *DuplicateKeyError) Error() string {
	if e.Field {
		return fmt.Sprintf("JSON keys %q and %q name one field", e.Prev, e.Key)
	}
	return fmt.Sprintf("JSON key %q given twice (as %q)", e.Key, e.Prev)
}

// seenKey is one key of an open object: its lower-case and JSON-name forms.
type seenKey struct{ folded, camel, key string }

// objectKeys checks one object's keys: a scan of p.seen while the object
// is small (most MLflow objects have two to five keys), maps past that.
type objectKeys struct {
	base           int
	folded, camels map[string]string
}

const objectKeysScan = 16

func (ks *objectKeys) close(p *jsonParser) { p.seen = p.seen[:ks.base] }

// add records k, refusing it as the gateway's reader did: first a key equal
// after ToLower to an earlier one, then one with the same JSON name.
func (ks *objectKeys) add(p *jsonParser, k string) error {
	f, c := strings.ToLower(k), jsonName(k)
	if ks.folded != nil {
		if prev, dup := ks.folded[f]; dup {
			return &DuplicateKeyError{Key: k, Prev: prev}
		}
		ks.folded[f] = k
		if prev, dup := ks.camels[c]; dup {
			return &DuplicateKeyError{Key: k, Prev: prev, Field: true}
		}
		ks.camels[c] = k
		return nil
	}
	open := p.seen[ks.base:]
	for _, s := range open {
		if s.folded == f {
			return &DuplicateKeyError{Key: k, Prev: s.key}
		}
	}
	for _, s := range open {
		if s.camel == c {
			return &DuplicateKeyError{Key: k, Prev: s.key, Field: true}
		}
	}
	if len(open) < objectKeysScan {
		p.seen = append(p.seen, seenKey{f, c, k})
		return nil
	}
	ks.folded, ks.camels = make(map[string]string, 2*objectKeysScan), make(map[string]string, 2*objectKeysScan)
	for _, s := range append(open, seenKey{f, c, k}) {
		ks.folded[s.folded], ks.camels[s.camel] = s.key, s.key
	}
	return nil
}

// open enters an object or array.
func (p *jsonParser) open() error {
	p.depth++
	p.deep = max(p.deep, p.depth)
	if !p.strict && p.depth > maxDepth {
		return errTooDeep
	}
	return nil
}

// strictMaxDepth is the gateway's limit: a value inside more objects and
// arrays than this is refused (an empty container one level deeper is not).
const strictMaxDepth = 64

// strictDepth runs before the first value of the innermost container.
func (p *jsonParser) strictDepth() error {
	if p.strict && p.depth > strictMaxDepth {
		return errTooDeep
	}
	return nil
}

// Parsed is a body the gateway has read with ParseStrict, for Decide to
// use instead of parsing the same bytes again (Request.Parsed).
type Parsed struct {
	src     []byte
	body    map[string]any
	doubled bool
	deep    bool
}

// NewParsed describes body src read as obj: doubled when src was a JSON
// string holding the object, deep the deepest nesting ParseStrict saw in
// either layer. The tree must not change afterwards.
func NewParsed(src []byte, obj map[string]any, doubled bool, deep int) *Parsed {
	return &Parsed{src: src, body: obj, doubled: doubled, deep: deep > maxDepth}
}

// usable: p describes exactly these bytes, and readMessage's own reader
// would have built the same tree (ParseStrict accepts an empty container
// one level deeper than parseJSON does; such a body is read again).
func (p *Parsed) usable(body []byte) bool {
	return p != nil && !p.deep && p.body != nil && len(p.src) == len(body) && bytes.Equal(p.src, body)
}
