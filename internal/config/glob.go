package config

import (
	"fmt"
	"path"
	"strings"
)

// Glob is a compiled slash-separated path pattern: "*", "?" and "[...]" work
// within one segment as in path.Match, and a "**" segment matches zero or
// more whole segments. A pattern without a slash matches at any depth, so
// "*.pyc" is the same as "**/*.pyc". A pattern that matches a directory
// covers everything below it.
type Glob struct {
	raw  string
	segs []string
}

// CompileGlob validates and compiles a pattern.
func CompileGlob(pattern string) (Glob, error) { return compileGlob(pattern, true) }

// CompileAnchoredGlob compiles a pattern that is always relative to its base
// directory, even without a slash (gitignore's "/name" form).
func CompileAnchoredGlob(pattern string) (Glob, error) { return compileGlob(pattern, false) }

func compileGlob(pattern string, floating bool) (Glob, error) {
	p := strings.TrimSpace(pattern)
	if p == "" {
		return Glob{}, fmt.Errorf("empty glob")
	}
	p = strings.TrimPrefix(p, "./")
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return Glob{}, fmt.Errorf("glob %q matches nothing", pattern)
	}
	if floating && !strings.Contains(p, "/") && p != "**" {
		p = "**/" + p
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" {
			return Glob{}, fmt.Errorf("glob %q has an empty path segment", pattern)
		}
		if s == "**" {
			continue
		}
		if strings.Contains(s, "**") {
			return Glob{}, fmt.Errorf("glob %q: ** must be a whole path segment", pattern)
		}
		if _, err := path.Match(s, ""); err != nil {
			return Glob{}, fmt.Errorf("glob %q: %w", pattern, err)
		}
	}
	return Glob{raw: pattern, segs: segs}, nil
}

// String returns the pattern as written.
func (g Glob) String() string { return g.raw }

// Match reports whether the slash-separated relative path p, or one of its
// parent directories, matches.
func (g Glob) Match(p string) bool {
	if len(g.segs) == 0 {
		return false
	}
	name := strings.Split(strings.Trim(p, "/"), "/")
	return matchSegs(g.segs, name, true)
}

// MatchExact is Match without the "a parent directory matched" rule.
func (g Glob) MatchExact(p string) bool {
	if len(g.segs) == 0 {
		return false
	}
	name := strings.Split(strings.Trim(p, "/"), "/")
	return matchSegs(g.segs, name, false)
}

// matchSegs is a dynamic programme over (pattern segment, name segment) so
// that many "**" stay linear-ish instead of backtracking exponentially.
// With prefix set, the pattern may match a leading part of the name (a
// parent directory).
func matchSegs(pat, name []string, prefix bool) bool {
	// ok[j] says whether pat[:i] matches name[:j], row by row.
	ok := make([]bool, len(name)+1)
	next := make([]bool, len(name)+1)
	ok[0] = true
	for i := 0; i < len(pat); i++ {
		for j := range next {
			next[j] = false
		}
		if pat[i] == "**" {
			run := false
			for j := 0; j <= len(name); j++ {
				run = run || ok[j]
				next[j] = run
			}
		} else {
			for j := 1; j <= len(name); j++ {
				if ok[j-1] {
					if m, _ := path.Match(pat[i], name[j-1]); m {
						next[j] = true
					}
				}
			}
		}
		ok, next = next, ok
	}
	if ok[len(name)] {
		return true
	}
	if prefix {
		for j := 1; j < len(name); j++ {
			if ok[j] {
				return true
			}
		}
	}
	return false
}

// GlobList is a set of compiled globs.
type GlobList []Glob

// Match reports whether any glob matches p (or a parent of p).
func (l GlobList) Match(p string) bool {
	for _, g := range l {
		if g.Match(p) {
			return true
		}
	}
	return false
}
