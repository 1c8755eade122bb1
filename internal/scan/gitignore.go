package scan

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// ignoreRule is one line of a .gitignore file.
type ignoreRule struct {
	glob    config.Glob
	negate  bool
	dirOnly bool
}

// ignoreLayer is one .gitignore file; its patterns are relative to base (the
// directory holding it, relative to the scan root, "" for the root).
type ignoreLayer struct {
	base  string
	rules []ignoreRule
	// pre is set for a .gitignore above the scan root (in the enclosing git
	// work tree): the root's path below that file's directory.
	pre string
}

// maxIgnoreLines bounds a hostile .gitignore.
const maxIgnoreLines = 10000

// maxIgnoreBytes bounds what is read of one .gitignore.
const maxIgnoreBytes = 4 << 20

// openIgnoreFile opens a .gitignore for parsing: a regular file only (a
// .gitignore that is a FIFO or a link to /dev/zero must not hang or flood
// the walk), and no more than maxIgnoreBytes of it.
func openIgnoreFile(p string) (io.ReadCloser, error) {
	f, err := safeio.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, maxIgnoreBytes), f}, nil
}

// parseGitignore reads gitignore syntax: comments, "!" negation, a trailing
// "/" for directories only, and a slash at the start or in the middle
// anchoring the pattern to the file's directory. Bad patterns are skipped
// and returned as warnings with their line number.
func parseGitignore(r io.Reader, base string) (*ignoreLayer, []string) {
	l := &ignoreLayer{base: base}
	var warns []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	n := 0
	for sc.Scan() {
		n++
		if n > maxIgnoreLines {
			warns = append(warns, fmt.Sprintf("more than %d lines; the rest is ignored", maxIgnoreLines))
			break
		}
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var rule ignoreRule
		if strings.HasPrefix(line, "!") {
			rule.negate = true
			line = line[1:]
		} else if strings.HasPrefix(line, `\#`) || strings.HasPrefix(line, `\!`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			rule.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		var g config.Glob
		var err error
		if strings.Contains(line, "/") {
			g, err = config.CompileAnchoredGlob(line)
		} else {
			g, err = config.CompileGlob(line)
		}
		if err != nil {
			warns = append(warns, fmt.Sprintf("line %d: %v", n, err))
			continue
		}
		rule.glob = g
		l.rules = append(l.rules, rule)
	}
	if err := sc.Err(); err != nil {
		warns = append(warns, err.Error())
	}
	return l, warns
}

// ignoredBy applies the layers from the outermost in; the last matching
// pattern decides, as in git. rel is relative to the scan root.
func ignoredBy(layers []*ignoreLayer, rel string, isDir bool) bool {
	out := false
	for _, l := range layers {
		sub := rel
		if l.pre != "" {
			sub = l.pre + "/" + rel
		}
		if l.base != "" {
			if !strings.HasPrefix(sub, l.base+"/") {
				continue
			}
			sub = sub[len(l.base)+1:]
		}
		for _, r := range l.rules {
			if r.dirOnly && !isDir {
				continue
			}
			if r.glob.MatchExact(sub) {
				out = !r.negate
			}
		}
	}
	return out
}
