package python

import "strings"

// guardInfo says which variables a condition validates and whether the
// validated case is the true branch (positive) or the false one.
type guardInfo struct {
	ok       bool
	positive bool
	names    []string
	// lenOnly: the condition only bounds the length (len(x) > 250), which
	// caps what is logged (MLG203) but validates nothing else
	lenOnly bool
}

// validatingMethods check a value's shape.
var validatingMethods = map[string]bool{
	"startswith": true, "endswith": true, "fullmatch": true, "match": true, "search": true, "is_relative_to": true,
	"isalnum": true, "isidentifier": true, "isdigit": true, "isnumeric": true, "isalpha": true, "isdecimal": true,
	"relative_to": true,
}

// rejectTokens are substrings a check looks for in order to reject a value.
var rejectTokens = []string{"..", "/", "\\", "~", "%2e", "%2f", "\x00", "\\x00", ":", "#", ";", "file:", "http:"}

func isRejectLiteral(v *val) bool {
	if v == nil {
		return false
	}
	lits := []*val{v}
	if v.isList {
		lits = v.list
	}
	for _, l := range lits {
		if !l.known() {
			return false
		}
		bad := false
		for _, t := range rejectTokens {
			if strings.EqualFold(l.tmpl, t) {
				bad = true
			}
		}
		if !bad {
			return false
		}
	}
	return len(lits) > 0
}

// guard analyses an if/assert condition.
func (s *scope) guard(cond *node) guardInfo {
	var g guardInfo
	first := true
	var visit func(n *node, neg bool)
	visit = func(n *node, neg bool) {
		n = unparen(n)
		if n == nil {
			return
		}
		atom := func(names []string, pos bool) {
			if len(names) == 0 {
				return
			}
			if neg {
				pos = !pos
			}
			if first {
				g.positive, first = pos, false
			}
			if g.ok {
				g.lenOnly = false
			}
			g.ok = true
			g.names = appendUniq(g.names, names...)
		}
		switch n.kind {
		case "not_operator":
			visit(n.child("argument"), !neg)
		case "boolean_operator":
			visit(n.child("left"), neg)
			visit(n.child("right"), neg)
		case "call":
			name := s.calleeName(n)
			fn := unparen(n.child("function"))
			switch {
			case isValidatorName(name):
				atom(s.argNames(n), true)
			case validatingMethods[name] && fn != nil && fn.kind == "attribute":
				q := s.resolveQual(fn.child("object"))
				if q == "re" || strings.HasSuffix(q, ".re") || q == "regex" {
					// re.match(pattern, value): the value is the second argument
					if a := n.child("arguments"); a != nil {
						if ks := a.namedKids(); len(ks) >= 2 {
							atom(s.identsIn(ks[1]), true)
						}
					}
					return
				}
				arg := unknownVal
				if a := n.child("arguments"); a != nil {
					if ks := a.namedKids(); len(ks) >= 1 {
						arg = s.quiet(ks[0])
					}
				}
				names := s.identsIn(fn.child("object"))
				if name == "match" || name == "fullmatch" || name == "search" {
					// PATTERN.match(value)
					names = appendUniq(names, s.argNames(n)...)
				}
				atom(names, !isRejectLiteral(arg))
			case name == "any" || name == "all":
				if a := n.child("arguments"); a != nil {
					for _, k := range a.namedKids() {
						visit(k, neg)
					}
				}
			}
		case "generator_expression", "list_comprehension":
			visit(n.child("body"), neg)
		case "comparison_operator":
			ops := []string{}
			for _, k := range n.kids {
				if k.fieldName() == "operators" {
					ops = append(ops, strings.Join(strings.Fields(s.f.s.text(k)), " "))
				}
			}
			operands := n.namedKids()
			if len(ops) != 1 || len(operands) != 2 {
				return
			}
			l, r := operands[0], operands[1]
			switch ops[0] {
			case "in", "not in":
				pos := ops[0] == "in"
				lv := s.quiet(l)
				if lv.known() {
					// "..": x  → a rejection check on x
					if isRejectLiteral(lv) {
						pos = !pos
					}
					atom(s.identsIn(r), pos)
					return
				}
				atom(s.identsIn(l), pos)
			case "<", "<=", ">", ">=":
				var names []string
				for _, o := range []*node{l, r} {
					if o = unparen(o); o != nil && o.kind == "call" && s.calleeQual(o) == "builtins.len" {
						names = append(names, s.argNames(o)...)
					}
				}
				if len(names) > 0 {
					if !g.ok {
						g.lenOnly = true
					}
					atom(names, ops[0] == "<" || ops[0] == "<=")
				}
			case "==", "!=":
				lv, rv := s.quiet(l), s.quiet(r)
				if lv.known() || rv.known() || lv.isList || rv.isList {
					names := append(s.identsIn(l), s.identsIn(r)...)
					atom(names, ops[0] == "==")
				}
			}
		}
	}
	visit(cond, false)
	return g
}

// quiet evaluates a small expression for its constant value only; used on
// conditions already evaluated once (findings are de-duplicated anyway).
func (s *scope) quiet(n *node) *val {
	n = unparen(n)
	if n == nil {
		return unknownVal
	}
	switch n.kind {
	case "string", "concatenated_string", "integer", "float", "true", "false", "none", "tuple", "list", "set", "identifier", "attribute":
		return s.eval(n)
	}
	return unknownVal
}
