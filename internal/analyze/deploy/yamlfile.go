package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"mvdan.cc/sh/v3/syntax"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlFile handles every YAML document of a file: Kubernetes objects,
// a compose file, or (best effort) Helm values and CI files.
func (j *judge) yamlFile(data []byte) {
	j.lines = strings.Split(string(data), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	retried, skip := false, 0
	for doc := 0; ; doc++ {
		if doc >= maxYAMLDocs {
			j.limitErr("docs", 0, "yaml: over %d documents; the rest of the file was not checked", maxYAMLDocs)
			return
		}
		if !j.spend(1, 0) {
			return
		}
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil && !retried && jinjaRe.Match(data) {
			// a Jinja-templated YAML file (an MLflow Recipes recipe.yaml,
			// an Ansible or Kedro config): read it again with the
			// template tags as unknown values, skipping the documents
			// already judged
			retried, skip = true, doc
			dec = yaml.NewDecoder(bytes.NewReader(neutralizeJinja(data)))
			doc = -1
			continue
		}
		if err != nil {
			line := 0
			if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			e := errAt(j.path, line, "yaml: "+strings.TrimPrefix(err.Error(), "yaml: "))
			if strings.Contains(err.Error(), "exceeded max depth") {
				// the decoder's own nesting cap: the file is not bad YAML
				// as such, it is past what is checked
				e.Kind = "limit"
			}
			j.f.errs = append(j.f.errs, e)
			return
		}
		if doc < skip || n.Kind != yaml.DocumentNode || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := n.Content[0]
		switch {
		case helmUnittestSuite(root):
			continue
		case get(root, "apiVersion") != nil && get(root, "kind") != nil:
			j.ctx = fileContext(j.path, "k8s")
			j.k8s(root)
		case isMap(get(root, "services")):
			j.ctx = fileContext(j.path, "compose")
			j.compose(root)
		default:
			j.ctx = fileContext(j.path, "")
			j.loose(root, "", 0)
		}
	}
}

// jinjaRe finds a Jinja expression or statement tag standing where YAML
// wants a value, or a statement on its own line.
var jinjaRe = regexp.MustCompile(`(?m)(?:^[ \t]*(?:- |[^#\n'"]*?:[ \t]+)\{\{.*\}\}|^[ \t]*\{[%#])`)

// jinjaValueRe: a line whose value is a Jinja expression ("ingest:
// {{INGEST_CONFIG}}", "- {{ item }}"), the expression in group 2.
var jinjaValueRe = regexp.MustCompile(`^([ \t]*(?:- |[^#'"]*?:[ \t]+))(\{\{.*?\}\})(.*)$`)

// neutralizeJinja makes a Jinja-templated YAML file parse as YAML: a value
// that is an expression becomes a quoted scalar holding it (an unknown
// value, see yval; the rest of the line moves two columns right), and a
// statement or comment on its own line ("{% if x %}", "{# note #}")
// becomes a YAML comment of the same length.
func neutralizeJinja(data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		if strings.HasPrefix(t, "{%") || strings.HasPrefix(t, "{#") {
			lines[i] = l[:len(l)-len(t)] + "#" + t[1:]
			continue
		}
		if m := jinjaValueRe.FindStringSubmatch(l); m != nil {
			lines[i] = m[1] + "'" + strings.ReplaceAll(m[2], "'", "''") + "'" + m[3]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// get returns the value of key in a mapping, following one merge key.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	if m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var merged *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				return v.Alias
			}
			return v
		}
		if m.Content[i].Value == "<<" {
			merged = m.Content[i+1]
		}
	}
	if merged != nil && merged.Kind == yaml.AliasNode && merged.Alias != nil && merged.Alias != m {
		return getNoMerge(merged.Alias, key)
	}
	return nil
}

