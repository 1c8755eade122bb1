package gateway

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// compiled is a route with its pattern as an anchored regexp.
type compiled struct {
	Route
	re    *regexp.Regexp
	names []string
	vars  int
}

// Router finds the route of a request.
type Router struct {
	routes []compiled
	static map[string]map[string]*compiled // method -> path -> row without variables (indexStatic)
}

var varRE = regexp.MustCompile(`<(?:(path):)?([A-Za-z_][A-Za-z0-9_]*)>`)

// patternRegexp turns a Flask rule into a regexp: <x> is one segment,
// <path:x> one or more (werkzeug's path converter).
func patternRegexp(p string) (*regexp.Regexp, []string, int) {
	var b strings.Builder
	var names []string
	b.WriteString("^")
	last := 0
	for _, m := range varRE.FindAllStringSubmatchIndex(p, -1) {
		b.WriteString(regexp.QuoteMeta(p[last:m[0]]))
		if m[2] >= 0 {
			b.WriteString(`([^/].*?)`)
		} else {
			b.WriteString(`([^/]+)`)
		}
		names = append(names, p[m[4]:m[5]])
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(p[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String()), names, len(names)
}

// NewRouter compiles the table, adding the /ajax-api mirror of each /api
// route. Static routes are tried before routes with variables, as
// werkzeug does.
func NewRouter(table []Route) (*Router, error) {
	var rs []compiled
	seen := map[string]bool{}
	add := func(r Route) error {
		key := r.Method + " " + r.Pattern
		if seen[key] {
			return fmt.Errorf("route table: duplicate row %s", key)
		}
		seen[key] = true
		re, names, n := patternRegexp(r.Pattern)
		rs = append(rs, compiled{Route: r, re: re, names: names, vars: n})
		return nil
	}
	for _, r := range table {
		if !r.AjaxOnly {
			if err := add(r); err != nil {
				return nil, err
			}
		}
		if (r.AjaxOnly || !r.NoAjax) && strings.HasPrefix(r.Pattern, "/api/") {
			a := r
			a.Pattern = "/ajax-api/" + strings.TrimPrefix(r.Pattern, "/api/")
			if err := add(a); err != nil {
				return nil, err
			}
		}
	}
	// Static rows first; then the row with more literal text (werkzeug
	// prefers the more specific rule, e.g. <path:name>/versions over
	// <path:name>).
	sort.SliceStable(rs, func(i, j int) bool {
		if (rs[i].vars == 0) != (rs[j].vars == 0) {
			return rs[i].vars == 0
		}
		li, lj := len(varRE.ReplaceAllString(rs[i].Pattern, "")), len(varRE.ReplaceAllString(rs[j].Pattern, ""))
		if li != lj {
			return li > lj
		}
		return rs[i].vars < rs[j].vars
	})
	return indexStatic(&Router{routes: rs}), nil
}

// Match returns the route and path variables for method and path. HEAD
// is served by GET routes.
func (rt *Router) Match(method, path string) (*compiled, map[string]string) {
	if method == "HEAD" {
		method = "GET"
	}
	if c := rt.static[method][path]; c != nil {
		return c, map[string]string{}
	}
	for i := range rt.routes {
		c := &rt.routes[i]
		if c.Method != method || c.vars == 0 && rt.static != nil {
			continue
		}
		m := c.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		vars := make(map[string]string, len(c.names))
		for k, n := range c.names {
			vars[n] = m[k+1]
		}
		return c, vars
	}
	return nil, nil
}

// Rules lists "METHOD PATTERN" for every compiled row (for the URL-map test).
func (rt *Router) Rules() []string {
	out := make([]string, 0, len(rt.routes))
	for _, c := range rt.routes {
		out = append(out, c.Method+" "+c.Pattern)
	}
	return out
}
