// Package scan walks the trees to scan (gitignore- and exclude-aware, with
// size caps, never following directory symlinks) and hands each file to the
// analyzers on a worker pool. It fills each finding's path and snippet and
// applies inline suppression comments; levels, config ignores and baselines
// are the triage package's job.
package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// MaxWorkers caps Options.Workers: more goroutines than this only add
// memory (each holds a file's analysis) without adding speed.
const MaxWorkers = 64

// ErrBadOptions wraps every error Run returns for options it cannot use
// (no roots, a bad exclude glob): a usage error, not a failed scan.
var ErrBadOptions = errors.New("bad scan options")

// Options configure one scan.
type Options struct {
	// Roots are files or directories; several roots prefix finding paths
	// with the root as given.
	Roots []string
	// Exclude are globs ("vendor/**", "*.min.js") relative to a root.
	Exclude []string
	// MaxFileSize is a cap the user chose: larger files are left out and
	// listed as notes (finding.ErrExcluded), which do not fail the run. 0 or
	// a negative value: no scan-wide cap; each analyzer applies its own
	// limit and reports what it skips.
	MaxFileSize int64
	// Workers is the pool size; 0 means runtime.NumCPU(); at most MaxWorkers.
	Workers int
	// NoGitignore scans what .gitignore files would hide.
	NoGitignore bool
	// SeeIgnored names the analyzers that are also offered files a
	// .gitignore hides (the model analyzer: models live in gitignored
	// mlruns/ and models/ directories). The others never see them. Files
	// git tracks are scanned by every analyzer whatever .gitignore says.
	SeeIgnored []string
	Analyzers  []analyze.Analyzer
	Logger     *slog.Logger
	// Redact removes secrets from snippets. Without it snippets are left
	// empty, so that no raw secret can reach a report.
	Redact func(string) string
	// Rules resolves rule names in inline comments; nil builds the catalog index.
	Rules *rules.Index
	// FileDone, when set, is called once per file read, from one goroutine
	// (the CLI's progress line).
	FileDone func()
}

// Result is everything one scan found.
type Result struct {
	Findings []finding.Finding
	Errors   []finding.Error
	// Files counts the files read and offered to the analyzers.
	Files int
	// Ignored counts paths a .gitignore hid from the code and config
	// analyzers; Excluded those the user's excludes and size cap left out.
	Ignored, Excluded int
	// Roots are the roots scanned: Options.Roots without duplicates and
	// without roots inside another root. Finding paths are relative to the
	// single root, or prefixed with the root as given when there are several.
	Roots []string
	// Interrupted is set when the context was cancelled (SIGINT, SIGTERM):
	// the result is partial and carries an finding.ErrCancelled error.
	Interrupted bool
}