func getNoMerge(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func isMap(n *yaml.Node) bool { return n != nil && n.Kind == yaml.MappingNode }

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// yval is a scalar's value at its position; "${...}" interpolation and
// Helm templates are unresolved.
func (j *judge) yval(n *yaml.Node) val {
	v := val{s: n.Value, known: n.Kind == yaml.ScalarNode && n.Tag != "!!null", literal: true, line: n.Line, col: n.Column, path: j.path}
	if strings.Contains(v.s, "${") || strings.Contains(v.s, "{{") || (strings.HasPrefix(v.s, "$") && !strings.HasPrefix(v.s, "$$")) {
		v.known, v.literal, v.raw = false, false, v.s
	}
	return v
}

func (j *judge) seqVals(n *yaml.Node) []val {
	var out []val
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	for _, c := range n.Content {
		if c.Kind == yaml.ScalarNode {
			out = append(out, j.yval(c))
		} else {
			out = append(out, val{known: false, line: c.Line, col: c.Column, path: j.path})
		}
	}
	return out
}

var podKinds = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"Rollout":     {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

var k8sVarRe = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func (j *judge) k8s(root *yaml.Node) {
	kind := scalar(get(root, "kind"))
	meta := get(root, "metadata")
	name := scalar(get(meta, "name"))
	switch kind {
	case "ConfigMap":
		e := env{}
		if d := get(root, "data"); isMap(d) {
			for i := 0; i+1 < len(d.Content); i += 2 {
				v := j.yval(d.Content[i+1])
				e[d.Content[i].Value] = v
				j.envVar(d.Content[i].Value, v)
			}
		}
		j.f.configMaps[name] = e
		return
	case "Ingress":
		j.ingress(root, name)
		return
	case "Service":
		sv := &k8sService{path: j.path, name: name, line: root.Line, selector: map[string]string{}}
		if k := get(root, "kind"); k != nil {
			sv.line = k.Line
		}
		spec := get(root, "spec")
		sv.typ = scalar(get(spec, "type"))
		if sel := get(spec, "selector"); isMap(sel) {
			for i := 0; i+1 < len(sel.Content); i += 2 {
				sv.selector[sel.Content[i].Value] = sel.Content[i+1].Value
			}
		}
		j.f.services = append(j.f.services, sv)
		return
	}
	p, ok := podKinds[kind]
	if !ok {
		return
	}
	spec, tmplNode := root, root
	for _, k := range p {
		tmplNode = spec
		spec = get(spec, k)
	}
	if !isMap(spec) {
		return
	}
	pod := &server{inContainer: true, origin: "k8s", project: j.path, labels: map[string]string{}}
	if l := get(get(tmplNode, "metadata"), "labels"); isMap(l) {
		for i := 0; i+1 < len(l.Content); i += 2 {
			pod.labels[l.Content[i].Value] = l.Content[i+1].Value
		}
	}
	if h := get(spec, "hostNetwork"); h != nil && truthy(h.Value) {
		pod.hostNet = true
	}
	names := []string{name}
	if l := get(get(meta, "labels"), "app"); l != nil {
		names = append(names, l.Value)
	}
	if l := get(get(meta, "labels"), "app.kubernetes.io/name"); l != nil {
		names = append(names, l.Value)
	}
	podSC := get(spec, "securityContext")
	for _, key := range []string{"initContainers", "containers"} {
		cs := get(spec, key)
		if cs == nil || cs.Kind != yaml.SequenceNode {
			continue
		}
		for _, c := range cs.Content {
			// aliases can repeat one container many times: each is charged
			if !j.spend(len(c.Content)+1, c.Line) {
				return
			}
			j.container(c, podSC, pod, names, key == "containers")
		}
	}
}

func (j *judge) container(c, podSC *yaml.Node, pod *server, names []string, main bool) {
	cname := get(c, "name")
	e := env{}
	if ev := get(c, "env"); ev != nil && ev.Kind == yaml.SequenceNode {
		for _, item := range ev.Content {
			if !j.spend(1, item.Line) {
				break
			}
			n := scalar(get(item, "name"))
			if n == "" {
				continue
			}
			if v := get(item, "value"); v != nil {
				vv := j.yval(v)
				if strings.Contains(vv.s, "$(") {
					vv.known, vv.literal = false, false
				}
				e[n] = vv
				j.envVar(n, vv)
			} else {
				nm := get(item, "name")
				e[n] = val{known: false, line: nm.Line, col: nm.Column, path: j.path}
			}
		}
	}
	tmpl := &server{}
	tmpl.context(pod)
	tmpl.names = append(append([]string{}, names...), scalar(cname))
	if ps := get(c, "ports"); ps != nil && ps.Kind == yaml.SequenceNode {
		for _, pn := range ps.Content {
			if hp := get(pn, "hostPort"); hp != nil {
				tmpl.exposedBy = append(append([]string{}, tmpl.exposedBy...), fmt.Sprintf("hostPort %s at %s:%d", hp.Value, j.path, hp.Line))
			}
		}
	}
	if ef := get(c, "envFrom"); ef != nil && ef.Kind == yaml.SequenceNode {
		for _, item := range ef.Content {
			if n := scalar(get(get(item, "configMapRef"), "name")); n != "" {
				tmpl.configMaps = append(tmpl.configMaps, n)
			}
		}
	}
	image := strings.ToLower(scalar(get(c, "image")))
	argv := append(j.seqVals(get(c, "command")), j.seqVals(get(c, "args"))...)
	if get(c, "command") == nil && len(argv) > 0 && argv[0].s == "server" && strings.Contains(image, "mlflow") && !isGuardImage(image) {
		argv = append([]val{{s: "mlflow", known: true, line: argv[0].line, col: argv[0].col, path: j.path}}, argv...)
	}
	if get(c, "command") == nil && len(argv) > 0 && argv[0].s == "serve" && isGuardImage(image) {
		argv = append([]val{{s: "mlflow-guard", known: true, line: argv[0].line, col: argv[0].col, path: j.path}}, argv...)
	}
	if get(c, "command") == nil && strings.Contains(image, "oauth2-proxy") && (len(argv) == 0 || strings.HasPrefix(argv[0].s, "-")) {
		at := val{s: "oauth2-proxy", known: true, path: j.path}
		if im := get(c, "image"); im != nil {
			at.line, at.col = im.Line, im.Column
		}
		argv = append([]val{at}, argv...)
	}
	for i := range argv {
		// Kubernetes expands $(VAR) from the container's env
		if argv[i].known && strings.Contains(argv[i].s, "$(") {
			ok := true
			argv[i].s = k8sVarRe.ReplaceAllStringFunc(argv[i].s, func(m string) string {
				v, found := e[m[2:len(m)-1]]
				if !found || !v.known {
					ok = false
					return m
				}
				return v.s
			})
			argv[i].known = ok
			argv[i].literal = false
		}
	}
	before := len(j.f.servers)
	j.words(argv)
	sc := &shellCtx{j: j, vars: e, tmpl: tmpl}
	sc.command(argv, e)
	runsMLflow := len(j.f.servers) > before || strings.Contains(image, "mlflow") && !isGuardImage(image)
	if main && runsMLflow {
		j.hardening(c, podSC)
	}
}

// hardening is MLG410 for one MLflow container: explicit bad settings at
// their key, missing ones together at the container's name.
func (j *judge) hardening(c, podSC *yaml.Node) {
	sc := get(c, "securityContext")
	flag := func(n *yaml.Node, msg string) {
		j.addIn(rules.CtxKubernetes, "MLG410", j.path, n.Line, n.Column, "%s", msg)
	}
	var miss []string
	if p := get(sc, "privileged"); p != nil && truthy(p.Value) {
		flag(p, "the MLflow container is privileged; remove privileged: true")
	}
	if p := get(sc, "allowPrivilegeEscalation"); p == nil {
		miss = append(miss, "allowPrivilegeEscalation: false")
	} else if truthy(p.Value) {
		flag(p, "the MLflow container allows privilege escalation; set allowPrivilegeEscalation: false")
	}
	nonRoot := false
	for _, s := range []*yaml.Node{sc, podSC} {
		if p := get(s, "runAsNonRoot"); p != nil {
			if truthy(p.Value) {
				nonRoot = true
			} else {
				flag(p, "runAsNonRoot: false lets the MLflow container run as root")
			}
		}
		if p := get(s, "runAsUser"); p != nil {
			if p.Value == "0" {
				flag(p, "runAsUser: 0 runs the MLflow container as root")
			} else if n, err := strconv.Atoi(p.Value); err == nil && n > 0 {
				nonRoot = true
			}
		}
	}
	if !nonRoot {
		miss = append(miss, "runAsNonRoot: true")
	}
	if p := get(sc, "readOnlyRootFilesystem"); p == nil {
		miss = append(miss, "readOnlyRootFilesystem: true")
	} else if !truthy(p.Value) {
		flag(p, "the MLflow container's root filesystem is writable; set readOnlyRootFilesystem: true")
	}
	if l := get(get(c, "resources"), "limits"); l == nil || len(l.Content) == 0 {
		miss = append(miss, "resources.limits")
	}
	if len(miss) > 0 {
		at := get(c, "name")
		if at == nil {
			at = c
		}
		j.addIn(rules.CtxKubernetes, "MLG410", j.path, at.Line, at.Column, "the MLflow container lacks %s", strings.Join(miss, ", "))
	}
}

// ingress is a Kubernetes Ingress: does it authenticate, and where to.
type ingress struct {
	path, name string
	line, col  int
	auth, tls  bool
	backends   []string
}

var ingressAuthKeys = []string{"auth-url", "auth-type", "auth-signin", "auth-secret", "auth-tls-verify-client", "oauth", "forward-auth", "authsecret"}

func (j *judge) ingress(root *yaml.Node, name string) {
	in := &ingress{path: j.path, name: name, line: root.Line, col: root.Column}
	if k := get(root, "kind"); k != nil {
		in.line, in.col = k.Line, k.Column
	}
	if ann := get(get(root, "metadata"), "annotations"); isMap(ann) {
		for i := 0; i+1 < len(ann.Content); i += 2 {
			k := strings.ToLower(ann.Content[i].Value)
			for _, a := range ingressAuthKeys {
				if strings.Contains(k, a) && ann.Content[i+1].Value != "" {
					in.auth = true
				}
			}
		}
	}
	spec := get(root, "spec")
	if t := get(spec, "tls"); t != nil && len(t.Content) > 0 {
		in.tls = true
	}
	// an explicit stack: the spec can nest as deep as the decoder allows
	stack := []*yaml.Node{spec}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || !j.spend(1, n.Line) {
			continue
		}
		if n.Kind == yaml.MappingNode {
			if s := get(n, "service"); isMap(s) {
				in.backends = append(in.backends, scalar(get(s, "name")))
			}
			if s := get(n, "serviceName"); s != nil {
				in.backends = append(in.backends, s.Value)
			}
		}
		for i := len(n.Content) - 1; i >= 0; i-- {
			stack = append(stack, n.Content[i])
		}
	}
	j.f.ingresses = append(j.f.ingresses, in)
}

// routesTo: a backend is the server's workload or a Service selecting its
// pod (linkServices adds those names).
func (in *ingress) routesTo(s *server) bool {
	for _, b := range in.backends {
		if b != "" && nameMatches(strings.ToLower(b), s.names) {
			return true
		}
	}
	return false
}

func (in *ingress) frontsMLflow(servers []*server) bool {
	for _, b := range in.backends {
		if strings.Contains(strings.ToLower(b), "mlflow") {
			return true
		}
	}
	for _, s := range servers {
		if in.routesTo(s) {
			return true
		}
	}
	return false
}

// compose handles a docker-compose file's services.
func (j *judge) compose(root *yaml.Node) {
	svcs := get(root, "services")
	for i := 0; i+1 < len(svcs.Content); i += 2 {
		name, svc := svcs.Content[i].Value, svcs.Content[i+1]
		if !isMap(svc) {
			continue
		}
		e := env{}
		switch ev := get(svc, "environment"); {
		case isMap(ev):
			for k := 0; k+1 < len(ev.Content); k += 2 {
				v := j.yval(ev.Content[k+1])
				e[ev.Content[k].Value] = v
				j.envVar(ev.Content[k].Value, v)
			}
		case ev != nil && ev.Kind == yaml.SequenceNode:
			for _, item := range ev.Content {
				if !j.spend(1, item.Line) {
					break
				}
				n, value, ok := strings.Cut(item.Value, "=")
				v := j.yval(item)
				v.s = value
				if !ok {
					v.known, v.literal = false, false
				}
				e[n] = v
				j.envVar(n, v)
			}
		}
		tmpl := &server{inContainer: true, origin: "compose", project: j.path, names: []string{name, scalar(get(svc, "container_name")), scalar(get(svc, "hostname"))}}
		dir := path.Dir(j.path)
		j.composeExposure(svc, tmpl, dir)
		if j.f.svcPorts == nil {
			j.f.svcPorts, j.f.svcHostNet = map[string][]portMap{}, map[string]bool{}
		}
		j.f.svcPorts[dir+"|"+name] = append(j.f.svcPorts[dir+"|"+name], tmpl.ports...)
		j.f.svcHostNet[dir+"|"+name] = j.f.svcHostNet[dir+"|"+name] || tmpl.hostNet
		switch ef := get(svc, "env_file"); {
		case ef != nil && ef.Kind == yaml.ScalarNode:
			tmpl.envFiles = append(tmpl.envFiles, path.Join(dir, ef.Value))
		case ef != nil && ef.Kind == yaml.SequenceNode:
			for _, item := range ef.Content {
				p := item.Value
				if isMap(item) {
					p = scalar(get(item, "path"))
				}
				tmpl.envFiles = append(tmpl.envFiles, path.Join(dir, p))
			}
		}
		epW, cmdW := j.composeWords(get(svc, "entrypoint"), e), j.composeWords(get(svc, "command"), e)
		argv := append(append([]val{}, epW...), cmdW...)
		image := strings.ToLower(scalar(get(svc, "image")))
		if get(svc, "entrypoint") == nil && len(argv) > 0 && argv[0].s == "serve" && isGuardImage(image) {
			// the image's ENTRYPOINT is mlflow-guard
			argv = append([]val{{s: "mlflow-guard", known: true, line: argv[0].line, col: argv[0].col, path: j.path}}, argv...)
		}
		if get(svc, "entrypoint") == nil && strings.Contains(image, "oauth2-proxy") && (len(argv) == 0 || strings.HasPrefix(argv[0].s, "-")) {
			// the image's ENTRYPOINT is oauth2-proxy (flags, or only its environment)
			at := val{s: "oauth2-proxy", known: true, path: j.path}
			if im := get(svc, "image"); im != nil {
				at.line, at.col = im.Line, im.Column
			}
			argv = append([]val{at}, argv...)
		}
		if df := buildDockerfile(get(svc, "build"), dir); df != "" {
			j.f.links = append(j.f.links, buildLink{dockerfile: df, tmpl: tmpl, env: e, entrypoint: epW, command: cmdW,
				epSet: get(svc, "entrypoint") != nil, cmdSet: get(svc, "command") != nil})
		}
		before := len(j.f.servers)
		j.words(argv)
		sc := &shellCtx{j: j, vars: e, tmpl: tmpl}
		sc.command(argv, e)
		if len(j.f.servers) > before || strings.Contains(image, "mlflow") && !isGuardImage(image) {
			if p := get(svc, "privileged"); p != nil && truthy(p.Value) {
				j.addIn(rules.CtxCompose, "MLG410", j.path, p.Line, p.Column, "the MLflow service runs privileged; remove privileged: true")
			}
			if u := get(svc, "user"); u != nil {
				n, _, _ := strings.Cut(u.Value, ":")
				if n == "root" || n == "0" {
					j.addIn(rules.CtxCompose, "MLG410", j.path, u.Line, u.Column, "the MLflow service runs as root; set user to a non-root UID")
				}
			}
		}
	}
}

// composeWords turns a compose command or entrypoint (list, or a string
// that compose splits like a shell without running one) into words.
func (j *judge) composeWords(n *yaml.Node, e env) []val {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		return j.seqVals(n)
	}
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return nil
	}
	// "$$" is compose's escape for a literal "$"
	if src, line, ok := j.blockSource(n); ok {
		return j.shellWords(strings.ReplaceAll(src, "$$", "$"), line, 1, e)
	}
	return j.shellWords(strings.ReplaceAll(n.Value, "$$", "$"), n.Line, n.Column, e)
}

