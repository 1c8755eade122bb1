package python

import (
	"strconv"
	"strings"
)

// eval computes the abstract value of an expression and, on the way, checks
// every call inside it exactly once.
func (s *scope) eval(n *node) *val {
	if n == nil {
		return unknownVal
	}
	if !s.budget() {
		return unknownVal
	}
	tx := s.f.s.text
	switch n.kind {
	case "identifier":
		return s.name(tx(n))
	case "string":
		return s.str(n)
	case "concatenated_string":
		var out *val
		for _, k := range n.namedKids() {
			v := s.eval(k)
			if out == nil {
				out = v
			} else {
				out = concat(out, v)
			}
		}
		if out == nil {
			return strVal("")
		}
		return out
	case "integer", "float":
		t := strings.ReplaceAll(strings.ToLower(tx(n)), "_", "")
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return &val{num: f, hasNum: true}
		}
		if i, err := strconv.ParseInt(t, 0, 64); err == nil {
			return &val{num: float64(i), hasNum: true}
		}
		return &val{}
	case "true":
		return &val{boolv: true, hasBool: true}
	case "false":
		return &val{hasBool: true}
	case "none":
		return &val{none: true}
	case "parenthesized_expression", "await", "expression_list_item":
		var out *val
		for _, k := range n.namedKids() {
			out = s.eval(k)
		}
		if out == nil {
			return unknownVal
		}
		return out
	case "call":
		return s.evalCall(n)
	case "attribute":
		return s.attr(n)
	case "subscript":
		return s.subscript(n)
	case "binary_operator":
		return s.binop(n)
	case "list", "tuple", "set", "expression_list":
		out := &val{isList: true}
		for _, k := range n.kids {
			if !k.named || k.kind == "comment" {
				continue
			}
			v := s.eval(k)
			if len(out.list) < maxElems {
				out.list = append(out.list, v)
			}
			d := derive(0, v)
			out.t |= d.t
			if out.src == "" {
				out.src = d.src
			}
			out.from = appendUniq(out.from, v.from...)
		}
		return out
	case "dictionary":
		return s.dictLit(n)
	case "conditional_expression":
		ks := n.namedKids()
		var vs []*val
		for i, k := range ks {
			v := s.eval(k)
			if i != 1 { // a if cond else b: index 1 is the condition
				vs = append(vs, v)
			}
		}
		if len(vs) == 2 {
			return join(vs[0], vs[1])
		}
		return unknownVal
	case "boolean_operator":
		l := s.eval(n.child("left"))
		r := s.eval(n.child("right"))
		return join(l, r)
	case "not_operator", "comparison_operator":
		for _, k := range n.namedKids() {
			s.eval(k)
		}
		return &val{hasBool: true}
	case "unary_operator":
		v := s.eval(n.child("argument"))
		if v.hasNum && s.f.s.text(n.child("operator")) == "-" {
			return &val{num: -v.num, hasNum: true}
		}
		return derive(0, v)
	case "named_expression":
		v := s.eval(n.child("value"))
		s.bind(n.child("name"), v)
		return v
	case "lambda":
		sub := newScope(s.f, n, s)
		walk(n.child("parameters"), func(x *node) bool {
			if x.kind == "identifier" {
				sub.env[tx(x)] = unknownVal
			}
			return true
		})
		sub.eval(n.child("body"))
		return &val{t: tComp}
	case "list_comprehension", "set_comprehension", "generator_expression", "dictionary_comprehension":
		return s.comprehension(n)
	case "keyword_argument":
		return s.eval(n.child("value"))
	case "list_splat", "dictionary_splat", "parenthesized_list_splat":
		return s.eval(n.firstNamed())
	case "ellipsis":
		return &val{}
	case "comment", "type":
		return &val{}
	}
	var vs []*val
	for _, k := range n.namedKids() {
		vs = append(vs, s.eval(k))
	}
	return derive(tComp, vs...)
}

