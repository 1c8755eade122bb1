// Package model analyzes model artifacts chosen by content: pickles (walked,
// never loaded), the containers that carry them (zip, PyTorch, numpy,
// joblib, compressed streams, Keras, ONNX, safetensors, SavedModel), MLflow
// model directories (MLmodel) and SHA-256 manifests (--verify).
package model

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Analyzer is the model analyzer.
type Analyzer struct {
	opts analyze.Options
	log  *slog.Logger
	lim  pickle.Limits

	mu    sync.Mutex
	roots map[string]string // scan root -> prefix of its display paths, for --verify
}

// New builds the analyzer for one scan.
func New(opts analyze.Options) *Analyzer {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Analyzer{opts: opts, log: log, lim: pickle.DefaultLimits, roots: map[string]string{}}
}

var (
	_ analyze.Analyzer = (*Analyzer)(nil)
	_ analyze.Finisher = (*Analyzer)(nil)
)

func (a *Analyzer) Name() string { return "model" }

// Relevant is decided by content (plus the fixed name MLmodel).
func (a *Analyzer) Relevant(f *analyze.File) bool {
	if a.opts.VerifyManifest != "" {
		// The walk shows paths relative to the root, prefixed when several
		// roots are scanned; --verify findings must look the same.
		prefix := ""
		if rel, err := filepath.Rel(f.Root, f.Abs); err == nil && rel != "." {
			prefix = strings.TrimSuffix(f.Path, filepath.ToSlash(rel))
		}
		a.mu.Lock()
		a.roots[f.Root] = prefix
		a.mu.Unlock()
	}
	// Every file that is not positively something else may be a pickle:
	// loaders such as pickle.load and numpy.load ignore names and accept a
	// pickle without a PROTO header.
	return sniff(f.Head, f.Path) != fmtNone || mayBePickle(f.Head, f.Size) || zipAtEnd(f)
}

// Analyze opens the file for random access; nothing is read whole.
func (a *Analyzer) Analyze(ctx context.Context, f *analyze.File) analyze.Result {
	var res analyze.Result
	fh, err := f.Open()
	if err != nil {
		res.Fail(finding.Error{Path: f.Path, Kind: "read", Message: err.Error()})
		return res
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		res.Fail(finding.Error{Path: f.Path, Kind: "read", Message: err.Error()})
		return res
	}
	s := &scan{a: a, ctx: ctx, path: f.Path, abs: f.Abs, root: f.Root, res: &res}
	s.any(io.NewSectionReader(fh, 0, st.Size()), "", f.Path, 0)
	return res
}

// scan carries one file's analysis through nested containers.
type scan struct {
	a         *Analyzer
	ctx       context.Context
	path, abs string
	root      string
	res       *analyze.Result
	// One budget for everything nested in the file: bytes decompressed or
	// read from members (overlapping stored members are charged each time
	// they are read), entries listed, and bytes held in memory right now.
	inflated int64
	entries  int
	buffered int64
	capped   map[string]bool // caps already reported for this file
	spoolCap int64           // tests lower maxSpool
	ops      int64           // pickle opcodes walked, all streams of the file
}

const (
	maxDepth    = 4         // nested archives
	maxEntries  = 20_000    // archive members judged per file, nesting included; more is MLG111
	maxInflate  = 4 << 30   // nested bytes decompressed or read per file
	maxInMemory = 1 << 20   // a nested member larger than this is spooled to a temp file
	maxBuffered = 128 << 20 // nested bytes held in memory at once
)

// capReached reports a cap once per file: what it stopped is unverified.
func (s *scan) capReached(kind, member, msg string, args ...any) {
	s.once(kind, "limit", member, msg, args...)
}

// once reports an unverified cause at most once per file under key.
func (s *scan) once(key, cause, member, msg string, args ...any) {
	if s.capped == nil {
		s.capped = map[string]bool{}
	}
	if s.capped[key] {
		return
	}
	s.capped[key] = true
	s.fail(cause, member, msg, args...)
}

func (s *scan) add(rule, member, msg string) { s.addAt(rule, member, 0, msg) }

func (s *scan) addAt(rule, member string, line int, msg string) {
	// Binary formats have no lines: line 0 tells reports not to quote one.
	col := 0
	if line > 0 {
		col = 1
	}
	s.res.Add(finding.Finding{RuleID: rule, Path: s.path, Member: member, Message: msg, Line: line, Column: col})
}

// fail records that a file or member could not be fully judged. For a model
// candidate that is a gate failure, not a note: it becomes MLG111 (strict)
// with its cause, exactly as a malicious file would fail the scan. kind is
// the cause ("parse", "limit", "unchecked", "read", ...).
func (s *scan) fail(kind, member, msg string, args ...any) {
	s.unverified(kind, member, msg, args...)
}

