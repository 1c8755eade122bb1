package model

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MLflow reads MLmodel with yaml.safe_load. go.yaml.in/yaml/v3 only gives us
// the node tree; this file turns that tree into the values PyYAML's
// SafeLoader builds (YAML 1.1 implicit types, merge keys with PyYAML's
// precedence, the last duplicate key winning, aliases shared, not copied),
// so the judge sees exactly the flavor configuration MLflow will use. What
// cannot be resolved the way PyYAML would is an error: the caller turns it
// into MLG111.

// ykind is the Python type safe_load constructs for a node.
type ykind uint8

const (
	yNull ykind = iota
	yBool
	yInt
	yFloat
	yStr
	yBytes
	yTime
	ySeq // list, also !!omap and !!pairs (lists of tuples)
	yMap
	ySet
)

var ykindNames = [...]string{"NoneType", "bool", "int", "float", "str", "bytes", "datetime", "list", "dict", "set"}

func (k ykind) String() string { return ykindNames[k] }

// yval is one constructed value. Aliases share the same *yval, as PyYAML
// shares the constructed object, so the tree is a DAG.
type yval struct {
	kind  ykind
	str   string // str: the text; other scalars: the canonical key identity
	line  int
	keys  []*yval // dict keys in insertion order (set members for ySet)
	vals  []*yval
	items []*yval
}

// get returns the value of the str key k in a dict, or nil.
func (v *yval) get(k string) *yval {
	if v == nil || v.kind != yMap {
		return nil
	}
	for i, key := range v.keys {
		if key.kind == yStr && key.str == k {
			return v.vals[i]
		}
	}
	return nil
}

// truthy is Python's bool(v).
func (v *yval) truthy() bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case yNull:
		return false
	case yBool, yInt, yFloat:
		return v.str != "n:0"
	case yStr, yBytes:
		return v.str != "" && v.str != "b:"
	case ySeq:
		return len(v.items) > 0
	case yMap, ySet:
		return len(v.keys) > 0
	}
	return true
}

// MLmodelError says why an MLmodel could not be resolved the way
// yaml.safe_load resolves it. Cause is "parse" (not YAML safe_load accepts)
// or "limit" (a work cap was reached).
type MLmodelError struct {
	Cause string
	Msg   string
}

func (e *MLmodelError) Error() string { return e.Msg }

func yerr(cause, format string, args ...any) error {
	return &MLmodelError{Cause: cause, Msg: fmt.Sprintf(format, args...)}
}

const (
	maxYAMLDepth = 1000      // nesting of mappings and sequences (PyYAML's recursion limit is about this)
	maxYAMLWork  = 1_000_000 // nodes constructed plus merged pairs copied
)

type yresolver struct {
	done map[*yaml.Node]*yval
	busy map[*yaml.Node]bool // mappings being flattened (merge cycles)
	// nonSpecific scalars were written with the "!" tag.
	nonSpecific map[*yaml.Node]bool
	flat        map[*yaml.Node][][2]*yaml.Node
	work        int
	depth       int
}

// maxYAMLNodes bounds go-yaml's node tree (a few hundred bytes a node): an
// MLmodel has a few hundred nodes, a big signature is one quoted string.
const maxYAMLNodes = 100_000

// yamlNodeEstimate over-counts the nodes a document can make: line breaks
// and flow indicators outside quoted scalars (a quote opens one only where a
// token can start).
func yamlNodeEstimate(b []byte) int {
	n := 0
	var quote byte
	prev := byte('\n')
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote == '\'' && c == '\'':
			if i+1 < len(b) && b[i+1] == '\'' {
				i++
			} else {
				quote = 0
			}
		case quote == '"' && c == '\\':
			i++
		case quote == '"' && c == '"':
			quote = 0
		case quote != 0:
		case (c == '"' || c == '\'') && strings.IndexByte(" \t\n:[{,-!&", prev) >= 0:
			quote = c
		case c == '\n' || c == ',' || c == '[' || c == '{':
			n++
		}
		prev = c
	}
	return n
}