// builtinNames are Python builtins; a call to one resolves to "builtins.x".
var builtinNames = func() map[string]bool {
	m := map[string]bool{}
	for _, b := range strings.Fields(`abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex
	delattr dict dir divmod enumerate eval exec exit filter float format frozenset getattr globals hasattr hash help hex id input
	int isinstance issubclass iter len list locals map max memoryview min next object oct open ord pow print property quit range
	repr reversed round set setattr slice sorted staticmethod str sum super tuple type vars zip __import__ __file__ __name__
	__doc__ __spec__ __builtins__ __package__ __loader__ __path__ __debug__ NotImplemented Ellipsis self cls
	Exception BaseException ValueError TypeError KeyError RuntimeError OSError IOError FileNotFoundError PermissionError
	NotImplementedError AttributeError ImportError StopIteration AssertionError IndexError`) {
		m[b] = true
	}
	return m
}()

// wellKnownModules resolve even when a snippet uses them without importing.
var wellKnownModules = map[string]string{
	"mlflow": "mlflow", "os": "os", "sys": "sys", "pickle": "pickle", "joblib": "joblib", "torch": "torch",
	"np": "numpy", "numpy": "numpy", "pd": "pandas", "pandas": "pandas", "boto3": "boto3", "json": "json",
	"cloudpickle": "cloudpickle", "dill": "dill", "subprocess": "subprocess", "runpy": "runpy", "importlib": "importlib",
}

func (s *scope) name(n string) *val {
	if v := s.lookup(n); v != nil {
		if v.qual != "" || v.inst != "" {
			return v
		}
		out := *v
		out.from = []string{n}
		return &out
	}
	if s.f.bound[n] {
		// bound somewhere we have not seen yet (later at module level, another scope)
		return &val{t: tComp, from: []string{n}}
	}
	if n == "__file__" || n == "__name__" {
		return &val{}
	}
	if builtinNames[n] {
		return &val{qual: "builtins." + n}
	}
	if m, ok := wellKnownModules[n]; ok {
		return &val{qual: m}
	}
	if s.f.notebook {
		if q, ok := databricksRuntime[n]; ok {
			return &val{qual: q}
		}
	}
	if s.f.starImp {
		return &val{t: tComp}
	}
	if v := s.f.commentedValue(n); v != nil {
		return v
	}
	return &val{t: tFree, src: "undefined name '" + n + "'", from: []string{n}}
}

// str evaluates a string literal or f-string into a template.
func (s *scope) str(n *node) *val {
	out := &val{hasStr: true}
	var b strings.Builder
	for _, k := range n.kids {
		switch k.kind {
		case "string_content", "escape_sequence":
			b.WriteString(s.f.s.text(k))
		case "interpolation":
			v := s.eval(k.child("expression"))
			switch str, ok := v.asString(); {
			case b.Len() >= maxTmpl:
				// past the cap: the end is cut below, like capTmpl does
			case ok && k.child("format_specifier") == nil && k.child("type_conversion") == nil:
				b.WriteString(str)
			default:
				b.WriteString(hole)
			}
			d := derive(0, v)
			out.t |= d.t
			if out.src == "" {
				out.src = d.src
			}
			out.from = appendUniq(out.from, v.from...)
		}
	}
	out.tmpl = b.String()
	if len(out.tmpl) > maxTmpl {
		out.tmpl = capTmpl(out.tmpl, "")
	}
	return out
}