// shellWords splits s into resolved words with shell quoting rules.
func (j *judge) shellWords(s string, line, col int, e env) []val {
	var out []val
	c := &shellCtx{j: j, vars: e, line0: line, col0: col}
	f, err := parseShell(s)
	if err != nil {
		j.f.errs = append(j.f.errs, errAt(j.path, line, "command: "+err.Error()))
		return nil
	}
	if len(f.Stmts) > 0 {
		if call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr); ok {
			for _, w := range call.Args {
				out = append(out, c.word(w))
			}
		}
	}
	return out
}

// loose walks Helm values and other YAML (CI files) best effort: env-like
// keys are judged as environment, {name, value} lists as env entries, and
// "run"/"script" strings as shell.
func (j *judge) loose(n *yaml.Node, key string, depth int) {
	if n == nil {
		return
	}
	if depth > maxLooseDepth {
		j.limitErr("yamldepth", n.Line, "yaml: values nested deeper than %d levels at line %d were not checked", maxLooseDepth, n.Line)
		return
	}
	if !j.spend(len(n.Content)+1, n.Line) {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		if strings.EqualFold(key, "permissions") {
			return // CI token scopes ("id-token: write"), never secrets
		}
		otherShell := nonPOSIXShell(get(n, "shell"))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.ScalarNode {
				if otherShell && k == "run" {
					continue // a step run by python or pwsh is not shell text
				}
				j.looseScalar(k, v)
				continue
			}
			j.loose(v, k, depth+1)
		}
	case yaml.SequenceNode:
		lk := strings.ToLower(key)
		if lk == "args" || lk == "extraargs" || lk == "command" {
			argv := j.seqVals(n)
			if len(argv) > 0 && argv[0].s == "server" {
				argv = append([]val{{s: "mlflow", known: true, line: argv[0].line, col: argv[0].col, path: j.path}}, argv...)
			}
			j.words(argv)
			(&shellCtx{j: j, vars: env{}, tmpl: &server{inContainer: true}}).command(argv, env{})
			return
		}
		for _, c := range n.Content {
			if nm, vv := get(c, "name"), get(c, "value"); nm != nil && vv != nil && vv.Kind == yaml.ScalarNode {
				j.envVar(nm.Value, j.yval(vv))
				continue
			}
			if c.Kind == yaml.ScalarNode && (lk == "script" || lk == "before_script") {
				j.looseShell(c)
				continue
			}
			j.loose(c, key, depth+1)
		}
	}
}

