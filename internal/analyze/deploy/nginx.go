package deploy

import (
	"fmt"
	"strings"
)

// ngDir is one nginx directive with its block, if any.
type ngDir struct {
	name      string
	args      []string
	line, col int
	block     []*ngDir
}

// blockDirectives are the directives that open a block; "{" after any
// other name is a missing ";".
var blockDirectives = map[string]bool{"http": true, "server": true, "location": true, "upstream": true,
	"events": true, "if": true, "map": true, "geo": true, "types": true, "limit_except": true, "stream": true,
	"mail": true, "split_clients": true, "match": true, "charset_map": true}

// ngError is a syntax error at a line.
type ngError struct {
	line  int
	msg   string
	limit bool // past a nesting cap, not malformed
}

func (e *ngError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// parseNginx tokenizes nginx configuration into a directive tree.
func parseNginx(src string) ([]*ngDir, error) {
	type frame struct {
		dirs *[]*ngDir
		open int
	}
	var root []*ngDir
	stack := []frame{{dirs: &root}}
	var cur *ngDir
	line, col := 1, 0
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			col = 0
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			col++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == ';':
			if cur == nil {
				return root, &ngError{line: line, msg: "unexpected ';'"}
			}
			top := stack[len(stack)-1]
			*top.dirs = append(*top.dirs, cur)
			cur = nil
			i++
			col++
			continue
		case c == '{':
			if cur == nil {
				return root, &ngError{line: line, msg: "unexpected '{'"}
			}
			if !blockDirectives[cur.name] {
				return root, &ngError{line: cur.line, msg: fmt.Sprintf("%q does not take a block (missing ';'?)", cur.name)}
			}
			top := stack[len(stack)-1]
			*top.dirs = append(*top.dirs, cur)
			d := cur
			cur = nil
			if len(stack) > maxNginxDepth {
				// the walks over the tree recurse per level
				return root, &ngError{line: line, msg: fmt.Sprintf("blocks nested deeper than %d levels; the file was not checked", maxNginxDepth), limit: true}
			}
			stack = append(stack, frame{dirs: &d.block, open: line})
			i++
			col++
			continue
		case c == '}':
			if cur != nil {
				return root, &ngError{line: cur.line, msg: fmt.Sprintf("directive %q is missing its ';'", cur.name)}
			}
			if len(stack) == 1 {
				return root, &ngError{line: line, msg: "unexpected '}'"}
			}
			stack = stack[:len(stack)-1]
			i++
			col++
			continue
		}
		// a word, possibly quoted
		startLine, startCol := line, col+1
		var b strings.Builder
		if c == '"' || c == '\'' {
			q := c
			i++
			col++
			closed := false
			for i < len(src) {
				ch := src[i]
				if ch == '\\' && i+1 < len(src) {
					b.WriteByte(src[i+1])
					if src[i+1] == '\n' {
						line++
					}
					i += 2
					continue
				}
				if ch == q {
					closed = true
					i++
					break
				}
				if ch == '\n' {
					line++
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return root, &ngError{line: startLine, msg: "unterminated quoted string"}
			}
		} else {
			for i < len(src) {
				ch := src[i]
				if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ';' || ch == '{' || (ch == '}' && !strings.HasSuffix(b.String(), "$")) {
					// "${var}" keeps its braces
					if ch == '{' && strings.HasSuffix(b.String(), "$") {
						b.WriteByte(ch)
						i++
						continue
					}
					break
				}
				b.WriteByte(ch)
				i++
				col++
			}
		}
		if cur == nil {
			cur = &ngDir{name: b.String(), line: startLine, col: startCol}
		} else {
			cur.args = append(cur.args, b.String())
		}
	}
	if cur != nil {
		return root, &ngError{line: cur.line, msg: fmt.Sprintf("directive %q is missing its ';'", cur.name)}
	}
	if len(stack) > 1 {
		return root, &ngError{line: stack[len(stack)-1].open, msg: "block is not closed"}
	}
	return root, nil
}

// proxyBlock is one nginx server block that forwards requests somewhere.
type proxyBlock struct {
	path      string
	line, col int
	targets   []proxyTarget
	tls       bool
	plainAt   *ngDir // a listen without ssl
	hsts      bool
	xcto      bool
	xfo       bool // X-Frame-Options or a CSP
	limitReq  bool
	unlimited []*ngDir // client_max_body_size 0
	weakTLS   []*ngDir // ssl_protocols with TLSv1/1.1/SSL
	// guard: `mlflow-guard serve`, which authenticates every request; it
	// has no nginx settings to judge
	guard           bool
	origin, project string
}

// proxyTarget is one place a location forwards to.
type proxyTarget struct {
	host, port string
	name       string // upstream name or host as written
	auth       bool
	line       int
}

