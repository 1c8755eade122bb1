package deploy

import (
	"fmt"
	"path"
	"strings"
)

// A front (an nginx server block, an Ingress, `mlflow-guard serve`) vouches
// for a server only when it demonstrably reaches it, and only when nothing
// else publishes the server around it:
//   - the front's upstream names the server: its compose service, container
//     or host name, its Kubernetes workload, or a Service selecting its pod;
//   - the front and the server belong to one deployment (one directory
//     holds the other, or the server's compose project mounts the front's
//     config);
//   - a loopback upstream reaches only a process on the same host; a
//     server there that binds beyond loopback is reachable around the
//     proxy, so the proxy cannot vouch for it (MLG401 never judges a
//     server bound to loopback).
// Inside a container the bind address alone says little: what publishes
// the port (compose ports:, a LoadBalancer or NodePort Service, a hostPort,
// an Ingress) decides MLG402, and whether MLG401 can be vouched for.

// portMap is one compose ports: entry.
type portMap struct {
	hostIP    string
	container string // port or range as written; "" when not resolved
	spec      string
	line      int
}

// k8sService is a Kubernetes Service: which pods it selects and whether it
// publishes them beyond the cluster.
type k8sService struct {
	path, name string
	line       int
	selector   map[string]string
	typ        string
}

// imageDef is what a Dockerfile's final stage runs.
type imageDef struct {
	path    string
	ep, cmd dfCommand
	env     env
	// root is the MLG410 an image with no command of its own gets unless
	// every compose service that builds it runs only a client script
	root *pendingRoot
}

// buildLink ties a compose service to the Dockerfile it builds.
type buildLink struct {
	dockerfile string
	tmpl       *server
	env        env
	entrypoint []val
	command    []val
	epSet      bool
	cmdSet     bool
}

// scriptCall is a container command that runs a script of the tree.
type scriptCall struct {
	name string // base name of the script
	from string // the file that runs it
	args []val
	env  env
	tmpl *server
}

// guardFront records `mlflow-guard serve`: an authenticating front for the
// server its --upstream names (it authenticates every request and fails
// closed). Its own listener needs no judgement here: serve refuses plain
// HTTP beyond loopback.
//
// oauth2-proxy (`--upstream`, OAUTH2_PROXY_UPSTREAMS) is recorded the same
// way: it authenticates every request it forwards, unless a skip-auth
// option lets some through unauthenticated.
func (j *judge) guardFront(inv invocation, e env, tmpl *server) {
	p := &proxyBlock{path: j.path, line: inv.at.line, col: inv.at.col, guard: true}
	if inv.at.path != "" {
		p.path = inv.at.path
	}
	auth := true
	args := inv.args
	if inv.sub == "oauth2-proxy" {
		if v, ok := e["OAUTH2_PROXY_UPSTREAMS"]; ok {
			for _, u := range strings.Split(v.s, ",") {
				w := v
				w.s = "--upstream=" + strings.TrimSpace(u)
				args = append(args, w)
			}
		}
		for _, a := range args {
			if a.known && (strings.HasPrefix(a.s, "--skip-auth-regex") || strings.HasPrefix(a.s, "--skip-auth-route")) {
				auth = false
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.known {
			continue
		}
		name, value, hasEq := strings.Cut(a.s, "=")
		if name != "--upstream" && name != "-upstream" {
			continue
		}
		v := a
		if hasEq {
			v.s = value
		} else if i+1 < len(args) {
			v = args[i+1]
			i++
		} else {
			continue
		}
		if !v.known {
			continue // an unresolved upstream reaches nothing we can name
		}
		u := strings.TrimSpace(v.s)
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			continue
		}
		for _, t := range targetsOf(u, nil) {
			t.auth, t.line = auth, v.line
			p.targets = append(p.targets, t)
		}
	}
	if tmpl != nil {
		p.origin, p.project = tmpl.origin, tmpl.project
	}
	j.f.proxies = append(j.f.proxies, p)
}

// reaches: the front at fpath, forwarding to t, demonstrably reaches s.
func reaches(fpath string, t proxyTarget, s *server, mounts map[string][]string) bool {
	h := strings.ToLower(strings.Trim(t.host, "[]"))
	// a Service maps its own port to the pod's: its port is not compared
	if t.port != "" && t.port != s.port() && !nameMatches(h, s.svcNames) {
		return false
	}
	if h == "" || strings.Contains(h, "$") || !related(fpath, s, mounts) {
		return false
	}
	if !s.inContainer || s.hostNet {
		// a host process is reached by its bind address, or through
		// loopback by a proxy on its host (which does not stop a bind
		// beyond loopback from being reached around it: exposure)
		bh, known, _ := s.host()
		return known && (strings.EqualFold(bh, h) || isLoopback(h))
	}
	if isLoopback(h) {
		return false // another container's or pod's loopback
	}
	return nameMatches(h, s.names)
}

// nameMatches: host is one of names, or a cluster DNS form of one
// (name.namespace, name.namespace.svc[.cluster.local]).
func nameMatches(host string, names []string) bool {
	parts := strings.Split(host, ".")
	cands := []string{host}
	if len(parts) == 2 || len(parts) >= 3 && parts[2] == "svc" {
		cands = append(cands, parts[0])
	}
	for _, n := range names {
		for _, c := range cands {
			if n != "" && strings.EqualFold(n, c) {
				return true
			}
		}
	}
	return false
}

// related: the front's file and the server belong to one deployment.
func related(fpath string, s *server, mounts map[string][]string) bool {
	for _, p := range []string{s.path, s.project} {
		if p == "" {
			continue
		}
		if within(path.Dir(fpath), path.Dir(p)) || within(path.Dir(p), path.Dir(fpath)) {
			return true
		}
	}
	for _, m := range mounts[s.project] {
		if fpath == m || within(path.Dir(fpath), m) {
			return true
		}
	}
	return false
}

// within: directory d is dir or below it ("." holds everything).
func within(d, dir string) bool {
	return dir == "." || d == dir || strings.HasPrefix(d, dir+"/")
}

// exposure says whether a server's port is published beyond its container
// or pod, and what publishes it around any front (a bypass). For a host
// process the bind address decides: every non-loopback bind is reachable
// around a proxy.
func exposure(s *server) (exposed bool, bypass string) {
	switch {
	case s.origin == "compose" && !s.hostNet:
		for _, pm := range s.ports {
			if (pm.container == "" || portIn(s.port(), pm.container)) && !isLoopback(pm.hostIP) {
				return true, fmt.Sprintf("ports: %s at %s:%d", pm.spec, s.project, pm.line)
			}
		}
		return false, ""
	case s.origin == "k8s" && !s.hostNet:
		for _, e := range s.exposedBy {
			if !strings.HasPrefix(e, "Ingress ") {
				return true, e
			}
		}
		return len(s.exposedBy) > 0, ""
	}
	h, _, _ := s.host()
	return true, "the bind address " + h
}

// portIn: port p is the container port spec (a port or a range "a-b").
func portIn(p, spec string) bool {
	if spec == p {
		return true
	}
	lo, hi, ok := strings.Cut(spec, "-")
	if !ok {
		return false
	}
	var a, b, x int
	if _, err := fmt.Sscan(lo, &a); err != nil {
		return false
	}
	if _, err := fmt.Sscan(hi, &b); err != nil {
		return false
	}
	if _, err := fmt.Sscan(p, &x); err != nil {
		return false
	}
	return a <= x && x <= b
}

// parsePort reads one compose ports: short-syntax entry.
func parsePort(spec string) portMap {
	pm := portMap{spec: spec, hostIP: "0.0.0.0"}
	s, _, _ := strings.Cut(spec, "/")
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]:"); i >= 0 {
			pm.hostIP, s = s[1:i], s[i+2:]
			pm.container = lastField(s)
			return unresolvedPort(pm)
		}
	}
	fs := strings.Split(s, ":")
	pm.container = fs[len(fs)-1]
	if len(fs) >= 3 {
		pm.hostIP = strings.Join(fs[:len(fs)-2], ":")
	}
	return unresolvedPort(pm)
}