func (j *judge) looseScalar(k string, v *yaml.Node) {
	lk := strings.ToLower(k)
	switch {
	case lk == "run" || lk == "script" || lk == "command" && strings.Contains(v.Value, "mlflow"):
		j.looseShell(v)
	case strings.Contains(lk, "adminpassword") || lk == "admin_password":
		vv := j.yval(v)
		if vv.known && !j.adminPassword(vv, k) {
			j.envVar(k, vv)
		}
	case isEnvName(k) || strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token"):
		j.envVar(k, j.yval(v))
	}
}

func (j *judge) looseShell(v *yaml.Node) {
	src, line, col, ind := v.Value, v.Line, v.Column, 0
	if b, l, ok := j.blockSource(v); ok {
		// the script as the runner gets it, without the block's
		// indentation: an indented heredoc terminator ("  EOF") would
		// not close its heredoc
		ind = blockIndent(b)
		src, line, col = dedent(b, ind), l, ind+1
	}
	c := &shellCtx{j: j, vars: env{}, line0: line, col0: col, indent: ind, tmpl: &server{}, judgeAssign: true}
	if err := c.run(neutralizeCIExprs(src)); err != nil {
		j.f.errs = append(j.f.errs, *err)
	}
}

func isEnvName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return strings.Contains(s, "_")
}

