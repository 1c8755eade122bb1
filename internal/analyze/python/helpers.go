package python

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// Registry helpers of the same package. A tool that looks a version up
// through a helper of its own package (check_model_version.py calling
// local_utils.get_version(client, name, version), whose every return is
// client.get_model_version(...) or client.get_latest_versions(...)[0])
// gets the registry's record back, as from the lookup itself
// (registryLookups): the name chosen on the command line selects the
// record, it does not become the URI that is loaded. Only modules imported
// relatively ("from . import local_utils") are read, from the scanned
// tree; a helper counts only when every return is such a lookup.

// pkgDir locates the analysed file on disk for relative imports; empty
// for content that has no file (tests, notebooks' code given as bytes).
type pkgDir struct {
	dir, root string
}

// modPrefix marks a value that is a module of the scanned tree (its path).
const modPrefix = "pymodule:"

// helperCache holds, per module file, the names of its registry helpers.
type helperCache struct {
	mu sync.Mutex
	m  map[string]map[string]bool
}

// maxHelperModules bounds the modules one scan reads for helpers.
const maxHelperModules = 4096

// relModule resolves "from <dots><mod> import <name>" to the module file
// <name>.py under the scanned tree, or "".
func (d pkgDir) relModule(dots int, mod, name string) string {
	if d.dir == "" || d.root == "" || dots < 1 || name == "" || strings.ContainsAny(name, "./\\") {
		return ""
	}
	dir := d.dir
	for i := 1; i < dots; i++ {
		dir = filepath.Dir(dir)
	}
	if mod != "" {
		dir = filepath.Join(append([]string{dir}, strings.Split(mod, ".")...)...)
	}
	p := filepath.Join(dir, name+".py")
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	// through symlinked folders too, the module must be in the tree
	real, err1 := filepath.EvalSymlinks(p)
	root, err2 := filepath.EvalSymlinks(d.root)
	if err1 != nil || err2 != nil || !inside(root, real) {
		return ""
	}
	return p
}

func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// registryHelper reports whether the module file's function fn returns a
// registry record on every path.
func (a *Analyzer) registryHelper(ctx context.Context, path, fn string) bool {
	a.helpers.mu.Lock()
	hs, ok := a.helpers.m[path]
	full := len(a.helpers.m) >= maxHelperModules
	a.helpers.mu.Unlock()
	if !ok {
		if full {
			return false
		}
		hs = a.readHelpers(ctx, path)
		a.helpers.mu.Lock()
		if a.helpers.m == nil {
			a.helpers.m = map[string]map[string]bool{}
		}
		a.helpers.m[path] = hs
		a.helpers.mu.Unlock()
	}
	return hs[fn]
}

// readHelpers parses a module and names its top-level registry helpers;
// a module that cannot be read or parsed has none.
func (a *Analyzer) readHelpers(ctx context.Context, path string) map[string]bool {
	b, err := safeio.ReadFile(path, MaxSize)
	if err != nil || !strings.Contains(string(b), "return") {
		return nil
	}
	root, _, err := loadGrammar().parse(ctx, a.parsers, b)
	if err != nil || root == nil {
		return nil
	}
	s := newSrc(b)
	out := map[string]bool{}
	for _, st := range root.namedKids() {
		def := st
		if st.kind == "decorated_definition" {
			def = st.child("definition")
		}
		if def == nil || def.kind != "function_definition" {
			continue
		}
		if returnsRegistryRecord(s, def.child("body")) {
			out[s.text(def.child("name"))] = true
		}
	}
	return out
}

// returnsRegistryRecord: the body has a return and every return (outside
// nested functions and classes) is a registry lookup on a client, or one
// element of its result; a body that can end without return is not one.
func returnsRegistryRecord(s *src, body *node) bool {
	n, ok := 0, true
	var walk func(x *node)
	walk = func(x *node) {
		if x == nil || !ok {
			return
		}
		switch x.kind {
		case "function_definition", "class_definition", "lambda":
			return
		case "return_statement":
			n++
			if !registryLookupExpr(s, x.firstNamed()) {
				ok = false
			}
			return
		}
		for _, k := range x.kids {
			walk(k)
		}
	}
	walk(body)
	return ok && n > 0 && endsInReturn(body)
}

// endsInReturn: the block cannot fall off its end (its last statement
// returns, or is an if/else whose every branch ends in a return).
func endsInReturn(b *node) bool {
	ks := b.namedKids()
	if len(ks) == 0 {
		return false
	}
	last := ks[len(ks)-1]
	switch last.kind {
	case "return_statement":
		return true
	case "if_statement":
		if !endsInReturn(last.child("consequence")) {
			return false
		}
		hasElse := false
		for _, k := range last.kids {
			switch k.kind {
			case "elif_clause":
				if !endsInReturn(k.child("consequence")) {
					return false
				}
			case "else_clause":
				hasElse = true
				if !endsInReturn(k.child("body")) {
					return false
				}
			}
		}
		return hasElse
	}
	return false
}

// registryLookupExpr: client.<lookup>(...) or client.<lookup>(...)[i], the
// receiver a name that says it is a tracking client.
func registryLookupExpr(s *src, e *node) bool {
	e = unparen(e)
	if e != nil && e.kind == "subscript" {
		e = unparen(e.child("value"))
	}
	if e == nil || e.kind != "call" {
		return false
	}
	f := e.child("function")
	if f == nil || f.kind != "attribute" {
		return false
	}
	recv := f.child("object")
	return registryLookups[s.text(f.child("attribute"))] && recv != nil && recv.kind == "identifier" &&
		strings.Contains(strings.ToLower(s.text(recv)), "client")
}