func (s *scope) binop(n *node) *val {
	l := s.eval(n.child("left"))
	r := s.eval(n.child("right"))
	op := s.f.s.text(n.child("operator"))
	switch op {
	case "+":
		// now() + timedelta(...) is a deadline that far away
		if l.inst == "timedelta" && l.hasNum && !r.hasNum {
			return &val{num: l.num, hasNum: true, inst: "timedelta"}
		}
		if r.inst == "timedelta" && r.hasNum && !l.hasNum {
			return &val{num: r.num, hasNum: true, inst: "timedelta"}
		}
		if l.hasNum && r.hasNum {
			return &val{num: l.num + r.num, hasNum: true}
		}
		if l.hasStr || r.hasStr {
			return concat(l, r)
		}
	case "*":
		if l.hasNum && r.hasNum {
			return &val{num: l.num * r.num, hasNum: true}
		}
	case "-":
		if l.hasNum && r.hasNum {
			return &val{num: l.num - r.num, hasNum: true}
		}
	case "//", "/":
		if l.hasNum && r.hasNum && r.num != 0 {
			return &val{num: l.num / r.num, hasNum: true}
		}
		if op == "/" && (l.inst == "path" || l.home) {
			out := concat(concat(l, strVal("/")), r)
			out.inst = "path"
			out.home = l.home
			return out
		}
	case "%":
		if l.hasStr {
			out := derive(0, l, r)
			p := l.tmpl
			if i := strings.IndexByte(p, '%'); i >= 0 {
				p = p[:i] + hole
			}
			out.tmpl, out.hasStr = p, true
			return out
		}
	}
	return derive(0, l, r)
}

func (s *scope) dictLit(n *node) *val {
	d := &dictv{vals: map[string]*val{}}
	out := &val{dict: d}
	for _, k := range n.namedKids() {
		switch k.kind {
		case "pair":
			kv := s.eval(k.child("key"))
			vv := s.eval(k.child("value"))
			if kv.known() && (len(d.keys) < maxElems || d.vals[kv.tmpl] != nil) {
				if _, ok := d.vals[kv.tmpl]; !ok {
					d.keys = append(d.keys, kv.tmpl)
				}
				d.vals[kv.tmpl] = vv
			} else {
				d.hasComp = true
				d.unknown |= kv.t | vv.t
			}
			dv := derive(0, kv, vv)
			out.t |= dv.t
			if out.src == "" {
				out.src = dv.src
			}
		case "dictionary_splat":
			v := s.eval(k.firstNamed())
			if v.envMap {
				out.envMap = true
			}
			if v.objDump {
				out.objDump = true
			}
			if v.dict != nil {
				for _, key := range v.dict.keys {
					if len(d.keys) >= maxElems {
						d.hasComp = true
						d.unknown |= v.t
						break
					}
					if _, ok := d.vals[key]; !ok {
						d.keys = append(d.keys, key)
					}
					d.vals[key] = v.dict.vals[key]
				}
			} else {
				d.hasComp = true
			}
			out.t |= v.t
		}
	}
	return out
}

func (s *scope) comprehension(n *node) *val {
	pre := s.env
	s.env = s.clone(pre)
	for _, k := range n.kids {
		if k.kind == "for_in_clause" {
			it := s.eval(k.child("right"))
			s.bind(k.child("left"), elemOf(it))
		}
	}
	for _, k := range n.kids {
		if k.kind == "if_clause" {
			s.eval(k.firstNamed())
		}
	}
	body := n.child("body")
	var v *val
	if body != nil && body.kind == "pair" {
		v = derive(0, s.eval(body.child("key")), s.eval(body.child("value")))
	} else {
		v = s.eval(body)
	}
	s.env = pre
	out := derive(0, v)
	out.isList = true
	if n.kind != "dictionary_comprehension" {
		out.list = []*val{v}
	} else {
		out.isList = false
		out.dict = &dictv{vals: map[string]*val{}, hasComp: true, unknown: v.t}
	}
	return out
}

// requestAttrs are Flask/Django/Starlette request members that carry
// client-supplied data.
var requestAttrs = map[string]bool{
	"args": true, "form": true, "json": true, "values": true, "files": true, "headers": true, "cookies": true,
	"data": true, "get_json": true, "get_data": true, "GET": true, "POST": true, "body": true, "query_params": true,
	"path_params": true, "stream": true, "FILES": true, "COOKIES": true, "META": true, "path": true, "url": true,
	"query_string": true, "view_args": true, "form_data": true,
}

