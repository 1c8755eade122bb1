package deploy

import (
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// dotenv reads KEY=VALUE lines ("export " allowed, quotes stripped,
// trailing " #" comments dropped from unquoted values) and judges each.
func (j *judge) dotenv(src string) env {
	e := env{}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		raw := lines[i]
		if !j.spend(1, i+1) {
			break
		}
		t := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		t = strings.TrimPrefix(t, "export ")
		name, value, ok := strings.Cut(t, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\"'") {
			j.f.errs = append(j.f.errs, errAt(j.path, i+1, ".env: expected NAME=value"))
			continue
		}
		col := strings.Index(raw, "=") + 2
		v := val{known: true, literal: true, line: i + 1, col: col, path: j.path}
		value = strings.TrimSpace(value)
		if end, joined, ok := dotenvMultiline(value, lines, i); ok {
			value, i = joined, end // a quoted value spanning lines (a PEM key, a certificate)
		}
		switch {
		case len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0]:
			v.s = value[1 : len(value)-1]
		default:
			if k := strings.Index(value, " #"); k >= 0 {
				value = strings.TrimSpace(value[:k])
			}
			v.s = value
		}
		if strings.Contains(v.s, "${") || (strings.HasPrefix(v.s, "$") && len(v.s) > 1) {
			v.known, v.literal, v.raw = false, false, v.s
		}
		e[name] = v
		j.envVar(name, v)
	}
	return e
}

// ini judges MLflow's auth config (basic_auth.ini and files with [mlflow]).
func (j *judge) ini(src string) {
	section := ""
	for i, raw := range strings.Split(src, "\n") {
		t := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			if !strings.HasSuffix(t, "]") {
				j.f.errs = append(j.f.errs, errAt(j.path, i+1, "ini: unterminated section header"))
				continue
			}
			section = strings.ToLower(strings.TrimSpace(t[1 : len(t)-1]))
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			k, v, ok = strings.Cut(t, ":")
		}
		if !ok {
			j.f.errs = append(j.f.errs, errAt(j.path, i+1, "ini: expected key = value"))
			continue
		}
		if section != "mlflow" {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(k))
		vv := val{s: strings.TrimSpace(v), known: true, literal: true, line: i + 1, col: strings.Index(raw, "=") + 2, path: j.path}
		if strings.Contains(vv.s, "${") || strings.Contains(vv.s, "%(") {
			continue
		}
		switch key {
		case "admin_password":
			if !j.adminPassword(vv, "admin_password") && vv.s != "" {
				j.addAt("MLG403", vv, "admin_password is written into the auth config; set MLFLOW_AUTH_ADMIN_PASSWORD from a secret store and leave it out of the file")
			}
		case "default_permission":
			switch strings.ToUpper(vv.s) {
			case "EDIT", "MANAGE":
				j.addAtIn(rules.CtxDefaultPermission, "MLG404", vv, "default_permission = %s grants every user write access to every experiment and model by default; use READ or NO_PERMISSIONS", strings.ToUpper(vv.s))
			}
		case "database_uri":
			j.uri("database_uri", vv)
		}
	}
}

// systemd reads a unit's [Service] ExecStart*, Environment= and
// EnvironmentFile=; values may continue over lines ending in "\".
func (j *judge) systemd(src string) {
	lines := strings.Split(src, "\n")
	e := env{}
	tmpl := &server{}
	type cmd struct {
		s    string
		line int
		col  int
	}
	var starts []cmd
	section := ""
	for i := 0; i < len(lines); i++ {
		if !j.spend(1, i+1) {
			break
		}
		t := strings.TrimSpace(strings.TrimRight(lines[i], "\r"))
		start := i
		// keep "\\\n" so the shell sees the continuation and lines stay true
		for strings.HasSuffix(t, `\`) && i+1 < len(lines) {
			i++
			t = t + "\n" + strings.TrimRight(lines[i], "\r")
		}
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			section = strings.Trim(t, "[]")
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			j.f.errs = append(j.f.errs, errAt(j.path, start+1, "systemd: expected Key=value"))
			continue
		}
		if section != "Service" {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		col := strings.Index(lines[start], "=") + 2
		switch k {
		case "Environment":
			j.systemdEnv(v, start+1, col, e)
		case "EnvironmentFile":
			p := strings.TrimPrefix(v, "-")
			tmpl.envFiles = append(tmpl.envFiles, strings.TrimPrefix(p, "/"))
		case "ExecStart", "ExecStartPre", "ExecStartPost":
			// drop systemd's prefixes (@ - : + !)
			trimmed := strings.TrimLeft(v, "@-:+!")
			starts = append(starts, cmd{trimmed, start + 1, col + len(v) - len(trimmed)})
		}
	}
	for _, s := range starts {
		// systemd expands ${VAR} and $VAR like a shell, close enough here
		c := &shellCtx{j: j, vars: j.cloneEnv(e, s.line), line0: s.line, col0: s.col, tmpl: tmpl}
		if err := c.run(s.s); err != nil {
			j.f.errs = append(j.f.errs, *err)
		}
	}
}

// procfile reads "name: command" lines.
func (j *judge) procfile(src string) {
	for i, raw := range strings.Split(src, "\n") {
		if !j.spend(1, i+1) {
			break
		}
		t := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(t) == "" || strings.HasPrefix(strings.TrimSpace(t), "#") {
			continue
		}
		_, cmd, ok := strings.Cut(t, ":")
		if !ok {
			j.f.errs = append(j.f.errs, errAt(j.path, i+1, "Procfile: expected name: command"))
			continue
		}
		col := len(t) - len(cmd) + 1
		c := &shellCtx{j: j, vars: env{}, line0: i + 1, col0: col, tmpl: &server{}, judgeAssign: true}
		if err := c.run(cmd); err != nil {
			j.f.errs = append(j.f.errs, *err)
		}
	}
}

var (
	makeAssignRe = regexp.MustCompile(`^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\?=|:=|::=|\+=|=)\s*(.*)$`)
	makeRefRe    = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}`)
)

