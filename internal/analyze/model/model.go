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
	"slices"
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

// AnalyzeAt judges size bytes read through r as Analyze judges a file of
// that content named path (the gateway's sparse upload spool).
func (a *Analyzer) AnalyzeAt(ctx context.Context, path string, r io.ReaderAt, size int64) analyze.Result {
	var res analyze.Result
	s := &scan{a: a, ctx: ctx, path: path, res: &res}
	s.any(io.NewSectionReader(r, 0, size), "", path, 0)
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
	// pickle findings listed, folded past maxPickleFindings, and the folded
	// finding's position (1-based) in res.Findings.
	pickleShown, pickleFolded, pickleFoldAt int
	pickleFoldFirst                         string
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
	case fmtKerasConfig:
		if member != "" {
			break // a zip's config.json: the zip reader judges it (kerasConfig)
		}
		if r.Size() > maxBufferMember {
			s.fail("size", member, "keras config larger than %d MiB not checked", maxBufferMember>>20)
			break
		}
		b := make([]byte, r.Size())
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			s.fail("unchecked", member, "keras config not readable: %v", err)
			break
		}
		s.kerasJSON(b, member)
	}
	if len(head) > 0 && pickleStart[head[0]] {
		s.pickleText(io.NewSectionReader(r, 0, r.Size()), member)
	}
}

// pickle walks one stream and turns imports into findings. A stream with
// joblib array wrappers is read twice when it can be: as joblib.load reads
// it (array bytes skipped) and as pickle.load reads it (array bytes are
// opcodes), since either loader may be pointed at the file.
func (s *scan) pickle(r io.Reader, member string) {
	res := s.walk(r)
	if res.Joblib {
		if rs, ok := r.(io.ReadSeeker); ok {
			if _, err := rs.Seek(0, io.SeekStart); err == nil {
				plain := s.walkBy(pickle.WalkPlain, rs)
				mergePlain(&res, plain)
			}
		}
	}
	s.reportPickle(res, member)
}

// forwardsCall are allowlisted callables whose result, when called, calls
// a callable the pickle handed them.
var forwardsCall = map[string]bool{"functools.partial": true}

// hooks are the implicitly called methods a pickle's rebuilt classes
// define. __init__ counts only where copyreg._reconstructor is imported: it
// calls base.__init__ (NEWOBJ and the other paths never call it).
func hooks(res pickle.Result) []string {
	reconstructs := slices.ContainsFunc(res.Imports, func(imp pickle.Import) bool {
		return pickle.Qualified(imp.Module, imp.Name) == "copyreg._reconstructor"
	})
	var out []string
	for _, h := range res.Hooks {
		if h != "__init__" || reconstructs {
			out = append(out, h)
		}
	}
	return out
}

// mergePlain adds the dangerous callables only pickle.load's reading
// imports. Unknown ones are left out: array bytes read as opcodes make
// names (and calls) out of the stream's own strings in real joblib files,
// and an unknown callable is only a warning in any pickle. Its break is
// expected and not reported; a cap it reached is.
func mergePlain(res *pickle.Result, plain pickle.Result) {
	have := map[[2]string]bool{}
	for _, imp := range res.Imports {
		have[[2]string{imp.Module, imp.Name}] = true
	}
	for _, imp := range plain.Imports {
		if k := pickle.Classify(imp).Kind; !have[[2]string{imp.Module, imp.Name}] && k == pickle.Dangerous {
			imp.Opcode += " (when read by pickle.load instead of joblib.load)"
			res.Imports = append(res.Imports, imp)
		}
	}
	if res.Limit == "" && plain.Limit != "" {
		res.Limit = plain.Limit + " (pickle.load's reading)"
	}
}

// maxPickleFindings caps the pickle findings listed per file; the rest are
// folded into one finding that counts them (the file fails either way).
const maxPickleFindings = 50

// pickleFinding is one reported callable of one member, before the cap.
type pickleFinding struct {
	rule, msg string
}

