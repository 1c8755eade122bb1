package scan

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// job is one file for the worker pool.
type job struct {
	abs, rel string // rel is the display path
	root     string
	size     int64
}

// walker lists one root; it runs on a single goroutine (directory listing
// is cheap next to analysis) and feeds the pool.
type walker struct {
	s        *scanner
	root     rootInfo
	realRoot string
	jobs     chan<- job
	errs     []finding.Error
}

// walkAll lists every root in order and returns the walk's own errors.
func (s *scanner) walkAll(ctx context.Context, jobs chan<- job) []finding.Error {
	var errs []finding.Error
	for i := range s.roots {
		w := &walker{s: s, root: s.roots[i], jobs: jobs}
		w.walkRoot(ctx)
		s.roots[i] = w.root
		errs = append(errs, w.errs...)
		if ctx.Err() != nil {
			break
		}
	}
	return errs
}

func (w *walker) fail(rel string, kind finding.ErrorKind, format string, args ...any) {
	w.errs = append(w.errs, finding.Error{Path: rel, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) walkRoot(ctx context.Context) {
	arg := w.root.arg
	// The root itself is followed even when it is a symlink: the user named it.
	info, err := os.Stat(arg)
	if err != nil {
		w.fail(cleanArg(arg), "read", "cannot scan %s: %v", arg, unwrapPath(err))
		return
	}
	if !info.IsDir() {
		w.root.file = true
		if !info.Mode().IsRegular() {
			w.fail(cleanArg(arg), "skipped", "not a regular file")
			return
		}
		w.send(ctx, job{abs: arg, rel: cleanArg(arg), root: arg, size: info.Size()})
		return
	}
	real, err := filepath.EvalSymlinks(arg)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		w.fail(cleanArg(arg), "read", "cannot resolve %s: %v", arg, unwrapPath(err))
		return
	}
	w.realRoot = real
	w.walkDir(ctx, arg, "", w.ancestorIgnores(real))
}

// ancestorIgnores loads the .gitignore files between the enclosing git work
// tree's top and the root (exclusive), so scanning a subdirectory honours
// the repository's ignores as git would. Outside a work tree it loads none.
func (w *walker) ancestorIgnores(real string) []*ignoreLayer {
	var dirs []string
	top := ""
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			top = d
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if _, err := os.Lstat(filepath.Join(real, ".git")); err == nil || top == "" {
		return nil // the root is the work tree's top, or there is no work tree
	}
	var layers []*ignoreLayer
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		pre, err := filepath.Rel(d, real)
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join(d, ".gitignore"))
		if err != nil {
			continue // most directories have none
		}
		l, warns := parseGitignore(f, "")
		f.Close()
		for _, msg := range warns {
			w.s.log.Warn("ignoring bad .gitignore pattern", "path", filepath.Join(d, ".gitignore"), "problem", msg)
		}
		l.pre = filepath.ToSlash(pre)
		layers = append(layers, l)
	}
	return layers
}

func (w *walker) send(ctx context.Context, j job) {
	select {
	case w.jobs <- j:
	case <-ctx.Done():
	}
}

// walkDir lists one directory. rel is relative to the root ("" for it).
func (w *walker) walkDir(ctx context.Context, abs, rel string, layers []*ignoreLayer) {
	if ctx.Err() != nil {
		return
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		where := w.root.display(rel)
		if where == "" {
			where = cleanArg(w.root.arg)
		}
		w.fail(where, "read", "cannot list directory: %v", unwrapPath(err))
		if len(entries) == 0 {
			return
		}
	}
	for _, e := range entries {
		if e.Name() == ".gitignore" && e.Type().IsRegular() {
			layers = w.loadIgnore(filepath.Join(abs, e.Name()), rel, layers)
			break
		}
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		childAbs := filepath.Join(abs, name)
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		display := w.root.display(childRel)
		mode := e.Type()
		isDir := e.IsDir()
		if name == ".git" {
			continue // a repository's database (or a worktree's pointer file)
		}
		if mode&fs.ModeSymlink != 0 {
			target, err := os.Stat(childAbs)
			if err != nil {
				w.fail(display, "skipped", "broken symbolic link")
				continue
			}
			if target.IsDir() {
				// Directory links are never followed: no loops, no escapes.
				w.s.log.Debug("not following directory symlink", "path", display)
				continue
			}
			if !w.inside(childAbs) {
				w.fail(display, "skipped", "symbolic link points outside the scanned root")
				continue
			}
			if w.excluded(childRel, display, false, layers) {
				continue
			}
			if target.Mode().IsRegular() {
				w.file(ctx, childAbs, display, target.Size())
			}
			continue
		}
		if w.excluded(childRel, display, isDir, layers) {
			continue
		}
		if isDir {
			w.walkDir(ctx, childAbs, childRel, layers)
			continue
		}
		if !mode.IsRegular() {
			// FIFOs, sockets and devices could block or never end.
			w.s.log.Debug("skipping special file", "path", display)
			continue
		}
		info, err := e.Info()
		if err != nil {
			w.fail(display, "read", "cannot stat: %v", unwrapPath(err))
			continue
		}
		w.file(ctx, childAbs, display, info.Size())
	}
}

func (w *walker) file(ctx context.Context, abs, display string, size int64) {
	if w.s.maxSize > 0 && size > w.s.maxSize {
		w.fail(display, "skipped", "%d bytes is over the %d-byte size cap (--max-file-size)", size, w.s.maxSize)
		return
	}
	w.send(ctx, job{abs: abs, rel: display, root: w.root.arg, size: size})
}

// excluded applies --exclude (to the root-relative and the display path)
// and the .gitignore layers.
func (w *walker) excluded(rel, display string, isDir bool, layers []*ignoreLayer) bool {
	for _, g := range w.s.exclude {
		if g.MatchExact(rel) || (display != rel && g.MatchExact(display)) {
			w.s.log.Debug("excluded", "path", display, "glob", g.String())
			return true
		}
	}
	if ignored(layers, rel, isDir) {
		w.s.log.Debug("gitignored", "path", display)
		return true
	}
	return false
}

func (w *walker) loadIgnore(p, base string, layers []*ignoreLayer) []*ignoreLayer {
	f, err := os.Open(p)
	if err != nil {
		w.fail(w.root.display(joinRel(base, ".gitignore")), "read", "cannot read: %v", unwrapPath(err))
		return layers
	}
	defer f.Close()
	l, warns := parseGitignore(f, base)
	for _, msg := range warns {
		w.s.log.Warn("ignoring bad .gitignore pattern", "path", w.root.display(joinRel(base, ".gitignore")), "problem", msg)
	}
	// Copy so sibling directories do not share appended layers.
	out := make([]*ignoreLayer, 0, len(layers)+1)
	return append(append(out, layers...), l)
}

// inside reports whether a symlink resolves under the root.
func (w *walker) inside(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return false
	}
	return real == w.realRoot || strings.HasPrefix(real, w.realRoot+string(filepath.Separator))
}

func joinRel(base, name string) string {
	if base == "" {
		return name
	}
	return base + "/" + name
}

// unwrapPath drops the *PathError wrapper: the path is already in the report.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