// blockSource returns a block scalar's text as it stands in the file, so
// shell positions are true file positions: indentation is kept, and a folded
// scalar's line breaks become shell continuations (folding joins them).
func (j *judge) blockSource(n *yaml.Node) (string, int, bool) {
	if n.Style != yaml.LiteralStyle && n.Style != yaml.FoldedStyle || n.Line < 1 || n.Line >= len(j.lines) {
		return "", 0, false
	}
	keyLine := j.lines[n.Line-1]
	indent := len(keyLine) - len(strings.TrimLeft(keyLine, " "))
	var b strings.Builder
	end := n.Line
	for i := n.Line; i < len(j.lines); i++ {
		l := strings.TrimRight(j.lines[i], "\r")
		if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " ")) <= indent {
			break
		}
		end = i + 1
	}
	for i := n.Line; i < end; i++ {
		l := strings.TrimRight(j.lines[i], "\r")
		if i > n.Line {
			if n.Style == yaml.FoldedStyle && strings.TrimSpace(l) != "" && strings.TrimSpace(j.lines[i-1]) != "" {
				b.WriteString(" \\")
			}
			b.WriteString("\n")
		}
		b.WriteString(l)
	}
	return b.String(), n.Line + 1, true
}

// blockIndent is a block scalar's indentation: that of its first line that
// is not blank (YAML's own rule).
func blockIndent(src string) int {
	for _, l := range strings.Split(src, "\n") {
		if strings.TrimSpace(l) != "" {
			return len(l) - len(strings.TrimLeft(l, " "))
		}
	}
	return 0
}