func (s *scope) attr(n *node) *val {
	obj := n.child("object")
	an := s.f.s.text(n.child("attribute"))
	// self.x: this method's assignment first, then the class's
	if obj != nil && obj.kind == "identifier" {
		full := s.f.s.text(obj) + "." + an
		if v := s.lookup(full); v != nil {
			return v
		}
		if s.class != nil && s.f.s.text(obj) == s.selfName {
			if v, ok := s.class.attrs[an]; ok {
				return v
			}
			return &val{t: tComp}
		}
	}
	b := s.eval(obj)
	if b.qual != "" && !strings.HasPrefix(b.qual, "local.") {
		q := normQual(b.qual + "." + an)
		switch q {
		case "os.environ":
			return &val{envMap: true, t: tEnv, qual: q, src: "the environment"}
		case "sys.argv":
			return &val{t: tCLI, src: "sys.argv"}
		}
		if strings.HasPrefix(q, "flask.request.") || strings.HasPrefix(q, "bottle.request.") {
			return &val{t: tUser, src: "request data (" + q + ")"}
		}
		return &val{qual: q}
	}
	if b.inst == "request" && requestAttrs[an] {
		return &val{t: tUser, src: "request data (request." + an + ")"}
	}
	out := derive(0, b)
	switch an {
	case "__dict__":
		out.objDump = true
	case "current_stage", "aliases":
		out.copied = true
	case "parent", "name", "stem", "suffix", "parents":
		out.inst = "path"
	}
	if b.inst == "request" {
		out.inst = "request"
	}
	if an == "data" && b.bounded {
		out.bounded = true // a WTForms field's value keeps its Length(max=) bound
	}
	return s.f.modelField(b, an, out)
}

func (s *scope) subscript(n *node) *val {
	base := s.eval(n.child("value"))
	var keys []*val
	var slice *node
	for _, k := range n.kids {
		if k.fieldName() == "subscript" {
			if k.kind == "slice" {
				slice = k
				for _, x := range k.namedKids() {
					s.eval(x)
				}
			} else {
				keys = append(keys, s.eval(k))
			}
		}
	}
	if base.envMap {
		out := &val{t: tEnv, src: "the environment"}
		if len(keys) == 1 && keys[0].known() {
			out.envKey = keys[0].tmpl
			out.src = "environment variable " + keys[0].tmpl
		}
		return out
	}
	if slice != nil {
		out := derive(0, base)
		out.hasStr = false
		// x[:N] with a constant N bounds the length (MLG203)
		kids := slice.namedKids()
		if len(kids) >= 1 && slice.kids[0].kind == ":" {
			if v := s.eval(kids[0]); v.hasNum {
				out.bounded = true
			}
		}
		return out
	}
	if len(keys) == 1 {
		k := keys[0]
		if base.dict != nil && k.known() {
			if v, ok := base.dict.vals[k.tmpl]; ok {
				return v
			}
		}
		if base.isList && k.hasNum && int(k.num) >= 0 && int(k.num) < len(base.list) {
			return base.list[int(k.num)]
		}
	}
	// a lookup in a constant table is as trusted as the table (an allowlist map)
	out := derive(0, base)
	if base.dict != nil && !base.dict.hasComp && len(base.dict.keys) > 0 {
		vs := make([]*val, 0, len(base.dict.keys))
		for _, k := range base.dict.keys {
			vs = append(vs, base.dict.vals[k])
		}
		out = derive(0, vs...)
	} else if base.isList {
		out = elemOf(base)
	}
	if base.inst == "request" {
		out.t |= tUser
	}
	out.callees = localTable(base)
	if len(keys) == 1 {
		out.objDump = false // one attribute of an object is not the whole object
		if registryStateKey(keys[0]) {
			out.copied = true
		}
		if keys[0].known() {
			return s.f.modelField(base, keys[0].tmpl, out) // a field of a loaded schema
		}
	}
	return out
}
