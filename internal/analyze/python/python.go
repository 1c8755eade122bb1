package python

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// MaxSize is the largest Python file analysed; bigger ones are skipped with
// a "limit" error (generated code, vendored bundles).
const MaxSize = 8 << 20

// Analyzer checks Python source for the code-enforced rules.
type Analyzer struct {
	whole   bool // parse every file whole (no slicing): the reference the slicer is tested against
	parsers parserPool
	policy  config.Policy
	log     *slog.Logger
	sec     secretChecker
	helpers helperCache // registry helpers of modules read for relative imports (helpers.go)
}

// New builds the analyzer for one scan.
func New(opts analyze.Options) *Analyzer {
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pol := opts.Policy
	if len(pol.ProtectedStages) == 0 && len(pol.ProtectedAliases) == 0 {
		def := config.DefaultPolicy()
		pol.ProtectedStages, pol.ProtectedAliases = def.ProtectedStages, def.ProtectedAliases
	}
	if pol.Approval.ApprovedBy == "" {
		pol.Approval.ApprovedBy = config.DefaultPolicy().Approval.ApprovedBy
	}
	a := &Analyzer{parsers: newParserPool(), policy: pol, log: lg, sec: detector{secrets.New()}}
	runtime.AddCleanup(a, func(pp parserPool) { pp.drain() }, a.parsers)
	return a
}

var (
	_ analyze.Analyzer    = (*Analyzer)(nil)
	_ analyze.SizeLimiter = (*Analyzer)(nil)
)

// Name implements analyze.Analyzer.
func (a *Analyzer) Name() string { return "python" }

// MaxFileSize caps the size of files handed to Analyze.
func (a *Analyzer) MaxFileSize() int64 { return MaxSize }

// Relevant accepts .py/.pyw files and scripts with a python shebang.
func (a *Analyzer) Relevant(f *analyze.File) bool {
	switch strings.ToLower(path.Ext(f.Path)) {
	case ".py", ".pyw":
		return true
	case "":
		h := f.Head
		if bytes.HasPrefix(h, []byte("#!")) {
			line := h
			if i := bytes.IndexByte(h, '\n'); i >= 0 {
				line = h[:i]
			}
			return bytes.Contains(line, []byte("python"))
		}
	}
	return false
}

// Analyze implements analyze.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, f *analyze.File) (res analyze.Result) {
	if f.Size > MaxSize {
		res.Fail(finding.Error{Path: f.Path, Kind: "limit", Message: fmt.Sprintf("file is %d bytes, over the %d-byte limit for Python files", f.Size, MaxSize)})
		return res
	}
	b, err := f.ReadAll()
	if err != nil {
		res.Fail(finding.Error{Path: f.Path, Kind: "read", Message: fmt.Errorf("reading %s: %w", f.Path, err).Error()})
		return res
	}
	if len(b) > MaxSize {
		res.Fail(finding.Error{Path: f.Path, Kind: "limit", Message: fmt.Sprintf("file is over the %d-byte limit for Python files", MaxSize)})
		return res
	}
	return a.analyzeIn(ctx, f.Path, b, pkgDir{dir: filepath.Dir(f.Abs), root: f.Root})
}

// analyzeBytes is Analyze on content already in memory.
func (a *Analyzer) analyzeBytes(ctx context.Context, name string, b []byte) analyze.Result {
	return a.analyzeIn(ctx, name, b, pkgDir{})
}

// analyzeIn is analyzeBytes for a file at pkg on disk.
func (a *Analyzer) analyzeIn(ctx context.Context, name string, b []byte, pkg pkgDir) analyze.Result {
	k := srcKind{pkg: pkg}
	if databricksSource(b) {
		b = blankEscapes(b)
		k = srcKind{notebook: true, starImp: notebookRun(b), pkg: pkg}
	}
	return a.analyzeSource(ctx, name, b, k)
}

// srcKind says what runtime a source runs in.
type srcKind struct {
	notebook bool // a notebook kernel: its runtime names are known
	starImp  bool // "%run" of another notebook may define any name
	pkg      pkgDir
}