// dedent cuts up to n leading spaces from every line of src.
func dedent(src string, n int) string {
	if n == 0 {
		return src
	}
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		k := 0
		for k < n && k < len(l) && l[k] == ' ' {
			k++
		}
		lines[i] = l[k:]
	}
	return strings.Join(lines, "\n")
}

// isGuardImage: an mlflow-guard image (not an MLflow server image).
func isGuardImage(image string) bool { return strings.Contains(image, "mlflow-guard") }

// composeExposure reads a service's ports:, network_mode and volumes (the
// files it mounts link a proxy config to the project).
func (j *judge) composeExposure(svc *yaml.Node, tmpl *server, dir string) {
	if nm := get(svc, "network_mode"); nm != nil && nm.Value == "host" {
		tmpl.hostNet = true
	}
	if ps := get(svc, "ports"); ps != nil && ps.Kind == yaml.SequenceNode {
		for _, p := range ps.Content {
			switch {
			case p.Kind == yaml.ScalarNode:
				pm := parsePort(p.Value)
				pm.line = p.Line
				tmpl.ports = append(tmpl.ports, pm)
			case isMap(p):
				pm := portMap{hostIP: scalar(get(p, "host_ip")), container: scalar(get(p, "target")), spec: scalar(get(p, "published")) + ":" + scalar(get(p, "target")), line: p.Line}
				tmpl.ports = append(tmpl.ports, unresolvedPort(pm))
			}
		}
	}
	if j.f.mounts == nil {
		j.f.mounts = map[string][]string{}
	}
	if vs := get(svc, "volumes"); vs != nil && vs.Kind == yaml.SequenceNode {
		for _, v := range vs.Content {
			src := ""
			switch {
			case v.Kind == yaml.ScalarNode:
				src, _, _ = strings.Cut(v.Value, ":")
			case isMap(v):
				src = scalar(get(v, "source"))
			}
			if strings.HasPrefix(src, ".") {
				j.f.mounts[j.path] = append(j.f.mounts[j.path], path.Join(dir, src))
			}
		}
	}
}

// buildDockerfile is the Dockerfile a compose build: names, relative to the
// scan root ("" for a remote context).
func buildDockerfile(b *yaml.Node, dir string) string {
	if b == nil {
		return ""
	}
	ctx, df := "", "Dockerfile"
	switch {
	case b.Kind == yaml.ScalarNode:
		ctx = b.Value
	case isMap(b):
		ctx = scalar(get(b, "context"))
		if d := scalar(get(b, "dockerfile")); d != "" {
			df = d
		}
		if ctx == "" {
			ctx = "."
		}
	}
	if ctx == "" || strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || strings.Contains(ctx+df, "$") {
		return ""
	}
	return path.Join(dir, ctx, df)
}
