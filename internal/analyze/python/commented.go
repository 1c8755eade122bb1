package python

import (
	"bufio"
	"bytes"
	"regexp"
)

// A name bound only in commented-out assignments is the reader's pick
// among them: a notebook offering `# model_uri = "models:/m@prod"` and
// `# model_uri = "runs:/<id>/model"` above a load_model(model_uri) leaves
// the reader to uncomment one. Such a name is judged as the join of those
// values, not as snippet input, when every one is a plain string literal;
// anything else (prose, an expression) keeps it free.

var (
	commentedAssign = regexp.MustCompile(`^[ \t]*#[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)$`)
	plainLiteral    = regexp.MustCompile(`^[ \t]*[rRuU]?(?:"([^"\\\n]*)"|'([^'\\\n]*)')[ \t]*$`)
)

// maxCommented bounds the commented-out values kept for one name.
const maxCommented = 32

// commentedValue is the value of a free name from its commented-out
// assignments, or nil.
func (f *fileCtx) commentedValue(n string) *val {
	if f.commented == nil {
		f.commented = commentedAssigns(f.s.b)
	}
	lits, ok := f.commented[n]
	if !ok || lits == nil {
		return nil
	}
	var out *val
	for _, l := range lits {
		out = join(out, strVal(l))
	}
	cp := *out
	cp.from = []string{n}
	return &cp
}

// commentedAssigns maps each name assigned in a whole-line comment to the
// string literals it is given there; nil marks a name also given something
// that is not a plain literal.
func commentedAssigns(b []byte) map[string][]string {
	out := map[string][]string{}
	if !bytes.Contains(b, []byte("#")) {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), len(b)+1)
	for sc.Scan() {
		m := commentedAssign.FindSubmatch(sc.Bytes())
		if m == nil || bytes.HasPrefix(m[2], []byte("=")) {
			continue // not an assignment ("# a == b" is prose)
		}
		name := string(m[1])
		if lits, seen := out[name]; seen && lits == nil {
			continue
		}
		lm := plainLiteral.FindSubmatch(m[2])
		if lm == nil || len(out[name]) >= maxCommented {
			out[name] = nil
			continue
		}
		out[name] = append(out[name], string(lm[1])+string(lm[2]))
	}
	return out
}
