package python

import (
	"context"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// fileCtx is the state of one file's analysis.
type fileCtx struct {
	ctx      context.Context
	s        *src
	policy   config.Policy
	sec      secretChecker
	bound    map[string]bool // every name bound anywhere in the file
	starImp  bool            // "from x import *": unbound names are not free
	notebook bool            // a Databricks notebook source: runtime names are known
	cliDump  bool            // vars(args) is a dump: an option looks secret (cliopts.go)
	test     bool            // a test suite's file (testPath): literal credentials are fixtures
	module   *scope
	classes  map[*node]*classInfo
	findings []finding.Finding
	seen     map[findKey]bool
	dumps    []dumpEvt
	logged   []logEvt
	ops      int // evaluation steps, capped so no input can hang the analysis
	deferred []func()
	callIn   map[string]*val       // what the file's own callers pass to its functions (callers.go), from the previous pass
	callOut  map[string]*val       // the same, learned in this pass
	models   map[string]*modelInfo // request-model classes of the file (validated.go)
	enums    map[string]bool       // Enum classes of the file
	// commented maps names assigned in commented-out lines to their literal
	// values (commented.go), built on first use
	commented map[string][]string
	pkg       pkgDir                     // where the file is, for relative imports (helpers.go)
	helper    func(path, fn string) bool // a module's function returns a registry record
}

// later runs a function body after the module walk when it is defined at
// module level (Python runs it later too, seeing the final globals); nested
// definitions are walked at once with their enclosing scope.
func (f *fileCtx) later(s *scope, fn func()) {
	if s == f.module {
		f.deferred = append(f.deferred, fn)
		return
	}
	fn()
}

// runDeferred walks the deferred bodies (which may defer nothing further).
func (f *fileCtx) runDeferred() {
	for i := 0; i < len(f.deferred); i++ {
		f.deferred[i]()
	}
}

// findKey de-duplicates: one finding per rule per line (eval(compile(x))
// is one problem).
type findKey struct {
	rule string
	line int
}

// maxOps caps evaluation work per file; far above any real file's need.
const maxOps = 4_000_000

// classInfo holds what methods assign to self.<attr>.
type classInfo struct {
	attrs map[string]*val
}

// dumpEvt is a pickle-family dump waiting to learn whether it gets logged.
type dumpEvt struct {
	n     *node
	fn    *scope
	path  *val
	inRun bool
	what  string
}

// logEvt is a log_artifact(s) call.
type logEvt struct {
	fn   *scope
	path *val
}

// scope is one function (or the module, or a class body) being walked.
type scope struct {
	f        *fileCtx
	fn       *node
	env      map[string]*val
	parent   *scope
	class    *classInfo
	selfName string
	inRun    int
	approval bool  // an approval is recorded in this function (MLG105)
	checked  bool  // registry results are checked for stage/approval (MLG104)
	discard  *node // the call of the expression statement being walked: its result is dropped
}

func (f *fileCtx) report(n *node, rule, msg string) {
	line, col := f.s.pos(n.start)
	k := findKey{rule, line}
	if f.seen[k] {
		return
	}
	f.seen[k] = true
	el, ec := f.s.pos(n.end)
	f.findings = append(f.findings, finding.Finding{
		RuleID: rule, Message: msg, Line: line, Column: col, EndLine: el, EndColumn: ec,
		Snippet: f.sec.Redact(f.s.lineText(line)),
	})
}

// collectBound records every name the file binds, anywhere. A name outside
// this set (and not a builtin) is free: its value is given from outside.
func (f *fileCtx) collectBound(root *node) {
	target := func(n *node) {
		walk(n, func(x *node) bool {
			if x.kind == "identifier" {
				f.bound[f.s.text(x)] = true
			}
			// attribute/subscript targets bind no plain name; their bases are reads
			return x.kind != "attribute" && x.kind != "subscript"
		})
	}
	walk(root, func(n *node) bool {
		switch n.kind {
		case "assignment", "augmented_assignment", "for_statement", "for_in_clause":
			target(n.child("left"))
		case "named_expression":
			target(n.child("name"))
		case "as_pattern":
			target(n.child("alias"))
		case "function_definition", "class_definition":
			target(n.child("name"))
		case "parameters", "lambda_parameters":
			walk(n, func(x *node) bool {
				if x.kind == "identifier" && (x.fieldName() == "" || x.fieldName() == "name") {
					f.bound[f.s.text(x)] = true
				}
				return x.fieldName() != "value" && x.fieldName() != "type"
			})
			return false
		case "global_statement", "nonlocal_statement":
			target(n)
		case "aliased_import":
			target(n.child("alias"))
		case "import_statement":
			for _, k := range n.kids {
				if k.fieldName() == "name" && k.kind == "dotted_name" {
					if id := k.firstNamed(); id != nil {
						f.bound[f.s.text(id)] = true
					}
				}
			}
		case "import_from_statement":
			for _, k := range n.kids {
				if k.fieldName() == "name" && k.kind == "dotted_name" {
					if ids := k.namedKids(); len(ids) > 0 {
						f.bound[f.s.text(ids[len(ids)-1])] = true
					}
				}
				if k.kind == "wildcard_import" {
					f.starImp = true
				}
			}
		case "case_pattern", "keyword_pattern", "splat_pattern", "dict_pattern", "class_pattern":
			target(n)
		}
		return true
	})
}

func newScope(f *fileCtx, fn *node, parent *scope) *scope {
	return &scope{f: f, fn: fn, env: map[string]*val{}, parent: parent}
}

func cloneEnv(m map[string]*val) map[string]*val {
	out := make(map[string]*val, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mergeEnv(a, b map[string]*val) map[string]*val {
	out := cloneEnv(a)
	for k, vb := range b {
		if va, ok := out[k]; ok {
			out[k] = join(va, vb)
		} else {
			out[k] = vb
		}
	}
	return out
}

// lookup finds a name: local, enclosing function, module; nil if none.
func (s *scope) lookup(name string) *val {
	for sc := s; sc != nil; sc = sc.parent {
		if v, ok := sc.env[name]; ok {
			return v
		}
	}
	if m := s.f.module; m != nil && m != s {
		if v, ok := m.env[name]; ok {
			return v
		}
	}
	return nil
}

// sanitize marks names (and what they were derived from) as validated.
func (s *scope) sanitize(names []string) {
	seen := map[string]bool{}
	var do func(string)
	do = func(n string) {
		if seen[n] || len(seen) > 64 {
			return
		}
		seen[n] = true
		v := s.lookup(n)
		if v == nil {
			return
		}
		s.env[n] = cleaned(v)
		for _, fr := range v.from {
			do(fr)
		}
	}
	for _, n := range names {
		do(n)
	}
}

// block walks statements in order; it reports whether control never falls
// off its end (raise, return, continue, break, sys.exit).
func (s *scope) block(n *node) bool {
	if n == nil {
		return false
	}
	for _, st := range n.kids {
		if !st.named || st.kind == "comment" {
			continue
		}
		if s.stmt(st) {
			return true
		}
	}
	return false
}

func (s *scope) budget() bool {
	s.f.ops++
	return s.f.ops < maxOps && (s.f.ops&1023 != 0 || s.f.ctx.Err() == nil)
}

func (s *scope) stmt(n *node) bool {
	if !s.budget() {
		return true
	}
	switch n.kind {
	case "expression_statement":
		for _, e := range n.namedKids() {
			s.discard = e
			s.exprStmt(e)
			s.discard = nil
		}
		if e := n.firstNamed(); e != nil && e.kind == "call" && s.isExitCall(e) {
			return true
		}
	case "return_statement", "raise_statement":
		for _, e := range n.namedKids() {
			s.eval(e)
		}
		return true
	case "continue_statement", "break_statement":
		return true
	case "if_statement":
		var alts []*node
		for _, k := range n.kids {
			if k.fieldName() == "alternative" {
				alts = append(alts, k)
			}
		}
		return s.ifChain(n.child("condition"), n.child("consequence"), alts)
	case "for_statement":
		it := s.eval(n.child("right"))
		pre := s.env
		s.env = s.clone(pre)
		s.bind(n.child("left"), elemOf(it))
		s.block(n.child("body"))
		s.env = s.merge(pre, s.env)
		s.block(n.child("alternative"))
	case "while_statement":
		s.eval(n.child("condition"))
		pre := s.env
		s.env = s.clone(pre)
		s.block(n.child("body"))
		s.env = s.merge(pre, s.env)
		s.block(n.child("alternative"))
	case "try_statement":
		bodyExit := s.block(n.child("body"))
		allExit := bodyExit
		post := s.env
		for _, k := range n.kids {
			switch k.kind {
			case "except_clause", "except_group_clause":
				s.env = s.clone(post)
				for _, c := range k.kids {
					if c.kind == "as_pattern" {
						s.eval(c.firstNamed())
						s.bind(c.child("alias"), unknownVal)
					} else if c.named && c.kind != "block" {
						s.eval(c)
					}
				}
				var ex bool
				for _, c := range k.kids {
					if c.kind == "block" {
						ex = s.block(c)
					}
				}
				if !ex {
					allExit = false
					post = s.merge(post, s.env)
				}
				s.env = post
			case "else_clause":
				s.block(k.child("body"))
			case "finally_clause":
				for _, c := range k.kids {
					if c.kind == "block" {
						s.block(c)
					}
				}
			}
		}
		return allExit && bodyExit
	case "with_statement":
		run := false
		for _, cl := range n.kids {
			if cl.kind != "with_clause" {
				continue
			}
			for _, it := range cl.namedKids() {
				v := it.child("value")
				if v == nil {
					v = it.firstNamed()
				}
				if v != nil && v.kind == "as_pattern" {
					val := s.eval(v.firstNamed())
					s.bind(v.child("alias"), val)
					v = v.firstNamed()
				} else {
					s.eval(v)
				}
				if v := unparen(v); v != nil && v.kind == "call" && s.calleeQual(v) == "mlflow.start_run" {
					run = true
				}
			}
		}
		if run {
			s.inRun++
		}
		ex := s.block(n.child("body"))
		if run {
			s.inRun--
		}
		return ex
	case "match_statement":
		s.eval(n.child("subject"))
		pre := s.env
		out := pre
		for _, b := range n.kids {
			if b.kind != "block" {
				continue
			}
			for _, c := range b.kids {
				if c.kind == "case_clause" {
					s.env = s.clone(pre)
					s.block(c.child("consequence"))
					out = s.merge(out, s.env)
				}
			}
		}
		s.env = out
	case "function_definition":
		s.env[s.f.s.text(n.child("name"))] = &val{qual: "local." + s.f.s.text(n.child("name"))}
		s.f.later(s, func() { s.f.function(n, nil, s, nil) })
	case "decorated_definition":
		def := n.child("definition")
		for _, d := range n.kids {
			if d.kind == "decorator" {
				s.eval(d.firstNamed())
			}
		}
		if def != nil && def.kind == "function_definition" {
			s.env[s.f.s.text(def.child("name"))] = &val{qual: "local." + s.f.s.text(def.child("name"))}
			s.f.later(s, func() { s.f.function(def, n, s, nil) })
		} else if def != nil {
			s.stmt(def)
		}
	case "class_definition":
		s.env[s.f.s.text(n.child("name"))] = &val{qual: "local.class." + s.f.s.text(n.child("name"))}
		s.f.collectModel(n, s)
		s.f.class(n, s)
	case "import_statement", "import_from_statement", "future_import_statement":
		s.imports(n)
	case "assert_statement":
		for _, e := range n.namedKids() {
			s.eval(e)
		}
		if c := n.firstNamed(); c != nil {
			if g := s.guard(c); g.ok {
				s.apply(g)
			}
		}
	case "delete_statement", "global_statement", "nonlocal_statement", "pass_statement", "comment", "print_statement", "exec_statement", "type_alias_statement":
		for _, e := range n.namedKids() {
			if n.kind == "print_statement" || n.kind == "exec_statement" {
				s.eval(e)
			}
		}
	case "block":
		return s.block(n)
	default:
		for _, e := range n.namedKids() {
			s.eval(e)
		}
	}
	return false
}

// exprStmt evaluates an expression statement: assignments bind, a bare call
// to a validating function validates its arguments from here on.
func (s *scope) exprStmt(e *node) {
	switch e.kind {
	case "assignment":
		right := e.child("right")
		var v *val
		if right == nil {
			v = unknownVal
		} else if right.kind == "assignment" {
			// a = b = value: evaluate the innermost value once, bind all targets
			targets := []*node{e.child("left")}
			for right != nil && right.kind == "assignment" {
				targets = append(targets, right.child("left"))
				right = right.child("right")
			}
			v = s.eval(right)
			for _, t := range targets {
				s.bindTarget(t, v, right)
			}
			return
		} else {
			v = s.eval(right)
		}
		s.bindTarget(e.child("left"), v, right)
	case "augmented_assignment":
		left := e.child("left")
		r := s.eval(e.child("right"))
		old := s.eval(left)
		nv := derive(0, old, r)
		if old.hasStr && s.f.s.text(e.child("operator")) == "+=" {
			nv = concat(old, r)
		}
		s.bindTarget(left, nv, e)
	case "call":
		s.eval(e)
		if isValidatorName(s.calleeName(e)) {
			s.sanitize(s.argNames(e))
		}
	default:
		s.eval(e)
	}
}

// bindTarget binds an assignment target; subscript and attribute targets
// update dicts, self attributes and os.environ.
func (s *scope) bindTarget(t *node, v *val, rhs *node) {
	t = unparen(t)
	if t == nil {
		return
	}
	switch t.kind {
	case "subscript":
		base := t.child("value")
		if base == nil {
			return
		}
		bv := s.eval(base)
		key := s.eval(t.child("subscript"))
		if bv.envMap {
			s.checkEnvSet(t, key, v)
			return
		}
		if base.kind == "identifier" && bv.dict != nil && key.known() {
			nd := *bv.dict
			nd.vals = make(map[string]*val, len(bv.dict.vals)+1)
			for k, x := range bv.dict.vals {
				nd.vals[k] = x
			}
			if _, ok := nd.vals[key.tmpl]; !ok {
				nd.keys = append(append([]string(nil), bv.dict.keys...), key.tmpl)
			}
			nd.vals[key.tmpl] = v
			nb := *bv
			nb.dict = &nd
			s.env[s.f.s.text(base)] = &nb
		} else if base.kind == "identifier" && bv.dict != nil {
			nd := *bv.dict
			nd.hasComp = true
			nd.unknown |= v.t | key.t
			nb := *bv
			nb.dict = &nd
			s.env[s.f.s.text(base)] = &nb
		}
	case "attribute":
		if obj := t.child("object"); obj != nil && obj.kind == "identifier" {
			s.env[s.f.s.text(t)] = v
		}
	default:
		s.bind(t, v)
	}
}

// bind binds names in a pattern to v.
func (s *scope) bind(t *node, v *val) {
	t = unparen(t)
	if t == nil {
		return
	}
	switch t.kind {
	case "identifier":
		s.env[s.f.s.text(t)] = v
	case "pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "as_pattern_target":
		kids := t.namedKids()
		for i, k := range kids {
			ev := elemOf(v)
			if v != nil && v.isList && len(v.list) == len(kids) {
				ev = v.list[i]
			}
			s.bind(k, ev)
		}
	case "list_splat_pattern":
		s.bind(t.firstNamed(), v)
	case "subscript", "attribute":
		s.bindTarget(t, v, nil)
	}
}

// elemOf is the value of one element of a container value.
func elemOf(v *val) *val {
	if v == nil {
		return unknownVal
	}
	if v.isList && len(v.list) > 0 {
		out := v.list[0]
		for _, x := range v.list[1:] {
			out = join(out, x)
		}
		return out
	}
	out := derive(0, v)
	if v.envMap {
		out.envMap = false
		out.t |= tEnv
	}
	return out
}

// ifChain walks if/elif/else with guard awareness.
func (s *scope) ifChain(cond, body *node, alts []*node) bool {
	s.eval(cond)
	g := s.guard(cond)
	name, lit, eq := s.equalsLiteral(cond)
	pre := s.env
	s.env = s.clone(pre)
	if g.ok && g.positive {
		s.apply(g)
	}
	if name != nil && eq {
		s.bind(name, lit)
	}
	thenExit := s.block(body)
	thenEnv := s.env
	s.env = s.clone(pre)
	if g.ok && (!g.positive || thenExit) {
		s.apply(g)
	}
	if name != nil && !eq {
		// the else of "if x != 'lit'", and what follows "if x != 'lit': return"
		s.bind(name, lit)
	}
	elseExit := false
	if len(alts) > 0 {
		a := alts[0]
		if a.kind == "elif_clause" {
			elseExit = s.ifChain(a.child("condition"), a.child("consequence"), alts[1:])
		} else {
			elseExit = s.block(a.child("body"))
		}
	}
	elseEnv := s.env
	switch {
	case thenExit && elseExit:
		s.env = elseEnv
		return true
	case thenExit:
		s.env = elseEnv
	case elseExit:
		s.env = thenEnv
	default:
		s.env = s.merge(thenEnv, elseEnv)
	}
	return false
}

// equalsLiteral reads "x == 'lit'" (or "!=", either side): in the branch
// where it holds, x is that literal, so a call under
// "if stage == 'Production':" is judged, and reported, for "Production".
func (s *scope) equalsLiteral(cond *node) (*node, *val, bool) {
	n := unparen(cond)
	if n == nil || n.kind != "comparison_operator" {
		return nil, nil, false
	}
	var ops []string
	for _, k := range n.kids {
		if k.fieldName() == "operators" {
			ops = append(ops, strings.TrimSpace(s.f.s.text(k)))
		}
	}
	operands := n.namedKids()
	if len(ops) != 1 || (ops[0] != "==" && ops[0] != "!=") || len(operands) != 2 {
		return nil, nil, false
	}
	for i, o := range operands {
		o = unparen(o)
		if o == nil || o.kind != "identifier" {
			continue
		}
		if v := s.quiet(operands[1-i]); v.known() {
			return o, strVal(v.tmpl), ops[0] == "=="
		}
	}
	return nil, nil, false
}

func (s *scope) isExitCall(c *node) bool {
	switch s.calleeQual(c) {
	case "sys.exit", "builtins.exit", "builtins.quit", "os._exit", "flask.abort", "werkzeug.exceptions.abort":
		return true
	}
	return s.calleeName(c) == "abort"
}

// imports binds import statements in the current scope.
func (s *scope) imports(n *node) {
	tx := s.f.s.text
	switch n.kind {
	case "import_statement":
		for _, k := range n.kids {
			if k.fieldName() != "name" {
				continue
			}
			switch k.kind {
			case "dotted_name":
				full := tx(k)
				first := full
				if i := strings.IndexByte(full, '.'); i >= 0 {
					first = full[:i]
				}
				s.env[first] = &val{qual: normQual(strings.TrimSpace(first))}
			case "aliased_import":
				s.env[tx(k.child("alias"))] = &val{qual: normQual(dotted(tx(k.child("name"))))}
			}
		}
	case "import_from_statement":
		mod := n.child("module_name")
		m := dotted(tx(mod))
		rel := mod != nil && mod.kind == "relative_import"
		for _, k := range n.kids {
			if k.fieldName() != "name" {
				continue
			}
			var name, local string
			switch k.kind {
			case "dotted_name":
				name = dotted(tx(k))
				local = name
				if i := strings.LastIndexByte(local, '.'); i >= 0 {
					local = local[i+1:]
				}
			case "aliased_import":
				name = dotted(tx(k.child("name")))
				local = tx(k.child("alias"))
			default:
				continue
			}
			if rel {
				s.env[local] = &val{t: tComp}
				if p := s.f.pkg.relModule(relDots(m), strings.TrimLeft(m, "."), name); p != "" {
					s.env[local].inst = modPrefix + p
				}
				continue
			}
			s.env[local] = &val{qual: normQual(m + "." + name)}
		}
	}
}

// relDots counts the leading dots of a relative import's module.
func relDots(m string) int { return len(m) - len(strings.TrimLeft(m, ".")) }

// dotted removes whitespace inside dotted names ("a . b").
func dotted(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\\' }), "")
}

// clone and merge copy environments at branches; their cost is charged to
// the work budget so files with huge scopes and many branches stay bounded.
func (s *scope) clone(m map[string]*val) map[string]*val {
	s.f.ops += len(m) / 2
	return cloneEnv(m)
}

func (s *scope) merge(a, b map[string]*val) map[string]*val {
	s.f.ops += (len(a) + len(b)) / 2
	return mergeEnv(a, b)
}

// apply records what a guard established on the surviving path.
func (s *scope) apply(g guardInfo) {
	if !g.lenOnly {
		s.sanitize(g.names)
		return
	}
	for _, n := range g.names {
		if v := s.lookup(n); v != nil && !v.bounded {
			b := *v
			b.bounded = true
			s.env[n] = &b
		}
	}
}
