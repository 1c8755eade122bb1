package python

import "strings"

// handlerDecorators are decorator method names that make a function a web
// (or CLI) entry point whose parameters the outside world fills.
var handlerDecorators = map[string]bool{
	"route": true, "get": true, "post": true, "put": true, "delete": true, "patch": true, "head": true,
	"options": true, "api_route": true, "websocket": true, "api_view": true, "action": true,
}

// cliDecorators make a function a command-line entry point (click, typer).
var cliDecorators = map[string]bool{"command": true, "option": true, "argument": true, "group": true, "callback": true}

// function walks one function body as its own scope.
func (f *fileCtx) function(def, decorated *node, parent *scope, ci *classInfo) {
	tx := f.s.text
	sc := newScope(f, def, nil)
	if parent != nil && parent.fn != nil && parent.fn.kind == "function_definition" {
		sc.parent = parent
	}
	sc.class = ci
	name := tx(def.child("name"))
	nested := sc.parent != nil
	public := !nested && (!strings.HasPrefix(name, "_") || strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__"))
	handler, cli, fixture := false, false, false
	if decorated != nil {
		for _, d := range decorated.kids {
			if d.kind != "decorator" {
				continue
			}
			e := unparen(d.firstNamed())
			if e != nil && e.kind == "call" {
				e = unparen(e.child("function"))
			}
			if e != nil && e.kind == "attribute" && handlerDecorators[tx(e.child("attribute"))] && !mockDecorator(tx(e.child("object"))) {
				handler = true
			}
			if e != nil && (fixtureDecorator(tx(e)) || e.kind == "attribute" && mockDecorator(tx(e.child("object")))) {
				fixture = true // pytest fixtures and @mock.patch-ed tests
			}
			if e != nil && e.kind == "attribute" && cliDecorators[tx(e.child("attribute"))] {
				cli = true
			}
		}
	}
	params := def.child("parameters")
	first := true
	idx := 0 // position as a caller counts it (self/cls not counted)
	for _, p := range params.namedKids() {
		var id *node
		var dflt, typ *node
		switch p.kind {
		case "identifier":
			id = p
		case "typed_parameter", "list_splat_pattern", "dictionary_splat_pattern":
			id, typ = p.firstNamed(), p.child("type")
			if id != nil && id.kind != "identifier" {
				id = id.firstNamed()
			}
		case "default_parameter", "typed_default_parameter":
			id, dflt, typ = p.child("name"), p.child("value"), p.child("type")
		}
		if id == nil || id.kind != "identifier" {
			continue
		}
		pn := tx(id)
		if first && ci != nil && (pn == "self" || pn == "cls") {
			sc.selfName = pn
			sc.env[pn] = &val{inst: "self"}
			first = false
			continue
		}
		v := &val{t: tComp}
		injected := dflt != nil && dflt.kind == "call" && strings.Contains(tx(dflt.child("function")), "Depends")
		switch {
		case injected:
		case ownContextParam(name, ci != nil, pn):
			v.own = true
		case ownParam(name, ci != nil, pn, fixture):
		case handler:
			v = &val{t: tUser, src: "request parameter '" + pn + "'"}
		case cli:
			v = &val{t: tCLI, src: "command-line option '" + pn + "'"}
		case first && pn == "request":
			v = &val{t: tUser, src: "the request"}
		case public:
			v = &val{t: tParam, src: "parameter '" + pn + "'"}
		}
		if ct := f.callerTaint(name, idx, pn); ct != nil && ci == nil && !injected && !v.own && v.t&(tUser|tCLI) == 0 {
			nv := *ct
			nv.t |= v.t
			nv.src = "parameter '" + pn + "', given " + ct.src
			v = &nv
		}
		idx++
		model := f.modelParam(typ)
		if handler && v.t&tUser != 0 {
			// FastAPI validates a typed parameter before the handler runs
			switch max(f.annotationCheck(typ), f.constraintCheck(dflt)) {
			case fieldClean:
				v = cleaned(v)
			case fieldBounded:
				c := *v
				c.bounded = true
				v = &c
			}
		}
		if model != "" {
			v.inst = "model:" + model
		} else if pn == "request" || pn == "req" {
			if tp := p.child("type"); tp != nil || first || handler {
				v.inst = "request"
				if v.t&(tUser) == 0 && handler {
					v.t = tUser
				}
			}
		}
		if dflt != nil {
			if d := sc.eval(dflt); d.hasNum {
				v.num, v.hasNum = d.num, true
			}
		}
		sc.env[pn] = v
		first = false
	}
	f.prescan(sc, def.child("body"))
	sc.block(def.child("body"))
}

// prescan looks at a whole function body for facts that hold no matter
// where they appear: a recorded approval, a stage check on registry results.
func (f *fileCtx) prescan(sc *scope, body *node) {
	tx := f.s.text
	ap := f.policy.Approval
	walk(body, func(n *node) bool {
		if n != body && isScopeNode(n) {
			return false
		}
		switch n.kind {
		case "call":
			name := sc.calleeName(n)
			low := strings.ToLower(name)
			if strings.Contains(low, "approv") {
				sc.approval = true
			}
			if name == "set_model_version_tag" || name == "set_registered_model_tag" {
				if a := n.child("arguments"); a != nil {
					for _, k := range a.namedKids() {
						if k.kind == "keyword_argument" {
							k = k.child("value")
						}
						t := strings.ToLower(tx(k))
						if strings.Contains(t, "approv") || (ap.ApprovedBy != "" && strings.Contains(t, strings.ToLower(ap.ApprovedBy))) {
							sc.approval = true
						}
					}
				}
			}
		case "attribute":
			switch tx(n.child("attribute")) {
			case "current_stage", "tags", "aliases", "status":
				sc.checked = true
			}
		}
		return true
	})
}

// class walks a class body; methods see what any method stored on self.
func (f *fileCtx) class(n *node, parent *scope) {
	ci := &classInfo{attrs: map[string]*val{}}
	f.classes[n] = ci
	body := n.child("body")
	tx := f.s.text
	// first pass: self.x = <expr> in any method, typed without side effects
	walk(body, func(x *node) bool {
		if x.kind == "class_definition" && x != n {
			return false
		}
		if x.kind == "assignment" {
			l := x.child("left")
			if l != nil && l.kind == "attribute" {
				if o := l.child("object"); o != nil && tx(o) == "self" {
					ci.attrs[tx(l.child("attribute"))] = parent.typeOf(x.child("right"))
				}
			}
		}
		return true
	})
	cs := newScope(f, n, nil)
	for _, st := range body.namedKids() {
		switch st.kind {
		case "function_definition":
			f.later(parent, func() { f.function(st, nil, parent, ci) })
		case "decorated_definition":
			def := st.child("definition")
			for _, d := range st.kids {
				if d.kind == "decorator" {
					cs.eval(d.firstNamed())
				}
			}
			if def != nil && def.kind == "function_definition" {
				f.later(parent, func() { f.function(def, st, parent, ci) })
			} else if def != nil {
				cs.stmt(def)
			}
		default:
			cs.stmt(st)
		}
	}
}

// typeOf gives the constant or instance type of an expression without
// evaluating calls (no checks, no taint).
func (s *scope) typeOf(n *node) *val {
	n = unparen(n)
	if n == nil {
		return &val{t: tComp}
	}
	switch n.kind {
	case "string", "integer", "float", "true", "false", "none", "concatenated_string":
		v := *s.eval(n)
		v.t &^= untrusted
		return &v
	case "call":
		switch s.calleeQual(n) {
		case "mlflow.MlflowClient":
			return &val{inst: "mlflow.MlflowClient"}
		case "boto3.client", "boto3.session.Session.client":
			return &val{inst: "boto3.client"}
		}
	}
	return &val{t: tComp}
}