// makefile reads variable assignments and tab-indented recipe lines; make
// references $(VAR) are replaced by their value (or left as an unresolved
// shell variable) and "$$" becomes "$" before the shell parse.
func (j *judge) makefile(src string) {
	lines := strings.Split(src, "\n")
	vars := map[string]string{}
	mvars := env{}
	for i := 0; i < len(lines); i++ {
		if !j.spend(1, i+1) {
			break
		}
		raw := strings.TrimRight(lines[i], "\r")
		start := i
		for strings.HasSuffix(raw, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimRight(lines[i], "\r")
			if strings.HasPrefix(raw, "\t") {
				// a recipe: make hands backslash-newline to the shell as is
				raw = raw + "\n" + strings.TrimPrefix(next, "\t")
			} else {
				raw = strings.TrimSuffix(raw, `\`) + " " + strings.TrimLeft(next, " \t")
			}
		}
		if strings.HasPrefix(raw, "\t") {
			recipe := strings.TrimLeft(raw[1:], "@-+ \t")
			col := len(raw) - len(recipe) + 1
			recipe = makeRefRe.ReplaceAllStringFunc(recipe, func(m string) string {
				sm := makeRefRe.FindStringSubmatch(m)
				name := sm[1] + sm[2]
				if v, ok := vars[name]; ok && !strings.Contains(v, "$(") {
					// charged like a shell expansion: a recipe of many
					// references to a long value must not multiply it
					if j.expand(0, len(v), start+1) {
						return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
					}
				}
				return "${" + strings.NewReplacer(".", "_", "-", "_").Replace(name) + "}"
			})
			recipe = strings.ReplaceAll(recipe, "$$", "$")
			c := &shellCtx{j: j, vars: j.cloneEnv(mvars, start+1), line0: start + 1, col0: col, tmpl: &server{}, judgeAssign: true}
			if err := c.run(recipe); err != nil {
				j.f.errs = append(j.f.errs, *err)
			}
			continue
		}
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if m := makeAssignRe.FindStringSubmatch(t); m != nil && !strings.Contains(m[1], ":") {
			value := strings.TrimSpace(m[2])
			vars[m[1]] = value
			v := val{s: value, known: !strings.Contains(value, "$"), literal: true, line: start + 1, col: strings.Index(raw, m[2]) + 1, path: j.path}
			if strings.HasPrefix(t, "export") {
				mvars[m[1]] = v
			}
			j.envVar(m[1], v)
		}
	}
}

// systemdEnv reads Environment="A=1" "B=2" B=3: quoted or bare NAME=value
// words.
func (j *judge) systemdEnv(v string, line, col int, e env) {
	f, err := parseShell(v)
	if err != nil {
		j.f.errs = append(j.f.errs, errAt(j.path, line, "systemd Environment: "+err.Error()))
		return
	}
	c := &shellCtx{j: j, vars: env{}, line0: line, col0: col, judgeAssign: true}
	for _, st := range f.Stmts {
		call, ok := st.Cmd.(*syntax.CallExpr)
		if !ok {
			continue
		}
		for _, a := range call.Assigns {
			c.assign(a, e)
		}
		for _, w := range call.Args {
			wv := c.word(w)
			name, value, ok := strings.Cut(wv.s, "=")
			if !ok || name == "" {
				continue
			}
			wv.s = value
			e[name] = wv
			j.envVar(name, wv)
		}
	}
}
