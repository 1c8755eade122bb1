package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/deploy"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/python"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/progress"
	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
	"github.com/mlflow-guard/mlflow-guard/internal/scan"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
	"github.com/mlflow-guard/mlflow-guard/internal/triage"
)

// scanFlags are the flags of `mlflow-guard scan`.
type scanFlags struct {
	out         outputFlags
	log         logFlags
	exclude     stringList
	maxSize     string
	workers     int
	verify      string
	noGitignore bool
}

func (f *scanFlags) flagSet(env Env) *flag.FlagSet {
	fs := newFlagSet("scan")
	f.out.register(fs)
	f.log.register(fs)
	fs.Var(&f.exclude, "exclude", "skip paths matching `GLOB` (repeatable; ** spans directories), on top of .gitignore")
	fs.StringVar(&f.maxSize, "max-file-size", "", "leave out files larger than `SIZE` (e.g. 50MB, 1GiB; 0 for no cap); they are listed as notes and do not fail the run (default: no cap beyond each analyzer's own limit, or the config's max_file_size)")
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("files analyzed in parallel, 1 to %d (default: number of CPUs)", scan.MaxWorkers))
	fs.BoolVar(&f.noGitignore, "no-gitignore", false, "also scan what .gitignore files hide (by default only model files are looked for there; files git tracks are always scanned)")
	fs.StringVar(&f.verify, "verify", "", "check model files against the SHA-256 `MANIFEST` written by `mlflow-guard digest`")
	return fs
}

// scanHelp is the text above scan's flags.
var scanHelp = Help{
	Usage: "mlflow-guard scan [flags] [PATH...]",
	Description: `Scans Python code, deployment config and model files under each PATH (default ".").

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config
error, 3 the scan failed or is incomplete (some file was not fully analyzed,
or the run was interrupted; 3 wins over 1).`,
}

func runScan(ctx context.Context, env Env, args []string) int {
	var f scanFlags
	fs := f.flagSet(env)
	roots, code, done := parseFlags(env, fs, scanHelp, args)
	if done {
		return code
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "mlflow-guard scan: "+format+"\n", a...)
		return ExitUsage
	}
	if err := f.out.validate(); err != nil {
		return usage("%v", err)
	}
	if f.workers < 0 || f.workers > scan.MaxWorkers {
		return usage("--workers must be between 1 and %d (0: one per CPU)", scan.MaxWorkers)
	}
	if f.verify != "" {
		// A manifest that cannot be read or parsed would verify nothing:
		// that is a usage error, not a clean scan.
		if err := checkManifest(f.verify); err != nil {
			return usage("--verify: %v", err)
		}
	}
	cfg, err := f.out.loadConfig(roots[0])
	if err != nil {
		return usage("%v", err)
	}
	maxSize, err := f.sizeCap(cfg)
	if err != nil {
		return usage("%v", err)
	}
	baseline, err := f.out.loadBaseline()
	if err != nil {
		return usage("%v", err)
	}
	excludes := append([]string(nil), f.exclude...)
	for _, g := range cfg.Exclude {
		sg, ok := cfg.ScanGlob(g.String())
		if !ok {
			continue // names only paths outside the scanned directory
		}
		excludes = append(excludes, sg)
	}
	log := f.log.logger(env.Stderr)
	if cfg.Path != "" {
		log.Info("using config", "path", cfg.Path)
	}

	aopts := analyze.Options{Policy: cfg.Policy, Logger: log, VerifyManifest: f.verify}
	ix := rules.NewIndex()
	det := secrets.New()
	start := time.Now()
	var bar *progress.Line // nil: silent
	if progress.Wanted(env.Stderr, f.log.quiet, env.Getenv) {
		bar = progress.New(env.Stderr, "scan", "files", progressAfterFiles)
	}
	res, err := scan.Run(ctx, scan.Options{
		FileDone:    func() { bar.Add(1) },
		Roots:       roots,
		Exclude:     excludes,
		MaxFileSize: maxSize,
		Workers:     f.workers,
		Analyzers:   analyzers(aopts),
		Logger:      log,
		Redact:      det.RedactAll,
		Rules:       ix,
		NoGitignore: f.noGitignore,
		// Model files hide in gitignored mlruns/ and models/ directories.
		SeeIgnored: []string{modelAnalyzerName},
	})
	bar.Finish()
	if err != nil {
		if errors.Is(err, scan.ErrBadOptions) {
			return usage("%v", err)
		}
		fmt.Fprintf(env.Stderr, "mlflow-guard scan: %v\n", err)
		return ExitFailed
	}
	log.Debug("scan done", "files", res.Files, "findings", len(res.Findings), "ignored", res.Ignored, "excluded", res.Excluded, "elapsed", time.Since(start))
	if res.Interrupted {
		fmt.Fprintln(env.Stderr, "mlflow-guard scan: interrupted; writing the partial report (exit 3)")
	}

	fds, terrs := triage.Apply(res.Findings, ix, cfg, baseline, time.Now())
	errs := append(res.Errors, terrs...)
	finding.SortErrors(errs)
	sum := triage.Summarize(fds, errs, res.Files)
	sum.Ignored, sum.Excluded = res.Ignored, res.Excluded
	sum.Incomplete = sum.Incomplete || res.Interrupted
	rep := &report.Report{
		Tool:     report.Tool{Name: "mlflow-guard", Version: Version, Command: "scan"},
		Findings: fds,
		Errors:   errs,
		Summary:  sum,
		Rules:    ix.All(),
		Root:     reportRoot(res.Roots),
	}
	return f.out.emit(env, rep)
}

// analyzers is the explicit list of analyzers a scan runs, in order.
func analyzers(opts analyze.Options) []analyze.Analyzer {
	py := python.New(opts)
	return []analyze.Analyzer{py, python.NewNotebooks(py), deploy.New(opts), model.New(opts)}
}

// modelAnalyzerName is the analyzer that also sees gitignored files.
var modelAnalyzerName = model.New(analyze.Options{}).Name()

// maxManifestSize bounds a --verify manifest (one line per file).
const maxManifestSize = 64 << 20

// checkManifest reads and parses a --verify manifest up front: it must be
// a regular file (not a FIFO or a device) of sane size that parses.
func checkManifest(p string) error {
	fh, err := safeio.OpenRegular(p)
	if err != nil {
		return err
	}
	st, err := fh.Stat()
	fh.Close()
	if err != nil {
		return err
	}
	if st.Size() > maxManifestSize {
		return fmt.Errorf("%s: %d bytes is too large for a manifest", p, st.Size())
	}
	_, err = model.ReadManifest(p)
	return err
}

// sizeCap picks the size cap: the flag, else the config, else the default;
// 0 on the flag switches the cap off.
func (f *scanFlags) sizeCap(cfg *config.Config) (int64, error) {
	if f.maxSize == "" {
		return cfg.MaxFileSize, nil // 0: scan's default
	}
	n, err := config.ParseSize(f.maxSize)
	if err != nil {
		return 0, fmt.Errorf("--max-file-size: %w", err)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

// reportRoot is the base SARIF resolves paths against: the root with one
// directory root, the working directory otherwise. roots are the scan's
// effective roots (duplicates and nested roots already dropped).
func reportRoot(roots []string) string {
	if len(roots) == 1 {
		if info, err := os.Stat(roots[0]); err == nil && info.IsDir() {
			return roots[0]
		}
	}
	return "."
}

// progressAfterFiles: a scan shorter than this many files is over before a
// progress line would help.
const progressAfterFiles = 2000