// resolveYAML parses one YAML document the way yaml.safe_load does.
func resolveYAML(b []byte) (*yval, error) {
	if n := yamlNodeEstimate(b); n > maxYAMLNodes {
		return nil, yerr("limit", "MLmodel has about %d YAML nodes, more than the %d an MLmodel needs; not parsed", n, maxYAMLNodes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yval{kind: yNull, str: "none"}, nil // safe_load("") is None
		}
		return nil, yerr("parse", "MLmodel is not valid YAML: %v", err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		// safe_load refuses a second document; so should we.
		return nil, yerr("parse", "MLmodel holds more than one YAML document (yaml.safe_load refuses it)")
	}
	if len(doc.Content) == 0 {
		return &yval{kind: yNull, str: "none"}, nil
	}
	nonSpecific, err := sourceChecks(&doc, b)
	if err != nil {
		return nil, err
	}
	r := &yresolver{done: map[*yaml.Node]*yval{}, busy: map[*yaml.Node]bool{},
		flat: map[*yaml.Node][][2]*yaml.Node{}, nonSpecific: nonSpecific}
	return r.construct(doc.Content[0])
}

const quotedStyles = yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

// sourceChecks covers what the node tree hides but PyYAML acts on:
//   - PyYAML's scanner refuses a tab anywhere but inside a quoted or block
//     scalar or a comment; go-yaml accepts some. More tabs in the source
//     than in those places means a document MLflow cannot load, which we
//     must not judge as if it loaded.
//   - A non-specific tag ("! 'x'") makes PyYAML resolve even a quoted
//     scalar as if it were plain ("! '12'" is the int 12); go-yaml drops the
//     tag. The scalars that carry one are returned.
func sourceChecks(doc *yaml.Node, src []byte) (map[*yaml.Node]bool, error) {
	tabs := bytes.Count(src, []byte("\t"))
	bang := bytes.IndexByte(src, '!') >= 0
	var lines [][]rune
	if bang {
		if bytes.ContainsAny(src, "\r\u0085\u2028\u2029") && !bytes.Contains(src, []byte("\r\n")) {
			// Line breaks go-yaml and a plain split would count apart.
			return nil, yerr("parse", "MLmodel uses tags with unusual line breaks; not resolved")
		}
		// The reader drops a leading BOM before counting columns.
		for _, l := range bytes.Split(bytes.TrimPrefix(src, []byte("\ufeff")), []byte("\n")) {
			lines = append(lines, []rune(string(bytes.TrimSuffix(l, []byte("\r")))))
		}
	}
	nonSpecific := map[*yaml.Node]bool{}
	allowed := 0
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		allowed += strings.Count(n.HeadComment, "\t") + strings.Count(n.LineComment, "\t") + strings.Count(n.FootComment, "\t")
		if n.Kind == yaml.ScalarNode && n.Style&(quotedStyles|yaml.TaggedStyle) == 0 && ambiguousColon(n.Value) {
			// PyYAML ends a plain scalar at ':' before a flow indicator
			// ("{loader_module:, x}" has the key loader_module); go-yaml
			// keeps the colon in the scalar.
			return nil, yerr("parse", "line %d: plain scalar %s ends in ':' where PyYAML splits it; not resolved", n.Line, strconv.Quote(truncate(n.Value, 40)))
		}
		if n.Kind == yaml.ScalarNode && n.Style&quotedStyles != 0 {
			allowed += strings.Count(n.Value, "\t")
			if bang && n.Style&yaml.TaggedStyle == 0 {
				ns, ok := hasNonSpecificTag(lines, n.Line, n.Column)
				if !ok {
					return nil, yerr("parse", "line %d: scalar properties could not be located in the source", n.Line)
				}
				if ns {
					nonSpecific[n] = true
				}
			}
		}
		if n.Kind != yaml.AliasNode {
			stack = append(stack, n.Content...)
		}
	}
	if tabs > allowed {
		return nil, yerr("parse", "MLmodel has a tab outside quoted scalars and comments, which yaml.safe_load refuses")
	}
	return nonSpecific, nil
}

func ambiguousColon(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == ':' && (i+1 == len(v) || strings.IndexByte(",[]{}", v[i+1]) >= 0) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "..."
	}
	return s
}

