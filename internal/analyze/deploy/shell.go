package deploy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"mvdan.cc/sh/v3/syntax"
)

// shellCtx interprets shell source just far enough to know each command's
// words: assignments and exports are tracked in order, so "$PORT" resolves
// to the value assigned above it; anything else ($(...), unknown variables)
// stays unresolved.
type shellCtx struct {
	j *judge
	// vars are the variables and environment visible to the script.
	vars env
	// line0/col0 place the source inside its file (a Dockerfile RUN, an
	// sh -c string, a Makefile recipe).
	line0, col0 int
	// indent is the columns cut from every line of the source (a YAML
	// block scalar read without its indentation); positions add it back.
	indent int
	depth  int
	// tmpl carries what the surrounding file knows about the process
	// (container, names, env files) into every server found.
	tmpl *server
	// judgeAssign: judge assignments as environment (false where the caller
	// already judged them, e.g. a Dockerfile's ENV).
	judgeAssign bool
	// args are the positional parameters of a followed entrypoint script
	// ("$@", $1...); hasArgs says they are known.
	args    []val
	hasArgs bool
}

func (c *shellCtx) at(p syntax.Pos) (int, int) {
	if !p.IsValid() {
		return c.line0, c.col0
	}
	l, col := int(p.Line()), int(p.Col())
	if l == 1 {
		return c.line0, c.col0 + col - 1
	}
	return c.line0 + l - 1, col + c.indent
}

// run parses and interprets src; a parse error is returned as an input
// error at its absolute line.
func (c *shellCtx) run(src string) *finding.Error {
	if c.j.b.stopped {
		return nil
	}
	if l := shellNesting(src); l > 0 {
		line, _ := c.at(syntax.NewPos(0, uint(l), 1))
		c.j.limitErr(fmt.Sprintf("nesting:%d", line), line, "shell: nesting deeper than %d levels at line %d; this script was not checked", maxShellDepth, line)
		return nil
	}
	f, err := parseShell(src)
	if err != nil {
		line := c.line0
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			line, _ = c.at(pe.Pos)
			return &finding.Error{Path: c.j.path, Line: line, Kind: "parse", Message: "shell: " + pe.Text}
		}
		var le syntax.LangError
		if errors.As(err, &le) {
			line, _ = c.at(le.Pos)
		}
		return &finding.Error{Path: c.j.path, Line: line, Kind: "parse", Message: fmt.Sprintf("shell: %v", err)}
	}
	// the walk recurses once per level of the tree, which a long a && b &&
	// ... chain or arithmetic expression makes deep: levels past
	// maxWalkDepth are not visited, and that is reported
	depth, line := 0, c.line0
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			depth--
			return true
		}
		// the line of the innermost statement: Pos() of an arithmetic or
		// test expression recurses down its left operands, as deep as
		// the expression is long
		if st, ok := n.(*syntax.Stmt); ok {
			line, _ = c.at(st.Position)
		}
		if depth >= maxWalkDepth {
			c.j.limitErr("walkdepth", line, "shell: commands nested deeper than %d levels at line %d were not checked", maxWalkDepth, line)
			return false
		}
		if !c.j.spend(1, line) {
			return false
		}
		depth++
		switch x := n.(type) {
		case *syntax.CallExpr:
			c.call(x)
		case *syntax.DeclClause:
			if x.Variant != nil && (x.Variant.Value == "export" || x.Variant.Value == "declare" || x.Variant.Value == "readonly" || x.Variant.Value == "local") {
				for _, a := range x.Args {
					c.assign(a, c.vars)
				}
			}
		}
		return true
	})
	return nil
}

func (c *shellCtx) assign(a *syntax.Assign, into env) {
	if a == nil || a.Name == nil || a.Naked || a.Array != nil {
		return
	}
	var v val
	if a.Value == nil {
		l, col := c.at(a.Pos())
		v = val{s: "", known: true, literal: true, line: l, col: col, path: c.j.path}
	} else {
		v = c.word(a.Value)
		v.line, v.col = c.at(a.Pos())
	}
	into[a.Name.Value] = v
	if c.judgeAssign {
		c.j.envVar(a.Name.Value, v)
	}
}

