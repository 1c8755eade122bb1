package deploy

import (
	"encoding/json"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

func errAt(p string, line int, msg string) finding.Error {
	return finding.Error{Path: p, Line: line, Kind: "parse", Message: msg}
}

// dfInstr is one Dockerfile instruction after joining continuation lines.
type dfInstr struct {
	cmd  string // upper-case
	rest string
	line int
	col  int // column where rest starts (on the first line)
}

// dockerLines splits a Dockerfile into instructions: continuation lines
// joined, comment lines dropped, RUN heredocs kept with their body.
func dockerLines(src string) ([]dfInstr, []finding.Error) {
	lines := strings.Split(src, "\n")
	var out []dfInstr
	var errs []finding.Error
	for i := 0; i < len(lines); i++ {
		raw := strings.TrimRight(lines[i], "\r")
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i
		var b strings.Builder
		cur := raw
		for {
			c := strings.TrimRight(cur, " \t\r")
			if strings.HasSuffix(c, `\`) && i+1 < len(lines) {
				b.WriteString(strings.TrimSuffix(c, `\`))
				b.WriteString(" ")
				i++
				// comment lines inside a continuation are removed
				for i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
					i++
				}
				if i >= len(lines) {
					break
				}
				cur = lines[i]
				continue
			}
			b.WriteString(c)
			break
		}
		full := b.String()
		lead := len(full) - len(strings.TrimLeft(full, " \t"))
		body := strings.TrimLeft(full, " \t")
		word, rest, _ := strings.Cut(body, " ")
		if tab := strings.IndexByte(word, '\t'); tab >= 0 {
			word, rest = word[:tab], word[tab+1:]+" "+rest
		}
		cmd := strings.ToUpper(word)
		if !isDockerInstr(cmd) {
			errs = append(errs, errAt("", start+1, "Dockerfile: unknown instruction "+quoteShort(word)))
			continue
		}
		r := strings.TrimLeft(rest, " \t")
		col := lead + len(word) + 1 + (len(rest) - len(r)) + 1
		// heredoc: RUN <<EOF ... EOF
		if (cmd == "RUN" || cmd == "COPY") && strings.Contains(r, "<<") {
			if delim := heredocDelim(r); delim != "" {
				var hb strings.Builder
				hb.WriteString(r)
				for i+1 < len(lines) {
					i++
					hb.WriteString("\n")
					hb.WriteString(strings.TrimRight(lines[i], "\r"))
					if strings.TrimSpace(lines[i]) == delim {
						break
					}
				}
				r = hb.String()
			}
		}
		out = append(out, dfInstr{cmd: cmd, rest: r, line: start + 1, col: col})
	}
	return out, errs
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

func heredocDelim(s string) string {
	i := strings.Index(s, "<<")
	fs := strings.Fields(strings.TrimLeft(s[i+2:], "-~"))
	if len(fs) == 0 {
		return ""
	}
	return strings.Trim(fs[0], `"'`)
}

var dockerInstrs = map[string]bool{"FROM": true, "RUN": true, "CMD": true, "ENTRYPOINT": true, "ENV": true, "ARG": true, "USER": true, "LABEL": true, "EXPOSE": true, "COPY": true, "ADD": true, "WORKDIR": true, "VOLUME": true, "HEALTHCHECK": true, "SHELL": true, "STOPSIGNAL": true, "ONBUILD": true, "MAINTAINER": true}

func isDockerInstr(c string) bool { return dockerInstrs[c] }

// dfCommand is a CMD or ENTRYPOINT: exec form (argv) or shell form.
type dfCommand struct {
	exec  []val
	shell string
	line  int
	col   int
	set   bool
}

func (j *judge) dockerfile(src string) {
	instrs, errs := dockerLines(src)
	for _, e := range errs {
		e.Path = j.path
		j.f.errs = append(j.f.errs, e)
	}
	globalArgs := env{}
	var stageEnv env
	var user val
	var fromLine, fromCol int
	var ep, cmd dfCommand
	stageMLflow := false
	exposes := false
	fromImage := ""
	inStage := false
	before := 0
	tmpl := &server{inContainer: true, origin: "docker", image: j.path}
	endStage := func(final bool) {
		if !inStage {
			return
		}
		if final {
			// a compose service that builds this file runs this stage
			j.f.images = append(j.f.images, &imageDef{path: j.path, ep: ep, cmd: cmd, env: stageEnv})
		}
		j.dockerStart(ep, cmd, stageEnv, tmpl)
		served := len(j.f.servers) > before
		if served {
			stageMLflow = true
		}
		if !final || !stageMLflow {
			return
		}
		u := strings.ToLower(strings.TrimSpace(user.s))
		name, _, _ := strings.Cut(u, ":")
		var at *pendingRoot
		switch {
		case user.line == 0 && nonRootBase(fromImage):
			// the base image already switches to a non-root user
		case user.line == 0:
			at = &pendingRoot{path: j.path, line: fromLine, col: fromCol, msg: "the MLflow image has no USER instruction and runs as root; add a non-root USER (e.g. USER 10001)"}
		case user.known && (name == "root" || name == "0"):
			at = &pendingRoot{path: user.path, line: user.line, col: user.col, msg: "the MLflow image runs as root; switch to a non-root USER"}
		}
		switch {
		case at == nil:
		case served || exposes:
			// it serves (or publishes a port to serve on)
			j.addIn(rules.CtxDockerfile, "MLG410", at.path, at.line, at.col, "%s", at.msg)
		case ep.set || cmd.set:
			if !clientRun(dockerArgv(ep, cmd)) {
				j.addIn(rules.CtxDockerfile, "MLG410", at.path, at.line, at.col, "%s", at.msg)
			}
		default:
			// no command of its own: a compose service that builds it, an
			// MLproject docker_env or the base image decides what runs;
			// Finish judges it with the compose services it knows
			j.f.images[len(j.f.images)-1].root = at
		}
	}
	last := -1
	for i, in := range instrs {
		if in.cmd == "FROM" {
			last = i
		}
	}
	for i, in := range instrs {
		if !j.spend(1, in.line) {
			break
		}
		switch in.cmd {
		case "FROM":
			endStage(false)
			inStage = true
			stageEnv = j.cloneEnv(globalArgs, in.line)
			user = val{}
			ep, cmd = dfCommand{}, dfCommand{}
			fromLine, fromCol = in.line, 1
			stageMLflow = strings.Contains(strings.ToLower(in.rest), "mlflow")
			fromImage = fromRef(in.rest)
			exposes = false
			before = len(j.f.servers)
			_ = i
		case "ARG", "ENV":
			target := stageEnv
			if !inStage {
				target = globalArgs
			}
			j.dockerAssign(in, target)
		case "EXPOSE":
			exposes = true
		case "USER":
			user = val{s: strings.TrimSpace(in.rest), known: !strings.Contains(in.rest, "$"), line: in.line, col: in.col, path: j.path, literal: true}
		case "RUN":
			if strings.Contains(strings.ToLower(in.rest), "mlflow") && (strings.Contains(in.rest, "pip") || strings.Contains(in.rest, "uv ") || strings.Contains(in.rest, "conda")) {
				stageMLflow = true
			}
			if argv, ok := execForm(in); ok {
				j.words(argv)
				continue
			}
			c := &shellCtx{j: j, vars: j.cloneEnv(stageEnv, in.line), line0: in.line, col0: in.col, tmpl: nil, judgeAssign: true}
			// a RUN does not start the served process: collect only errors
			// and findings, not servers
			n := len(j.f.servers)
			if e := c.run(in.rest); e != nil {
				j.f.errs = append(j.f.errs, *e)
			}
			j.f.servers = j.f.servers[:n]
		case "CMD", "ENTRYPOINT":
			dc := dfCommand{line: in.line, col: in.col, set: true}
			if argv, ok := execForm(in); ok {
				dc.exec = argv
			} else {
				dc.shell = in.rest
			}
			if in.cmd == "CMD" {
				cmd = dc
			} else {
				ep = dc
				cmd = dfCommand{} // an ENTRYPOINT resets an inherited CMD
			}
		}
	}
	_ = last
	endStage(true)
}

// dockerAssign reads ARG and ENV instructions (key=value pairs, or the
// legacy "ENV key value" form) into the stage's environment.
func (j *judge) dockerAssign(in dfInstr, target env) {
	r := strings.TrimSpace(in.rest)
	if r == "" {
		return
	}
	first, _, _ := strings.Cut(r, " ")
	if !strings.Contains(first, "=") {
		name, value, _ := strings.Cut(r, " ")
		if in.cmd == "ARG" {
			return // ARG without a default: unknown
		}
		v := val{s: strings.TrimSpace(value), known: !strings.Contains(value, "$"), literal: true, line: in.line, col: in.col, path: j.path}
		target[name] = v
		j.envVar(name, v)
		return
	}
	c := &shellCtx{j: j, vars: target, line0: in.line, col0: in.col, judgeAssign: in.cmd == "ENV"}
	if e := c.run(r); e != nil {
		j.f.errs = append(j.f.errs, *e)
	}
}

// execForm parses a JSON array instruction; Docker treats anything that is
// not a valid JSON string array as shell form.
func execForm(in dfInstr) ([]val, bool) {
	r := strings.TrimSpace(in.rest)
	if !strings.HasPrefix(r, "[") {
		return nil, false
	}
	var ss []string
	if err := json.Unmarshal([]byte(r), &ss); err != nil {
		return nil, false
	}
	out := make([]val, len(ss))
	for i, s := range ss {
		out[i] = val{s: s, known: true, literal: true, line: in.line, col: in.col}
	}
	return out, true
}

// dockerStart builds the process the image starts from ENTRYPOINT and CMD.
func (j *judge) dockerStart(ep, cmd dfCommand, e env, tmpl *server) {
	fix := func(vs []val) []val {
		for i := range vs {
			vs[i].path = j.path
		}
		return vs
	}
	switch {
	case ep.set && ep.exec != nil:
		argv := fix(append(append([]val{}, ep.exec...), cmd.exec...))
		if cmd.shell != "" {
			// CMD in shell form becomes "/bin/sh -c ..." arguments
			argv = append(argv, val{s: "/bin/sh", known: true, line: cmd.line, path: j.path}, val{s: "-c", known: true, line: cmd.line, path: j.path}, val{s: cmd.shell, known: true, line: cmd.line, col: cmd.col, path: j.path})
		}
		j.words(argv)
		c := &shellCtx{j: j, vars: e, tmpl: tmpl}
		c.command(argv, e)
	case ep.set:
		j.dockerShell(ep, e, tmpl)
	case cmd.exec != nil:
		argv := fix(cmd.exec)
		j.words(argv)
		c := &shellCtx{j: j, vars: e, tmpl: tmpl}
		c.command(argv, e)
	case cmd.set:
		j.dockerShell(cmd, e, tmpl)
	}
}

func (j *judge) dockerShell(dc dfCommand, e env, tmpl *server) {
	c := &shellCtx{j: j, vars: j.cloneEnv(e, dc.line), line0: dc.line, col0: dc.col, tmpl: tmpl}
	if err := c.run(dc.shell); err != nil {
		j.f.errs = append(j.f.errs, *err)
	}
}