func (t proxyTarget) matches(s *server) bool {
	if t.port != "" && t.port != s.port() {
		return false
	}
	h := strings.ToLower(t.host)
	if isLoopback(h) || strings.Contains(h, "mlflow") || strings.Contains(strings.ToLower(t.name), "mlflow") {
		return true
	}
	for _, n := range s.names {
		if strings.EqualFold(n, h) {
			return true
		}
	}
	return false
}

func (p *proxyBlock) frontsMLflow(servers []*server) bool {
	if p.guard {
		return false
	}
	for _, t := range p.targets {
		if strings.Contains(strings.ToLower(t.host+" "+t.name), "mlflow") {
			return true
		}
		for _, s := range servers {
			if t.matches(s) {
				return true
			}
		}
	}
	return false
}

// ngScope is what a level of the config tree passes down.
type ngScope struct {
	headers  map[string]bool
	auth     bool
	limitReq bool
	weak     *ngDir
}

var proxyDirectives = map[string]bool{"proxy_pass": true, "uwsgi_pass": true, "grpc_pass": true, "fastcgi_pass": true, "scgi_pass": true}

func (j *judge) nginx(src string) {
	dirs, err := parseNginx(src)
	if err != nil {
		line, limit := 0, false
		if ne, ok := err.(*ngError); ok {
			line, limit = ne.line, ne.limit
		}
		e := errAt(j.path, line, "nginx: "+strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", line)))
		if limit {
			e.Kind = "limit"
		}
		j.f.errs = append(j.f.errs, e)
		return
	}
	upstreams := map[string][]string{}
	var collectUp func(ds []*ngDir)
	collectUp = func(ds []*ngDir) {
		for _, d := range ds {
			if d.name == "upstream" && len(d.args) > 0 {
				for _, s := range d.block {
					if s.name == "server" && len(s.args) > 0 {
						upstreams[d.args[0]] = append(upstreams[d.args[0]], s.args[0])
					}
				}
			}
			collectUp(d.block)
		}
	}
	collectUp(dirs)
	var walk func(ds []*ngDir, sc ngScope)
	walk = func(ds []*ngDir, sc ngScope) {
		sc = applyScope(ds, sc)
		for _, d := range ds {
			switch d.name {
			case "http":
				walk(d.block, sc)
			case "server":
				if len(d.args) == 0 { // not an upstream's "server host:port;"
					j.serverBlock(d, sc, upstreams)
				}
			}
		}
	}
	walk(dirs, ngScope{headers: map[string]bool{}})
}

// applyScope folds one level's directives into the inherited scope;
// add_header replaces the inherited set, as in nginx.
func applyScope(ds []*ngDir, sc ngScope) ngScope {
	out := sc
	own := map[string]bool{}
	for _, d := range ds {
		switch d.name {
		case "add_header", "more_set_headers":
			if len(d.args) > 0 {
				h := strings.ToLower(d.args[0])
				if d.name == "more_set_headers" {
					h, _, _ = strings.Cut(h, ":")
				}
				own[strings.TrimSpace(h)] = true
			}
		case "auth_basic", "auth_request", "auth_jwt":
			out.auth = len(d.args) > 0 && d.args[0] != "off"
		case "ssl_verify_client":
			if len(d.args) > 0 && d.args[0] == "on" {
				out.auth = true
			}
		case "limit_req":
			out.limitReq = true
		case "ssl_protocols":
			out.weak = nil
			for _, a := range d.args {
				if a == "TLSv1" || a == "TLSv1.1" || strings.HasPrefix(a, "SSL") {
					out.weak = d
				}
			}
		}
	}
	if len(own) > 0 {
		out.headers = own
	}
	return out
}

func (j *judge) serverBlock(d *ngDir, sc ngScope, upstreams map[string][]string) {
	sc = applyScope(d.block, sc)
	p := &proxyBlock{path: j.path, line: d.line, col: d.col, limitReq: sc.limitReq}
	for _, x := range d.block {
		switch x.name {
		case "listen":
			ssl := false
			for _, a := range x.args[min(1, len(x.args)):] {
				if a == "ssl" || a == "quic" {
					ssl = true
				}
			}
			if ssl {
				p.tls = true
			} else if p.plainAt == nil {
				p.plainAt = x
			}
		case "ssl":
			if len(x.args) > 0 && x.args[0] == "on" {
				p.tls = true
			}
		}
	}
	if p.tls {
		p.plainAt = nil // "listen 80; listen 443 ssl;" in one block still serves plain HTTP
		for _, x := range d.block {
			if x.name == "listen" && !hasArg(x, "ssl") && !hasArg(x, "quic") {
				p.plainAt = x
				break
			}
		}
	}
	if sc.weak != nil {
		p.weakTLS = append(p.weakTLS, sc.weak)
	}
	allHeaders := map[string]bool{}
	locs := 0
	var visit func(ds []*ngDir, ls ngScope, inLoc bool)
	visit = func(ds []*ngDir, ls ngScope, inLoc bool) {
		for _, x := range ds {
			if x.name == "client_max_body_size" && len(x.args) > 0 && x.args[0] == "0" {
				p.unlimited = append(p.unlimited, x)
			}
			if proxyDirectives[x.name] && len(x.args) > 0 {
				locs++
				for h := range ls.headers {
					allHeaders[h] = true
				}
				p.limitReq = p.limitReq || ls.limitReq
				for _, t := range targetsOf(x.args[0], upstreams) {
					t.auth = ls.auth
					t.line = x.line
					p.targets = append(p.targets, t)
				}
			}
			if x.name == "location" || x.name == "if" || x.name == "limit_except" {
				visit(x.block, applyScope(x.block, ls), true)
			}
		}
	}
	visit(d.block, sc, false)
	if locs == 0 {
		return // redirects and static sites are not proxies
	}
	// a header counts when the server level sets it or every proxying
	// location does; we approximate "every" with the server-level set plus
	// the union of locations
	hd := sc.headers
	p.hsts = hd["strict-transport-security"] || allHeaders["strict-transport-security"]
	p.xcto = hd["x-content-type-options"] || allHeaders["x-content-type-options"]
	p.xfo = hd["x-frame-options"] || hd["content-security-policy"] || allHeaders["x-frame-options"] || allHeaders["content-security-policy"]
	j.f.proxies = append(j.f.proxies, p)
}

func hasArg(d *ngDir, a string) bool {
	for _, x := range d.args {
		if x == a {
			return true
		}
	}
	return false
}

// targetsOf resolves a proxy_pass URL (or upstream name) into host:port
// targets.
func targetsOf(raw string, upstreams map[string][]string) []proxyTarget {
	u := raw
	scheme := ""
	if i := strings.Index(u, "://"); i >= 0 {
		scheme, u = u[:i], u[i+3:]
	}
	if i := strings.IndexAny(u, "/?"); i >= 0 {
		u = u[:i]
	}
	if ups, ok := upstreams[u]; ok {
		var out []proxyTarget
		for _, s := range ups {
			h, p := splitHostPort(s, "80")
			out = append(out, proxyTarget{host: h, port: p, name: u})
		}
		return out
	}
	def := "80"
	if scheme == "https" || scheme == "grpcs" {
		def = "443"
	}
	if strings.HasPrefix(u, "unix:") {
		return []proxyTarget{{host: "127.0.0.1", name: u}}
	}
	h, p := splitHostPort(u, def)
	if strings.Contains(h, "$") {
		p = "" // a variable target: match by name only
	}
	return []proxyTarget{{host: h, port: p, name: u}}
}

func splitHostPort(s, def string) (string, string) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i >= 0 {
			h, rest := s[1:i], s[i+1:]
			if strings.HasPrefix(rest, ":") {
				return h, rest[1:]
			}
			return h, def
		}
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && strings.Count(s, ":") == 1 {
		return s[:i], s[i+1:]
	}
	return s, def
}