// hasNonSpecificTag reads the properties (anchor, tag) in front of a
// non-plain scalar that starts at line:col (1-based, in characters).
func hasNonSpecificTag(lines [][]rune, line, col int) (found, ok bool) {
	if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) {
		return false, false
	}
	l := lines[line-1][col-1:]
	for len(l) > 0 {
		switch l[0] {
		case '"', '\'', '|', '>':
			return found, true
		case '&', '!':
			if l[0] == '!' && (len(l) == 1 || l[1] == ' ' || l[1] == '\t') {
				found = true
			}
			for len(l) > 0 && l[0] != ' ' && l[0] != '\t' {
				l = l[1:]
			}
			for len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
				l = l[1:]
			}
		default:
			return false, false
		}
	}
	// The scalar itself is on a later line.
	return found, true
}

func deref(n *yaml.Node) *yaml.Node {
	// An alias names a node composed earlier; chains cannot form.
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func (r *yresolver) construct(n *yaml.Node) (*yval, error) {
	n = deref(n)
	if n == nil || n.Kind == yaml.AliasNode {
		return nil, yerr("parse", "alias to an unknown anchor")
	}
	if v, ok := r.done[n]; ok {
		return v, nil
	}
	r.work++
	if r.work > maxYAMLWork {
		return nil, yerr("limit", "MLmodel YAML expands to more than %d nodes (alias or merge bomb)", maxYAMLWork)
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxYAMLDepth {
		return nil, yerr("limit", "line %d: MLmodel YAML nested deeper than %d", n.Line, maxYAMLDepth)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := scalar(n, r.nonSpecific[n])
		if err != nil {
			return nil, err
		}
		r.done[n] = v
		return v, nil
	case yaml.SequenceNode:
		// Registered before its items, as PyYAML yields the empty list
		// first: an alias inside refers to this very object.
		v := &yval{kind: ySeq, line: n.Line}
		r.done[n] = v
		return v, r.sequence(n, v)
	case yaml.MappingNode:
		v := &yval{kind: yMap, line: n.Line}
		r.done[n] = v
		return v, r.mapping(n, v)
	}
	return nil, yerr("parse", "line %d: unexpected YAML node", n.Line)
}

// explicitTag returns the node's tag if one was written in the document.
func explicitTag(n *yaml.Node) string {
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag
	}
	return ""
}

func (r *yresolver) sequence(n *yaml.Node, v *yval) error {
	switch t := explicitTag(n); t {
	case "", "!!seq", "!!omap", "!!pairs":
		if t != "" && t != "!!seq" {
			// safe_load: a list of (key, value) tuples; each item must be
			// a one-pair mapping.
			for _, c := range n.Content {
				if c := deref(c); c.Kind != yaml.MappingNode || len(c.Content) != 2 {
					return yerr("parse", "line %d: %s item is not a one-pair mapping", c.Line, t)
				}
			}
		}
	default:
		return yerr("parse", "line %d: tag %s is not one yaml.safe_load constructs", n.Line, t)
	}
	for _, c := range n.Content {
		cv, err := r.construct(c)
		if err != nil {
			return err
		}
		v.items = append(v.items, cv)
	}
	return nil
}

func isMergeKey(k *yaml.Node) bool {
	k = deref(k)
	if k.Kind != yaml.ScalarNode {
		return false
	}
	if t := explicitTag(k); t != "" {
		return t == "!!merge"
	}
	return k.Style == 0 && k.Value == "<<"
}

// pairs is PyYAML's flatten_mapping (6.0.4, the pinned version): the pairs
// of merged mappings first, in the order they are listed, each key node
// taken once (the first time it is met), then the mapping's own pairs. The
// dict is then built in that order, so the last of equal keys wins: own keys
// override merged ones, and of two merged mappings the later one wins.
func (r *yresolver) pairs(n *yaml.Node) ([][2]*yaml.Node, error) {
	if p, ok := r.flat[n]; ok {
		return p, nil
	}
	if r.busy[n] {
		return nil, yerr("parse", "line %d: recursive merge", n.Line)
	}
	r.busy[n] = true
	defer delete(r.busy, n)
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxYAMLDepth {
		return nil, yerr("limit", "line %d: merge keys nested deeper than %d", n.Line, maxYAMLDepth)
	}
	var merge, own [][2]*yaml.Node
	seen := map[any]bool{}
	take := func(p [][2]*yaml.Node) {
		for _, pair := range p {
			if id := keyNodeID(pair[0]); !seen[id] {
				seen[id] = true
				merge = append(merge, pair)
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		switch src := deref(v); src.Kind {
		case yaml.MappingNode:
			p, err := r.pairs(src)
			if err != nil {
				return nil, err
			}
			take(p)
		case yaml.SequenceNode:
			for _, c := range src.Content {
				c = deref(c)
				if c.Kind != yaml.MappingNode {
					return nil, yerr("parse", "line %d: merge key lists something other than a mapping", c.Line)
				}
				p, err := r.pairs(c)
				if err != nil {
					return nil, err
				}
				take(p)
			}
		default:
			return nil, yerr("parse", "line %d: merge key value is not a mapping or a list of mappings", src.Line)
		}
	}
	out := append(merge, own...)
	r.work += len(out)
	if r.work > maxYAMLWork {
		return nil, yerr("limit", "MLmodel YAML merge keys expand to more than %d pairs (merge bomb)", maxYAMLWork)
	}
	r.flat[n] = out
	return out, nil
}

// keyNodeID is what flatten_mapping compares, id(key_node.value): the key
// node itself (an alias is the node it names), except that CPython shares
// one object for the empty string and for each one-character Latin-1 string.
func keyNodeID(k *yaml.Node) any {
	k = deref(k)
	if k.Kind == yaml.ScalarNode {
		if rs := []rune(k.Value); len(rs) == 0 || (len(rs) == 1 && rs[0] < 256) {
			return "str:" + k.Value
		}
	}
	return k
}

func (r *yresolver) mapping(n *yaml.Node, v *yval) error {
	tag := explicitTag(n)
	if tag != "" && tag != "!!map" && tag != "!!set" {
		return yerr("parse", "line %d: tag %s is not one yaml.safe_load constructs", n.Line, tag)
	}
	ps, err := r.pairs(n)
	if err != nil {
		return err
	}
	if tag == "!!set" {
		v.kind = ySet
	}
	index := map[string]int{}
	for _, p := range ps {
		kn := deref(p[0])
		var key *yval
		if kn.Kind == yaml.ScalarNode && explicitTag(kn) == "" && kn.Style == 0 && kn.Value == "=" {
			// flatten_mapping retags the "=" value key as a str.
			key = &yval{kind: yStr, str: "=", line: kn.Line}
		} else if key, err = r.construct(kn); err != nil {
			return err
		}
		id, ok := keyID(key)
		if !ok {
			return yerr("parse", "line %d: unhashable %s used as a mapping key", kn.Line, key.kind)
		}
		val, err := r.construct(p[1])
		if err != nil {
			return err
		}
		if i, dup := index[id]; dup {
			// Python dict assignment: the key keeps its place, the last
			// value wins.
			v.vals[i] = val
			continue
		}
		index[id] = len(v.keys)
		v.keys = append(v.keys, key)
		v.vals = append(v.vals, val)
	}
	return nil
}

// keyID is the dict identity of a hashable key: equal numbers are one key
// whatever their type (True == 1 == 1.0), NaN is never equal to itself.
func keyID(k *yval) (string, bool) {
	switch k.kind {
	case yStr:
		return "s:" + k.str, true
	case yNull:
		return "none", true
	case yBool, yInt, yFloat, yBytes, yTime:
		if k.str == "nan" {
			return fmt.Sprintf("nan:%p", k), true
		}
		return k.str, true
	}
	return "", false
}

// PyYAML's implicit resolvers (YAML 1.1), tried in this order on plain
// scalars.
var (
	yBoolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yFloatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yIntRe   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yNullRe  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yTimeRe  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// scalar constructs a scalar node as SafeConstructor does.
func scalar(n *yaml.Node, nonSpecific bool) (*yval, error) {
	tag := explicitTag(n)
	if tag == "" {
		switch {
		case n.Style&quotedStyles != 0 && !nonSpecific:
			tag = "!!str" // quoted, literal or folded
		case yBoolRe.MatchString(n.Value):
			tag = "!!bool"
		case yFloatRe.MatchString(n.Value):
			tag = "!!float"
		case yIntRe.MatchString(n.Value):
			tag = "!!int"
		case n.Value == "<<":
			tag = "!!merge"
		case yNullRe.MatchString(n.Value):
			tag = "!!null"
		case yTimeRe.MatchString(n.Value):
			tag = "!!timestamp"
		case n.Value == "=":
			tag = "!!value"
		default:
			tag = "!!str"
		}
	}
	v := &yval{line: n.Line}
	switch tag {
	case "!!str":
		v.kind, v.str = yStr, n.Value
	case "!!null":
		v.kind, v.str = yNull, "none"
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "yes", "true", "on":
			v.kind, v.str = yBool, "n:1"
		case "no", "false", "off":
			v.kind, v.str = yBool, "n:0"
		default:
			return nil, yerr("parse", "line %d: %q is not a YAML 1.1 bool", n.Line, n.Value)
		}
	case "!!int":
		i, ok := pyYAMLInt(n.Value)
		if !ok {
			return nil, yerr("parse", "line %d: %q is not a YAML 1.1 int", n.Line, n.Value)
		}
		v.kind, v.str = yInt, "n:"+i.String()
	case "!!float":
		f, ok := pyYAMLFloat(n.Value)
		if !ok {
			return nil, yerr("parse", "line %d: %q is not a YAML 1.1 float", n.Line, n.Value)
		}
		v.kind, v.str = yFloat, floatID(f)
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, n.Value))
		if err != nil {
			return nil, yerr("parse", "line %d: !!binary value is not base64", n.Line)
		}
		v.kind, v.str = yBytes, "b:"+string(b)
	case "!!timestamp":
		if !yTimeRe.MatchString(n.Value) {
			return nil, yerr("parse", "line %d: %q is not a YAML timestamp", n.Line, n.Value)
		}
		v.kind, v.str = yTime, "t:"+n.Value
	default:
		// !!merge or !!value as a value, custom tags, python/ tags: all
		// construct_undefined in SafeConstructor.
		return nil, yerr("parse", "line %d: tag %s is not one yaml.safe_load constructs", n.Line, tag)
	}
	return v, nil
}

// pyYAMLInt is SafeConstructor.construct_yaml_int.
func pyYAMLInt(s string) (*big.Int, bool) {
	s = strings.ReplaceAll(s, "_", "")
	sign := 1
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var i big.Int
	ok := true
	switch {
	case s == "0":
	case strings.HasPrefix(s, "0b"):
		_, ok = i.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = i.SetString(s[2:], 16)
	case strings.HasPrefix(s, "0"):
		_, ok = i.SetString(s[1:], 8)
	case strings.Contains(s, ":"):
		base := big.NewInt(1)
		parts := strings.Split(s, ":")
		for j := len(parts) - 1; j >= 0; j-- {
			var d big.Int
			if _, ok2 := d.SetString(parts[j], 10); !ok2 {
				return nil, false
			}
			i.Add(&i, d.Mul(&d, base))
			base = new(big.Int).Mul(base, big.NewInt(60))
		}
	default:
		_, ok = i.SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if sign < 0 {
		i.Neg(&i)
	}
	return &i, true
}

// pyYAMLFloat is SafeConstructor.construct_yaml_float.
func pyYAMLFloat(s string) (float64, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case s == ".inf":
		return sign * math.Inf(1), true
	case s == ".nan":
		return math.NaN(), true
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		base, f := 1.0, 0.0
		for j := len(parts) - 1; j >= 0; j-- {
			d, err := strconv.ParseFloat(parts[j], 64)
			if err != nil {
				return 0, false
			}
			f += d * base
			base *= 60
		}
		return sign * f, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return sign * f, true
}

func floatID(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) >= 1<<63:
		return "f:" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "n:" + strconv.FormatInt(int64(f), 10)
}
