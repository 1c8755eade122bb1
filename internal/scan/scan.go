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

// DefaultMaxFileSize is the size cap when Options.MaxFileSize is 0. Model
// files are streamed, so the cap is generous.
const DefaultMaxFileSize int64 = 1 << 30

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
	// MaxFileSize skips larger files (reported); 0 means DefaultMaxFileSize,
	// a negative value means no cap.
	MaxFileSize int64
	// Workers is the pool size; 0 means runtime.NumCPU().
	Workers   int
	Analyzers []analyze.Analyzer
	Logger    *slog.Logger
	// Redact removes secrets from snippets. Without it snippets are left
	// empty, so that no raw secret can reach a report.
	Redact func(string) string
	// Rules resolves rule names in inline comments; nil builds the catalog index.
	Rules *rules.Index
}

// Result is everything one scan found.
type Result struct {
	Findings []finding.Finding
	Errors   []finding.Error
	// Files counts the files read and offered to the analyzers.
	Files int
}

// Run scans every root. Problems with single files or directories become
// Result.Errors and the scan goes on; Run itself fails only on bad options
// or a cancelled context.
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
	var res Result
	var dirs []*directive
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for o := range outs {
			if o.read {
				res.Files++
			}
			res.Findings = append(res.Findings, o.findings...)
			res.Errors = append(res.Errors, o.errors...)
			dirs = append(dirs, o.directives...)
		}
	}()

	walkErrs := s.walkAll(ctx, jobs)
	close(jobs)
	wg.Wait()
	close(outs)
	<-collected
	res.Errors = append(res.Errors, walkErrs...)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("scan interrupted: %w", err)
	}

	// Cross-file verdicts come after every Analyze call has returned.
	for _, a := range s.analyzers {
		fin, ok := a.(analyze.Finisher)
		if !ok {
			continue
		}
		r := s.safeFinish(ctx, a, fin)
		res.Findings = append(res.Findings, r.Findings...)
		res.Errors = append(res.Errors, r.Errors...)
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
	roots     []rootInfo
	exclude   config.GlobList
	maxSize   int64
	workers   int
	analyzers []analyze.Analyzer
	log       *slog.Logger
	redact    func(string) string
	ix        *rules.Index
}

// rootInfo is one root as given and how its paths are shown.
type rootInfo struct {
	arg    string // as the user wrote it
	prefix string // display prefix ("" with a single root)
	// file is set by the walk when the root is a single file; its findings
	// then carry the path as given.
	file bool
}

// cleanArg is the root as a clean slash path without a leading "./".
func cleanArg(arg string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(arg)), "./")
}

func newScanner(opts Options) (*scanner, error) {
	if len(opts.Roots) == 0 {
		return nil, fmt.Errorf("no paths to scan: %w", ErrBadOptions)
	}
	s := &scanner{
		maxSize:   opts.MaxFileSize,
		workers:   opts.Workers,
		analyzers: opts.Analyzers,
		log:       opts.Logger,
		redact:    opts.Redact,
		ix:        opts.Rules,
	}
	if s.maxSize == 0 {
		s.maxSize = DefaultMaxFileSize
	}
	if s.workers <= 0 {
		s.workers = runtime.NumCPU()
	}
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
	for _, r := range opts.Roots {
		ri := rootInfo{arg: r}
		if len(opts.Roots) > 1 {
			ri.prefix = cleanArg(r)
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

// abs maps a finding path back to a file on disk, for late snippets.
func (s *scanner) abs(display string) (string, bool) {
	for _, r := range s.roots {
		if r.file {
			if display == cleanArg(r.arg) {
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

func (s *scanner) safeFinish(ctx context.Context, a analyze.Analyzer, fin analyze.Finisher) (r analyze.Result) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("analyzer panicked in Finish", "analyzer", a.Name(), "panic", p)
			r = analyze.Result{Errors: []finding.Error{{Kind: "internal", Message: fmt.Sprintf("%s analyzer failed in its cross-file pass: %v", a.Name(), p)}}}
		}
	}()
	return fin.Finish(ctx)
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
