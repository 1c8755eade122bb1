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
	// ignored: a .gitignore covers the file (and git does not track it);
	// only the analyzers in Options.SeeIgnored are offered it.
	ignored bool
}

// dependencyDirs are directory names that hold installed third-party code
// and caches. When a .gitignore covers one (and git tracks nothing in it),
// the walk does not descend into it at all, not even to sniff for model
// files: a virtualenv or node_modules tree holds tens of thousands of files
// that are not the project's. Anything else a .gitignore covers (mlruns/,
// models/, *.pt) is still walked for model files.
var dependencyDirs = map[string]bool{
	"node_modules": true, ".venv": true, "venv": true, "site-packages": true, "__pycache__": true,
	".tox": true, ".nox": true, ".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true,
	".eggs": true, ".gradle": true, ".terraform": true, "bower_components": true,
}

// walker lists one root; it runs on a single goroutine (directory listing
// is cheap next to analysis) and feeds the pool.
type walker struct {
	s        *scanner
	root     rootInfo
	realRoot string
	jobs     chan<- job
	errs     []finding.Error
	// links are MLG111 findings for model files the walk will not open
	// (symbolic links out of the root or to special files).
	links []finding.Finding
	// tracked holds the files git tracks under the root; a tracked file is
	// scanned even when a .gitignore matches it. nil outside a work tree.
	tracked *trackedSet
	// counts for the summary
	ignored, excluded int
}

// walkAll lists every root in order and returns the walk's own errors and
// the number of paths .gitignore and the user's excludes left out.
func (s *scanner) walkAll(ctx context.Context, jobs chan<- job) (links []finding.Finding, errs []finding.Error, ignored, excluded int) {
	for i := range s.roots {
		w := &walker{s: s, root: s.roots[i], jobs: jobs}
		w.walkRoot(ctx)
		s.roots[i] = w.root
		errs = append(errs, w.errs...)
		links = append(links, w.links...)
		ignored += w.ignored
		excluded += w.excluded
		if ctx.Err() != nil {
			break
		}
	}
	return links, errs, ignored, excluded
}