// Run scans every root. Problems with single files or directories become
// Result.Errors and the scan goes on; Run itself fails only on bad options.
// A cancelled context stops the walk and the workers promptly; what was
// found so far is returned with Interrupted set and an error of kind
// finding.ErrCancelled, so the partial report says it is partial.
func Run(ctx context.Context, opts Options) (Result, error) {
	s, err := newScanner(opts)
	if err != nil {
		return Result{}, err
	}
	jobs := make(chan job, 4*s.workers)
	outs := make(chan fileResult, 4*s.workers)

	var wg sync.WaitGroup
	for i := 0; i < s.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				outs <- s.process(ctx, j)
			}
		}()
	}
	res := Result{Roots: make([]string, 0, len(s.roots))}
	for _, r := range s.roots {
		res.Roots = append(res.Roots, r.arg)
	}
	var dirs []*directive
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for o := range outs {
			if o.read {
				res.Files++
				if opts.FileDone != nil {
					opts.FileDone()
				}
			}
			res.Findings = append(res.Findings, o.findings...)
			res.Errors = append(res.Errors, o.errors...)
			dirs = append(dirs, o.directives...)
		}
	}()

	links, walkErrs, ignored, excluded := s.walkAll(ctx, jobs)
	close(jobs)
	wg.Wait()
	close(outs)
	<-collected
	res.Errors = append(res.Errors, walkErrs...)
	res.Findings = append(res.Findings, links...)
	res.Ignored, res.Excluded = ignored, excluded
	if err := ctx.Err(); err != nil {
		res.Interrupted = true
		res.Errors = append(res.Errors, finding.Error{Kind: finding.ErrCancelled,
			Message: fmt.Sprintf("scan interrupted (%v) after %d files; the rest were not analyzed and cross-file checks did not run", context.Cause(ctx), res.Files)})
	} else {
		// Cross-file verdicts come after every Analyze call has returned.
		for _, a := range s.analyzers {
			r := analyze.Finish(ctx, a)
			res.Findings = append(res.Findings, r.Findings...)
			res.Errors = append(res.Errors, r.Errors...)
		}
	}
	extra, errs := s.fillLate(res.Findings, dirs)
	dirs = append(dirs, extra...)
	res.Errors = append(res.Errors, errs...)

	res.Errors = append(res.Errors, applyInline(res.Findings, dirs)...)
	finding.Sort(res.Findings)
	finding.SortErrors(res.Errors)
	return res, nil
}

type scanner struct {
	roots       []rootInfo
	exclude     config.GlobList
	maxSize     int64
	workers     int
	analyzers   []analyze.Analyzer
	log         *slog.Logger
	redact      func(string) string
	ix          *rules.Index
	noGitignore bool
	seeIgnored  map[string]bool
}

// rootInfo is one root as given and how its paths are shown.
type rootInfo struct {
	arg    string // as the user wrote it
	prefix string // display prefix ("" with a single root)
	// file is set by the walk when the root is a single file; its findings
	// then carry the path as given.
	file bool
	// name replaces an absolute root outside the working directory in
	// reports (its base name), so no machine path is printed; "" keeps
	// cleanArg's form.
	name string
}

// cleanArg is the root as a clean slash path without a leading "./". An
// absolute root under the working directory is shown relative to it, so
// reports carry no machine paths where a relative one will do.
func cleanArg(arg string) string {
	if filepath.IsAbs(arg) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, arg); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				arg = rel
			}
		}
	}
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(arg)), "./")
}

// shown is how the root itself appears in reports.
func (r rootInfo) shown() string {
	if r.name != "" {
		return r.name
	}
	return cleanArg(r.arg)
}

// outsideName is the base name an absolute root outside the working
// directory is shown by, or "" for a root cleanArg already shows relative.
func outsideName(arg string) string {
	c := cleanArg(arg)
	if !path.IsAbs(c) {
		return ""
	}
	if b := path.Base(c); b != "/" && b != "." {
		return b
	}
	return ""
}

func newScanner(opts Options) (*scanner, error) {
	if len(opts.Roots) == 0 {
		return nil, fmt.Errorf("no paths to scan: %w", ErrBadOptions)
	}
	s := &scanner{
		maxSize:     opts.MaxFileSize,
		workers:     opts.Workers,
		analyzers:   opts.Analyzers,
		log:         opts.Logger,
		redact:      opts.Redact,
		ix:          opts.Rules,
		noGitignore: opts.NoGitignore,
		seeIgnored:  map[string]bool{},
	}
	for _, n := range opts.SeeIgnored {
		s.seeIgnored[n] = true
	}
	if s.workers <= 0 {
		s.workers = runtime.NumCPU()
	}
	s.workers = min(s.workers, MaxWorkers)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ix == nil {
		s.ix = rules.NewIndex()
	}
	for _, p := range opts.Exclude {
		g, err := config.CompileGlob(p)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w (%w)", err, ErrBadOptions)
		}
		s.exclude = append(s.exclude, g)
	}
	roots := dedupRoots(opts.Roots)
	// Absolute roots outside the working directory are shown by base name;
	// two roots with the same base name keep their full form, so paths stay
	// unambiguous.
	names := map[string]int{}
	for _, r := range roots {
		names[path.Base(cleanArg(r))]++
	}
	for _, r := range roots {
		ri := rootInfo{arg: r}
		if n := outsideName(r); n != "" && names[n] == 1 {
			ri.name = n
		}
		if len(roots) > 1 {
			ri.prefix = ri.shown()
			if ri.prefix == "." {
				ri.prefix = ""
			}
		}
		s.roots = append(s.roots, ri)
	}
	return s, nil
}