func lastField(s string) string {
	fs := strings.Split(s, ":")
	return fs[len(fs)-1]
}

// unresolvedPort: a ${VAR} container port may be any port; a ${VAR} host
// address may be any address.
func unresolvedPort(pm portMap) portMap {
	if strings.Contains(pm.container, "$") {
		pm.container = ""
	}
	if strings.Contains(pm.hostIP, "$") || pm.hostIP == "" {
		pm.hostIP = "0.0.0.0"
	}
	return pm
}

// selects: a Service selector picks a pod with these labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// linkServices gives each Kubernetes server the names of the Services that
// select its pod, and records what publishes it beyond the cluster.
func linkServices(servers []*server, svcs []*k8sService, ingresses []*ingress) {
	for _, s := range servers {
		if s.origin != "k8s" {
			continue
		}
		names := append([]string{}, s.names...)
		exp := append([]string{}, s.exposedBy...)
		for _, sv := range svcs {
			if !related(sv.path, s, nil) {
				continue
			}
			if selects(sv.selector, s.labels) || len(sv.selector) == 0 && nameMatches(strings.ToLower(sv.name), s.names) {
				names = append(names, sv.name)
				s.svcNames = append(s.svcNames, sv.name)
				if sv.typ == "LoadBalancer" || sv.typ == "NodePort" {
					exp = append(exp, fmt.Sprintf("the %s Service %s at %s:%d", sv.typ, sv.name, sv.path, sv.line))
				}
			}
		}
		s.names = names
		for _, in := range ingresses {
			if related(in.path, s, nil) && in.routesTo(s) {
				exp = append(exp, fmt.Sprintf("Ingress %s at %s:%d", in.name, in.path, in.line))
			}
		}
		s.exposedBy = exp
	}
}

// mergeOverrides: compose files in one folder are combined (`-f a -f b`,
// docker-compose.override.yml), so a service's published ports are those
// of every file there that defines it.
func mergeOverrides(servers []*server, svcPorts map[string][]portMap, svcHostNet map[string]bool) {
	for _, s := range servers {
		if s.origin != "compose" || len(s.names) == 0 {
			continue
		}
		k := path.Dir(s.project) + "|" + s.names[0]
		s.ports = svcPorts[k]
		s.hostNet = s.hostNet || svcHostNet[k]
	}
}