// unverified emits MLG111 for a file or member the scanner could not fully
// judge; cause says why (parse anomaly, cap, unsupported variant, size,
// unreadable, symlink).
func (s *scan) unverified(cause, member, msg string, args ...any) {
	s.add("MLG111", member, fmt.Sprintf("not fully judged (%s): %s", cause, fmt.Sprintf(msg, args...)))
}

// any sniffs r and dispatches to the right parser, then tries r as a
// pickle as well: a match in one format does not exclude a pickle reading
// (a safetensors header or a tar name field can be one). name is the
// member name (or the file path at top level) for fixed-name artifacts.
func (s *scan) any(r *io.SectionReader, member, name string, depth int) {
	if s.ctx.Err() != nil {
		return
	}
	head := make([]byte, analyze.HeadSize)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	f := sniff(head, name)
	if depth > maxDepth && f != fmtNone && f != fmtPickle {
		s.capReached("depth", member, "archive nesting deeper than %d; %s member not checked", maxDepth, f)
		return
	}
	if f == fmtNone && hasEOCD(r, r.Size()) {
		f = fmtZip // data prepended to a zip: zipfile still opens it
	}
	switch f {
	case fmtPickle:
		if head[0] == 0x80 {
			s.pickle(r, member)
			return
		}
	case fmtZip:
		s.zip(r, member, depth)
	case fmtNpy:
		s.npy(r, member)
	case fmtGzip, fmtBzip2, fmtXz, fmtZlib, fmtLzma, fmtLz4, fmtZF:
		s.compressed(r, f, member, name, depth)
	case fmtTar:
		s.tar(r, member, depth)
	case fmt7z:
		s.fail("unchecked", member, "7z archive: not supported, its members (PyTorch files in the nullifAI samples) are not checked")
	case fmtHDF5:
		s.hdf5(r, member)
	case fmtSafetensors:
		s.safetensors(r, member)
	case fmtONNX:
		s.onnx(r, member, name)
	case fmtSavedModel:
		s.savedModel(r, member)
	case fmtMLmodel:
		s.mlmodel(r, member)
	}
	if len(head) > 0 && pickleStart[head[0]] {
		s.pickleText(io.NewSectionReader(r, 0, r.Size()), member)
	}
}

// pickle walks one stream and turns imports into findings.
func (s *scan) pickle(r io.Reader, member string) {
	res := s.walk(r)
	s.reportPickle(res, member)
}

func (s *scan) reportPickle(res pickle.Result, member string) {
	seen := map[string]bool{}
	for _, imp := range res.Imports {
		v := pickle.Classify(imp)
		where := ""
		if res.Pickles > 1 {
			where = fmt.Sprintf(" in pickle %d of the stream", imp.Pickle+1)
		}
		switch v.Kind {
		case pickle.Dangerous:
			via := ""
			if q := pickle.Qualified(imp.Module, imp.Name); q != v.Resolved {
				via = fmt.Sprintf(" via %s", q)
			}
			s.add("MLG106", member, fmt.Sprintf("imports %s%s (%s) with %s at offset %d%s", v.Resolved, via, v.Reason, imp.Opcode, imp.Offset, where))
		case pickle.Unknown:
			key := fmt.Sprintf("%d\x00%s", imp.Pickle, v.Resolved)
			if seen[key] {
				continue
			}
			seen[key] = true
			s.add("MLG107", member, fmt.Sprintf("imports unknown callable %s (%s)%s", v.Resolved, v.Reason, where))
		}
	}
	if res.Break != nil {
		s.fail("parse", member, "pickle stream broken at %v; everything before the break was checked", res.Break)
	}
	if res.Limit != "" {
		s.fail("limit", member, "pickle walk stopped: %s; the rest is unchecked", res.Limit)
	}
	if res.Embedded != "" {
		s.fail("unchecked", member, "%s", res.Embedded)
	}
	for _, an := range res.Anomalies {
		s.fail("parse", member, "pickle anomaly: %s", an)
	}
}

func joinMember(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "!" + child
}

// pickleText walks a stream recognised by the protocol 0/1 heuristic. If it
// breaks without calling anything and without naming a dangerous callable,
// it was most likely ordinary text ("cat\ndog\n" reads as a GLOBAL), and a
// stream that cannot load and calls nothing runs no code: nothing is reported.
func (s *scan) pickleText(r io.Reader, member string) {
	res := s.walk(r)
	if res.Break != nil {
		harmless := true
		for _, imp := range res.Imports {
			if imp.Called || pickle.Classify(imp).Kind == pickle.Dangerous {
				harmless = false
			}
		}
		if harmless {
			return
		}
	}
	s.reportPickle(res, member)
}

// pickleQuiet walks a stream the loader never unpickles (tensor storage):
// imports still count, but a break is expected and not reported.
func (s *scan) pickleQuiet(r io.Reader, member string) {
	res := s.walk(r)
	if len(res.Imports) == 0 {
		return
	}
	res.Break, res.Anomalies = nil, nil
	s.reportPickle(res, member)
}