// display turns a root-relative path into the path findings carry.
func (r rootInfo) display(rel string) string {
	switch {
	case r.prefix == "":
		return rel
	case rel == "":
		return r.prefix
	}
	return r.prefix + "/" + rel
}

// dedupRoots drops roots that another root already covers: the same
// directory or file given twice ("scan a a", "scan . ./"), or a path inside
// a directory root ("scan a a/b"), so no finding is reported twice. Roots
// are compared by their resolved paths; order is kept.
func dedupRoots(roots []string) []string {
	type res struct {
		real string
		dir  bool
	}
	rs := make([]res, len(roots))
	for i, r := range roots {
		real, err := filepath.EvalSymlinks(r)
		if err == nil {
			real, err = filepath.Abs(real)
		}
		if err != nil {
			rs[i] = res{} // unresolvable: kept, reported by the walk
			continue
		}
		st, err := os.Stat(real)
		rs[i] = res{real: real, dir: err == nil && st.IsDir()}
	}
	var out []string
	for i, r := range roots {
		covered := false
		for j := range roots {
			if i == j || rs[i].real == "" || rs[j].real == "" || !rs[j].dir {
				continue
			}
			same := rs[i].real == rs[j].real
			inside := strings.HasPrefix(rs[i].real, strings.TrimSuffix(rs[j].real, string(filepath.Separator))+string(filepath.Separator))
			if (same && j < i) || inside {
				covered = true
				break
			}
		}
		if !covered && rs[i].real != "" && !rs[i].dir {
			// the same file given twice
			for j := 0; j < i; j++ {
				if rs[j].real == rs[i].real {
					covered = true
				}
			}
		}
		if !covered {
			out = append(out, r)
		}
	}
	return out
}

// abs maps a finding path back to a file on disk, for late snippets.
func (s *scanner) abs(display string) (string, bool) {
	for _, r := range s.roots {
		if r.file {
			if display == r.shown() {
				return r.arg, true
			}
			continue
		}
		if r.prefix == "" {
			return filepath.Join(r.arg, filepath.FromSlash(display)), true
		}
		if rel, ok := strings.CutPrefix(display, r.prefix+"/"); ok {
			return filepath.Join(r.arg, filepath.FromSlash(rel)), true
		}
	}
	return "", false
}

// fillLate adds snippets to findings that lack one (from Finish) and parses
// the directives of their files, skipping directives already known.
func (s *scanner) fillLate(fs []finding.Finding, known []*directive) ([]*directive, []finding.Error) {
	want := map[string]map[int][]int{} // path -> line -> finding indexes
	for i, f := range fs {
		if f.Snippet != "" || f.Line <= 0 || f.Member != "" || f.Path == "" {
			continue
		}
		if want[f.Path] == nil {
			want[f.Path] = map[int][]int{}
		}
		want[f.Path][f.Line] = append(want[f.Path][f.Line], i)
	}
	have := map[string]bool{}
	for _, d := range known {
		have[fmt.Sprintf("%s:%d", d.path, d.line)] = true
	}
	var dirs []*directive
	var errs []finding.Error
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		abs, ok := s.abs(p)
		if !ok {
			continue
		}
		ds, es := s.readLines(abs, p, want[p], fs, func(d *directive) bool { return !have[fmt.Sprintf("%s:%d", d.path, d.line)] })
		dirs = append(dirs, ds...)
		errs = append(errs, es...)
	}
	return dirs, errs
}