// proxyFindings judges a proxy that fronts MLflow: transport (MLG407) and
// hardening (MLG409).
func (j *judge) proxyFindings(p *proxyBlock) {
	if p.plainAt != nil {
		j.add("MLG407", p.path, p.plainAt.line, p.plainAt.col, "nginx serves MLflow over plain HTTP (listen without ssl); listen 443 ssl and redirect port 80 to https")
	} else if !p.tls {
		j.add("MLG407", p.path, p.line, p.col, "nginx server block proxying to MLflow has no TLS listener; listen 443 ssl")
	}
	for _, w := range p.weakTLS {
		j.add("MLG407", p.path, w.line, w.col, "ssl_protocols allows %s; allow only TLSv1.2 and TLSv1.3", strings.Join(w.args, " "))
	}
	if p.tls && !p.hsts {
		j.add("MLG407", p.path, p.line, p.col, "nginx serves MLflow over TLS without HSTS; add_header Strict-Transport-Security \"max-age=31536000\" always")
	}
	var miss []string
	if !p.xcto {
		miss = append(miss, "X-Content-Type-Options: nosniff")
	}
	if !p.xfo {
		miss = append(miss, "X-Frame-Options or Content-Security-Policy")
	}
	if !p.limitReq {
		miss = append(miss, "a limit_req rate limit")
	}
	if len(miss) > 0 {
		j.add("MLG409", p.path, p.line, p.col, "nginx in front of MLflow lacks %s", strings.Join(miss, ", "))
	}
	for _, u := range p.unlimited {
		j.add("MLG409", p.path, u.line, u.col, "client_max_body_size 0 removes the request body limit in front of MLflow; set a bound (e.g. 100M)")
	}
}