func (c *shellCtx) call(x *syntax.CallExpr) {
	if len(x.Args) == 0 {
		for _, a := range x.Assigns {
			c.assign(a, c.vars)
		}
		return
	}
	e := c.vars
	if len(x.Assigns) > 0 {
		l, _ := c.at(x.Pos())
		e = c.j.cloneEnv(c.vars, l)
		for _, a := range x.Assigns {
			c.assign(a, e)
		}
	}
	argv := make([]val, 0, len(x.Args))
	for _, w := range x.Args {
		if c.hasArgs && allArgs(w) {
			argv = append(argv, c.args...) // "$@": each argument a word
			continue
		}
		argv = append(argv, c.word(w))
	}
	c.j.words(argv)
	c.command(argv, e)
}

// command handles one resolved argument vector: `sh -c` strings are parsed
// in turn; MLflow server starts become server models.
func (c *shellCtx) command(argv []val, e env) {
	if len(argv) == 0 {
		return
	}
	if b := base(argv[0].s); argv[0].known && (b == "sh" || b == "bash" || b == "dash" || b == "zsh" || b == "ash" || b == "ksh") {
		if len(argv) > 1 && argv[1].known && !strings.HasPrefix(argv[1].s, "-") {
			c.j.scriptCall(argv[1:], e, c.tmpl) // sh script.sh args
			return
		}
		for i := 1; i+1 < len(argv); i++ {
			if argv[i].known && strings.HasPrefix(argv[i].s, "-") && strings.Contains(argv[i].s, "c") && !strings.HasPrefix(argv[i].s, "--") {
				script := argv[i+1]
				if script.known && c.depth < 4 {
					sub := &shellCtx{j: c.j, vars: c.j.cloneEnv(e, script.line), line0: script.line, col0: script.col + 1, depth: c.depth + 1, tmpl: c.tmpl, judgeAssign: c.judgeAssign}
					if perr := sub.run(script.s); perr != nil {
						c.j.f.errs = append(c.j.f.errs, *perr)
					}
				}
				return
			}
		}
		return
	}
	c.j.invoke(argv, e, c.tmpl)
}

// invoke turns an argument vector into a server model if it starts one.
func (j *judge) invoke(argv []val, e env, tmpl *server) {
	inv := classify(argv)
	if inv.kind == "guard" {
		j.guardFront(inv, e, tmpl)
		return
	}
	if inv.kind == "" {
		j.scriptCall(inv.cmd, e, tmpl)
		return
	}
	if inv.kind == "models" {
		return
	}
	if len(j.f.servers) >= maxServersFile {
		j.limitErr("servers", inv.at.line, "deploy: over %d server starts in one file; those from line %d on were not checked", maxServersFile, inv.at.line)
		return
	}
	s := &server{path: j.path, line: inv.at.line, col: inv.at.col, opts: map[string]val{}, env: j.cloneEnv(e, inv.at.line)}
	if s.path == "" || inv.at.path != "" {
		s.path = inv.at.path
	}
	if s.path == "" {
		s.path = j.path
	}
	if tmpl != nil {
		s.context(tmpl)
	}
	for _, w := range inv.envs {
		name, value, _ := strings.Cut(w.s, "=")
		v := w
		v.s = value
		s.env[name] = v
		j.envVar(name, v)
	}
	switch inv.kind {
	case "server":
		s.kind = "server"
		parseServerArgs(inv.args, s.opts)
		if v, ok := s.opts["app-name"]; ok {
			// any auth app (basic-auth, the OIDC plugin's oidc-auth); an
			// unresolved name is not guessed to be insecure
			s.auth = !v.known || strings.Contains(strings.ToLower(v.s), "auth")
		}
	default:
		s.kind = inv.kind
		s.auth = parseASGIArgs(inv.kind, inv.args, s.opts)
		if _, ok := s.opts["host"]; !ok {
			// gunicorn and uvicorn default to 127.0.0.1; a GUNICORN_CMD_ARGS
			// bind is read too
			if ga, ok := e["GUNICORN_CMD_ARGS"]; ok && ga.known && inv.kind == "gunicorn" {
				parseASGIArgs("gunicorn", splitFields(ga), s.opts)
			}
		}
	}
	j.f.servers = append(j.f.servers, s)
}