func (w *walker) fail(rel string, kind finding.ErrorKind, format string, args ...any) {
	w.errs = append(w.errs, finding.Error{Path: rel, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) walkRoot(ctx context.Context) {
	arg := w.root.arg
	// The root itself is followed even when it is a symlink: the user named it.
	info, err := os.Stat(arg)
	if err != nil {
		w.fail(w.root.shown(), finding.ErrRead, "cannot scan %s: %v", w.root.shown(), unwrapPath(err))
		return
	}
	if !info.IsDir() {
		w.root.file = true
		if !info.Mode().IsRegular() {
			// Never opened: a FIFO or device could block or never end.
			w.fail(w.root.shown(), finding.ErrSkipped, "not a regular file; not read")
			return
		}
		w.file(ctx, job{abs: arg, rel: w.root.shown(), root: arg, size: info.Size()})
		return
	}
	real, err := filepath.EvalSymlinks(arg)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		w.fail(w.root.shown(), finding.ErrRead, "cannot resolve %s: %v", w.root.shown(), unwrapPath(err))
		return
	}
	w.realRoot = real
	var layers []*ignoreLayer
	if !w.s.noGitignore {
		var inTree bool
		layers, inTree = w.ancestorIgnores(real)
		if inTree {
			w.tracked = gitTracked(ctx, real, w.s.log)
		}
	}
	w.walkDir(ctx, arg, "", layers, false)
}

// ancestorIgnores loads the .gitignore files between the enclosing git work
// tree's top and the root (exclusive), so scanning a subdirectory honours
// the repository's ignores as git would. Outside a work tree it loads none.
// inTree says whether the root is in a git work tree at all.
func (w *walker) ancestorIgnores(real string) (layers []*ignoreLayer, inTree bool) {
	if _, err := os.Lstat(filepath.Join(real, ".git")); err == nil {
		return nil, true // the root is the work tree's top
	}
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
	if top == "" {
		return nil, false
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		pre, err := filepath.Rel(d, real)
		if err != nil {
			continue
		}
		f, err := openIgnoreFile(filepath.Join(d, ".gitignore"))
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
	return layers, true
}

func (w *walker) send(ctx context.Context, j job) {
	select {
	case w.jobs <- j:
	case <-ctx.Done():
	}
}

// walkDir lists one directory. rel is relative to the root ("" for it);
// inIgnored says a .gitignore covers the directory itself, so everything
// below is ignored too unless git tracks it (as in git, a pattern cannot
// re-include a file whose directory is excluded).
func (w *walker) walkDir(ctx context.Context, abs, rel string, layers []*ignoreLayer, inIgnored bool) {
	if ctx.Err() != nil {
		return
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		where := w.root.display(rel)
		if where == "" {
			where = w.root.shown()
		}
		w.fail(where, finding.ErrRead, "cannot list directory: %v", unwrapPath(err))
		if len(entries) == 0 {
			return
		}
	}
	if !w.s.noGitignore {
		for _, e := range entries {
			if e.Name() == ".gitignore" && e.Type().IsRegular() {
				layers = w.loadIgnore(filepath.Join(abs, e.Name()), rel, layers)
				break
			}
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
		if name == ".git" {
			continue // a repository's database (or a worktree's pointer file)
		}
		isLink := mode&fs.ModeSymlink != 0
		var target fs.FileInfo
		if isLink {
			target, err = os.Stat(childAbs)
			if err == nil && target.IsDir() {
				// Directory links are never followed: no loops, no escapes.
				w.s.log.Debug("not following directory symlink", "path", display)
				continue
			}
		}
		isDir := e.IsDir()
		if w.userExcluded(childRel, display) {
			continue
		}
		ignored := false
		if inIgnored || ignoredBy(layers, childRel, isDir) {
			if isDir && w.tracked.hasUnder(childRel) {
				ignored = true // walk it: some files below are tracked
			} else if !isDir && w.tracked.has(childRel) {
				w.s.log.Debug("tracked although .gitignore matches it: scanned", "path", display)
			} else {
				ignored = true
			}
		}
		if isDir {
			if ignored && (dependencyDirs[name] || len(w.s.seeIgnored) == 0) && !w.tracked.hasUnder(childRel) {
				w.ignored++
				w.s.log.Debug("gitignored directory: not walked", "path", display)
				continue
			}
			w.walkDir(ctx, childAbs, childRel, layers, ignored)
			continue
		}
		if ignored {
			w.ignored++
			if len(w.s.seeIgnored) == 0 {
				w.s.log.Debug("gitignored", "path", display)
				continue
			}
			w.s.log.Debug("gitignored: only sniffed for model files", "path", display)
		}
		if isLink {
			if err != nil {
				// Nothing to read, so nothing missed: a note, not a gap.
				w.fail(display, finding.ErrExcluded, "broken symbolic link; nothing to read")
				continue
			}
			if !w.inside(childAbs) {
				if !w.modelLink(display, name, "outside the scanned root") {
					w.fail(display, finding.ErrSkipped, "symbolic link points outside the scanned root; its target was not scanned")
				}
				continue
			}
			if !target.Mode().IsRegular() {
				if !w.modelLink(display, name, "to a special file") {
					w.s.log.Debug("skipping link to a special file", "path", display)
				}
				continue
			}
			w.file(ctx, job{abs: childAbs, rel: display, root: w.root.arg, size: target.Size(), ignored: ignored})
			continue
		}
		if !mode.IsRegular() {
			// FIFOs, sockets and devices are never opened: they could block
			// or never end.
			w.s.log.Debug("skipping special file", "path", display)
			continue
		}
		info, err := e.Info()
		if err != nil {
			w.fail(display, finding.ErrRead, "cannot stat: %v", unwrapPath(err))
			continue
		}
		w.file(ctx, job{abs: childAbs, rel: display, root: w.root.arg, size: info.Size(), ignored: ignored})
	}
}

// file applies the user's size cap and queues the file. Without a cap set
// by the user no file is skipped here: each analyzer applies its own limit
// (and reports it), and the model analyzer reads only what its verdict
// needs, so a 10 GB checkpoint is judged, not skipped.
func (w *walker) file(ctx context.Context, j job) {
	if w.s.maxSize > 0 && j.size > w.s.maxSize {
		if j.ignored {
			return // already counted as ignored; over the user's cap as well
		}
		w.excluded++
		w.fail(j.rel, finding.ErrExcluded, "%d bytes is over the %d-byte --max-file-size you set; not scanned", j.size, w.s.maxSize)
		return
	}
	w.send(ctx, j)
}

// userExcluded applies --exclude (to the root-relative and the display
// path); an excluded directory is not walked.
func (w *walker) userExcluded(rel, display string) bool {
	for _, g := range w.s.exclude {
		if g.MatchExact(rel) || (display != rel && g.MatchExact(display)) {
			w.excluded++
			w.s.log.Debug("excluded", "path", display, "glob", g.String())
			return true
		}
	}
	return false
}

func (w *walker) loadIgnore(p, base string, layers []*ignoreLayer) []*ignoreLayer {
	f, err := openIgnoreFile(p)
	if err != nil {
		w.fail(w.root.display(joinRel(base, ".gitignore")), finding.ErrRead, "cannot read: %v", unwrapPath(err))
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

// modelFileExts are the names model loaders are pointed at. A symbolic link
// with such a name that the walk does not follow is a model file nobody
// judged, so it fails the gate (MLG111) rather than only making the report
// incomplete; any other unfollowed link stays an error.
var modelFileExts = []string{".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".jbl", ".npy", ".npz",
	".h5", ".hdf5", ".keras", ".onnx", ".safetensors", ".pb", ".skops", ".dill", ".cloudpkl", ".gz", ".bz2", ".xz", ".lzma", ".zip", ".tar"}

func (w *walker) modelLink(display, name, where string) bool {
	lower := strings.ToLower(name)
	model := name == "MLmodel"
	for _, ext := range modelFileExts {
		model = model || strings.HasSuffix(lower, ext)
	}
	if !model {
		return false
	}
	w.links = append(w.links, finding.Finding{RuleID: "MLG111", Path: display,
		Message: fmt.Sprintf("not fully judged (symlink): a model file that is a symbolic link %s; the loader would read its target, which was not judged", where)})
	return true
}