// analyzeSource analyses Python source b, already freed of notebook escapes.
func (a *Analyzer) analyzeSource(ctx context.Context, name string, b []byte, k srcKind) (res analyze.Result) {
	defer func() {
		// A bug in a check must cost one file, not the scan.
		if r := recover(); r != nil {
			a.log.Error("python analyzer failed", "path", name, "panic", r)
			res.Fail(finding.Error{Path: name, Kind: "unchecked", Message: fmt.Sprintf("internal error while analysing: %v", r)})
		}
	}()
	if !mayMatch(b) {
		return res
	}
	sl := sliced{src: b, whole: true}
	if !a.whole {
		sl = slice(b)
	}
	if sl.skip {
		return res
	}
	root, lim, err := loadGrammar().parse(ctx, a.parsers, sl.src)
	if err == nil && !sl.whole && hasError(root) {
		// a syntax error in what was kept: analyse (and report) the whole file
		sl = sliced{src: b, whole: true}
		root, lim, err = loadGrammar().parse(ctx, a.parsers, b)
	}
	if err != nil {
		kind := finding.ErrUnchecked
		var tooMany errTooManyNodes
		if errors.As(err, &tooMany) || errors.Is(err, errParseMemory) {
			kind = finding.ErrLimit
		}
		res.Fail(finding.Error{Path: name, Kind: kind, Message: fmt.Sprintf("parsing %s: %v", name, err)})
		return res
	}
	s := newSrc(sl.src)
	if line, msg, bad := firstError(s, root); bad {
		a.log.Debug("python syntax error; analysing what parsed", "path", name, "line", line)
		res.Fail(finding.Error{Path: name, Line: line, Kind: "parse", Message: msg})
	}
	if lim.deepAt >= 0 {
		line, _ := s.pos(uint32(lim.deepAt))
		res.Fail(finding.Error{Path: name, Line: line, Kind: "limit", Message: fmt.Sprintf(
			"code nested deeper than %d syntax levels at line %d was not analysed; the rest of the file was", maxDepth, line)})
	}
	var fc *fileCtx
	var callIn map[string]*val
	for pass := 0; pass < maxCallerPasses; pass++ {
		fc = &fileCtx{ctx: ctx, s: s, policy: a.policy, sec: a.sec, bound: map[string]bool{},
			models: map[string]*modelInfo{}, enums: map[string]bool{},
			classes: map[*node]*classInfo{}, seen: map[findKey]bool{}, callIn: callIn, test: testPath(name), pkg: k.pkg,
			helper: func(p, fn string) bool { return a.registryHelper(ctx, p, fn) }}
		if k.notebook {
			fc.notebook, fc.starImp = true, k.starImp
		}
		// only vars() consults it; most files never call it
		fc.cliDump = !bytes.Contains(b, []byte("vars(")) || fc.cliSecretOption(b)
		fc.collectBound(root)
		for n := range sl.bound {
			fc.bound[n] = true
		}
		m := newScope(fc, root, nil)
		fc.module = m
		fc.prescan(m, root)
		m.block(root)
		fc.runDeferred()
		// another pass only when all of them fit in one file's work budget:
		// following callers must not multiply the worst case
		if sameCallFacts(fc.callOut, callIn) || fc.ops*maxCallerPasses >= maxOps || ctx.Err() != nil {
			break
		}
		callIn = fc.callOut
	}
	fc.finishDumps()
	a.log.Debug("python file analysed", "path", name, "findings", len(fc.findings), "ops", fc.ops)
	if fc.ops >= maxOps {
		res.Fail(finding.Error{Path: name, Kind: "limit", Message: fmt.Sprintf(
			"analysis stopped at the work limit (%d evaluation steps); code after that point was not checked", maxOps)})
	}
	if ctx.Err() != nil {
		res.Fail(finding.Error{Path: name, Kind: "unchecked", Message: fmt.Sprintf("analysis cancelled: %v", ctx.Err())})
	}
	for i := range fc.findings {
		fc.findings[i].Path = name
	}
	res.Findings = dropTestFindings(name, fc.findings)
	return res
}

func hasError(root *node) bool {
	bad := false
	walk(root, func(n *node) bool {
		bad = bad || n.bad
		return !bad
	})
	return bad
}

// firstError finds the first ERROR or MISSING node.
func firstError(s *src, root *node) (int, string, bool) {
	var bad *node
	walk(root, func(n *node) bool {
		if bad != nil {
			return false
		}
		if n.bad {
			bad = n
			return false
		}
		return true
	})
	if bad == nil {
		return 0, "", false
	}
	line, col := s.pos(bad.start)
	if bad.kind != "ERROR" {
		return line, fmt.Sprintf("invalid Python syntax: missing %q at line %d column %d", bad.kind, line, col), true
	}
	return line, fmt.Sprintf("invalid Python syntax at line %d column %d; the rest of the file was analysed as far as it parsed", line, col), true
}