// splitFields splits a value on spaces, keeping its location.
func splitFields(v val) []val {
	var out []val
	for _, f := range strings.Fields(v.s) {
		w := v
		w.s = f
		out = append(out, w)
	}
	return out
}

// word resolves a shell word to its value when every part is known.
func (c *shellCtx) word(w *syntax.Word) val {
	var b strings.Builder
	known, literal := true, true
	l, col := c.at(w.Pos())
	c.parts(w.Parts, &b, &known, &literal, l)
	v := val{s: b.String(), known: known, literal: literal, line: l, col: col, path: c.j.path}
	if !known {
		var r strings.Builder
		rawParts(w.Parts, &r)
		v.raw = r.String()
	}
	return v
}

// rawParts writes a word as written, unresolved parameters as ${NAME}
// (with a default, ${NAME:-default}).
func rawParts(ps []syntax.WordPart, b *strings.Builder) {
	for _, p := range ps {
		if b.Len() > maxValue {
			return
		}
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(x.Value))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			rawParts(x.Parts, b)
		case *syntax.ParamExp:
			name := "?"
			if x.Param != nil {
				name = x.Param.Value
			}
			b.WriteString("${" + name)
			if e := x.Exp; e != nil && e.Word != nil && (e.Op == syntax.DefaultUnset || e.Op == syntax.DefaultUnsetOrNull || e.Op == syntax.AssignUnset || e.Op == syntax.AssignUnsetOrNull) {
				// the default stays visible: ${DB_HOST:-localhost}
				b.WriteString(e.Op.String())
				rawParts(e.Word.Parts, b)
			}
			b.WriteString("}")
		default:
			b.WriteString("$(?)")
		}
	}
}

// allArgs: the word is "$@" or $@ ("$*" too): every positional parameter.
func allArgs(w *syntax.Word) bool {
	ps := w.Parts
	if len(ps) == 1 {
		if dq, ok := ps[0].(*syntax.DblQuoted); ok {
			ps = dq.Parts
		}
	}
	if len(ps) != 1 {
		return false
	}
	x, ok := ps[0].(*syntax.ParamExp)
	return ok && x.Param != nil && (x.Param.Value == "@" || x.Param.Value == "*") && !x.Excl && !x.Length && x.Index == nil && x.Slice == nil && x.Repl == nil && x.Exp == nil
}

func (c *shellCtx) parts(ps []syntax.WordPart, b *strings.Builder, known, literal *bool, line int) {
	for _, p := range ps {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(x.Value))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			c.parts(x.Parts, b, known, literal, line)
		case *syntax.ParamExp:
			*literal = false
			if x.Param == nil || x.Excl || x.Length || x.Index != nil || x.Slice != nil || x.Repl != nil {
				*known = false
				continue
			}
			v, ok := c.vars[x.Param.Value]
			if n := x.Param.Value; c.hasArgs && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
				// a positional parameter of a followed script
				ok = int(n[0]-'0') <= len(c.args)
				if ok {
					v = c.args[n[0]-'1']
				}
			}
			if x.Exp != nil {
				ok = false // ${1:-default} and friends: not resolved
			}
			if !ok || !v.known {
				*known = false
				continue
			}
			if !c.j.expand(b.Len(), len(v.s), line) {
				*known = false
				continue
			}
			b.WriteString(v.s)
		default:
			*known, *literal = false, false
		}
	}
}

// unescape drops shell backslash escapes from a literal.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseShell(src string) (*syntax.File, error) {
	return syntax.NewParser(syntax.KeepComments(false)).Parse(strings.NewReader(src), "")
}