func (s *scan) reportPickle(res pickle.Result, member string) {
	var out []pickleFinding
	// One finding per callable and member, whatever the opcodes, pickles
	// of the stream or uses that named it.
	type agg struct {
		v     pickle.Verdict
		first pickle.Import
		uses  int
	}
	var order []string
	by := map[string]*agg{}
	var helpers []string
	helperCalled := ""
	forwarded := ""
	for _, imp := range res.Imports {
		v := pickle.Classify(imp)
		if v.Kind == pickle.Safe {
			// functools.partial(f)() calls f: with a rebuilt function
			// inside, that runs pickled bytecode during the load.
			if imp.ResultCalled && forwardsCall[v.Resolved] {
				forwarded = v.Resolved
			}
			continue
		}
		if !imp.Computed && pickle.CloudpickleHelpers[v.Resolved] {
			if !slices.Contains(helpers, v.Resolved) {
				helpers = append(helpers, v.Resolved)
			}
			if imp.ResultCalled && strings.HasSuffix(v.Resolved, "._make_function") {
				helperCalled = v.Resolved
			}
			continue
		}
		key := fmt.Sprintf("%d\x00%s", v.Kind, v.Resolved)
		a := by[key]
		if a == nil {
			a = &agg{v: v, first: imp}
			by[key] = a
			order = append(order, key)
		}
		a.uses += max(imp.Count, 1)
	}
	for _, key := range order {
		a := by[key]
		imp, v := a.first, a.v
		where := ""
		if res.Pickles > 1 {
			where = fmt.Sprintf(" in pickle %d of the stream", imp.Pickle+1)
		}
		uses := ""
		if a.uses > 1 {
			uses = fmt.Sprintf(" (%d uses)", a.uses)
		}
		switch v.Kind {
		case pickle.Dangerous:
			via := ""
			if q := pickle.Qualified(imp.Module, imp.Name); q != v.Resolved {
				via = fmt.Sprintf(" via %s", q)
			}
			out = append(out, pickleFinding{"MLG106", fmt.Sprintf("imports %s%s (%s) with %s at offset %d%s%s", v.Resolved, via, v.Reason, imp.Opcode, imp.Offset, where, uses)})
		case pickle.Unknown:
			out = append(out, pickleFinding{"MLG107", fmt.Sprintf("imports unknown callable %s (%s)%s%s", v.Resolved, v.Reason, where, uses)})
		}
	}
	if helperCalled == "" && forwarded != "" && len(helpers) > 0 {
		helperCalled = forwarded + " wrapping cloudpickle." + "_make_function"
	}
	switch {
	case helperCalled != "":
		out = append(out, pickleFinding{"MLG106", fmt.Sprintf("calls a function rebuilt from pickled bytecode (%s) while loading: code runs on load", helperCalled)})
	case len(helpers) > 0 && len(hooks(res)) > 0:
		out = append(out, pickleFinding{"MLG106", fmt.Sprintf("rebuilds a class from pickled bytecode (%s) that defines %s, which the unpickler or the interpreter calls while its instances load: code runs on load", strings.Join(helpers, ", "), strings.Join(hooks(res), ", "))})
	case len(helpers) > 0:
		out = append(out, pickleFinding{"MLG108", fmt.Sprintf("cloudpickled code: rebuilds functions or classes from pickled bytecode (%s), which runs code on load by design; review its code, and prefer MLflow models-from-code", strings.Join(helpers, ", "))})
	}
	for _, f := range out {
		s.addPickleFinding(f, member)
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

// addPickleFinding applies the per-file cap: past it, findings are counted
// into one folded finding, raised to MLG106 if any folded one was.
func (s *scan) addPickleFinding(f pickleFinding, member string) {
	if s.pickleShown < maxPickleFindings {
		s.pickleShown++
		s.add(f.rule, member, f.msg)
		return
	}
	s.pickleFolded++
	if s.pickleFoldAt == 0 {
		s.add(f.rule, member, "")
		s.pickleFoldAt = len(s.res.Findings)
	}
	fold := &s.res.Findings[s.pickleFoldAt-1]
	if f.rule == "MLG106" {
		fold.RuleID = "MLG106"
	}
	fold.Message = fmt.Sprintf("%d more pickle findings in this file folded (at most %d are listed per file); the first folded: %s", s.pickleFolded, maxPickleFindings, s.pickleFirstFolded(f))
}

func (s *scan) pickleFirstFolded(f pickleFinding) string {
	if s.pickleFolded == 1 {
		s.pickleFoldFirst = f.rule + " " + f.msg
	}
	return s.pickleFoldFirst
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
