package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
	"github.com/mlflow-guard/mlflow-guard/internal/triage"
)

// outputFlags are the report and policy flags scan and audit share.
type outputFlags struct {
	format   string
	output   string
	failOn   string
	config   string
	baseline string
	color    string
}

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "report `FORMAT`: text, json or sarif")
	fs.StringVar(&o.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.StringVar(&o.failOn, "fail-on", "strict", "exit 1 when an unsuppressed finding is at or above this `LEVEL`: strict, warning, advisory or never")
	fs.StringVar(&o.config, "config", "", "config `FILE` (default: .mlflow-guard.yaml or .yml in the first PATH or, inside a git work tree, the nearest parent up to its top)")
	fs.StringVar(&o.baseline, "baseline", "", "JSON report `FILE` from an earlier run; findings already in it are suppressed")
	fs.StringVar(&o.color, "color", "auto", "colour the text report: `WHEN` is auto, always or never")
}

// logFlags are -q/--quiet and -v/--verbose; logs always go to stderr.
type logFlags struct{ quiet, verbose bool }

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.quiet, "q", false, "log errors only")
	fs.BoolVar(&l.quiet, "quiet", false, "log errors only")
	fs.BoolVar(&l.verbose, "verbose", false, "log debug detail to stderr")
	fs.BoolVar(&l.verbose, "v", false, "log debug detail to stderr")
}

// validate checks the flag values before any work starts.
func (o *outputFlags) validate() error {
	var errs []error
	if _, err := report.New(o.format, report.Options{}); err != nil {
		errs = append(errs, fmt.Errorf("--format: %w", err))
	}
	if _, _, err := report.FailOn(o.failOn); err != nil {
		errs = append(errs, err)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		errs = append(errs, fmt.Errorf("--color: %q is not auto, always or never", o.color))
	}
	return errors.Join(errs...)
}

// logger writes to w at the level -q/--verbose pick (default: warnings).
func (l *logFlags) logger(w io.Writer) *slog.Logger {
	lvl := slog.LevelWarn
	if l.verbose {
		lvl = slog.LevelDebug
	}
	if l.quiet {
		lvl = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// loadConfig reads --config, or discovers a config from the first path up
// to the top of its git work tree.
func (o *outputFlags) loadConfig(firstRoot string) (*config.Config, error) {
	load := func() (*config.Config, error) {
		if o.config != "" {
			return config.Load(o.config)
		}
		return config.Discover(firstRoot)
	}
	c, err := load()
	if c != nil && c.Path != "" {
		c.Base = configBase(c.Path, firstRoot)
		c.Path = relToWD(c.Path) // it appears in reports (ignore entries)
	}
	return c, err
}

// loadBaseline reads --baseline, or returns nil.
func (o *outputFlags) loadBaseline() (*triage.Baseline, error) {
	if o.baseline == "" {
		return nil, nil
	}
	b, err := triage.LoadBaseline(o.baseline)
	if b != nil {
		b.Path = relToWD(b.Path)
	}
	return b, err
}

// relToWD shows an absolute path under the working directory relative to
// it: reports carry no machine paths where a relative one will do.
func relToWD(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return filepath.ToSlash(rel)
}

// useColor decides colour: never into a file, never with NO_COLOR or a dumb
// terminal in auto mode, only when stdout is a terminal.
func (o *outputFlags) useColor(env Env) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	if o.output != "" || env.Getenv("NO_COLOR") != "" || env.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := env.Stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// emit writes the report and returns the exit code:
//
//	3 (ExitFailed)   the report could not be written, or it is incomplete
//	                 (a path could not be read, an analyzer failed): the
//	                 findings are partial, whatever they say;
//	1 (ExitFindings) an unsuppressed finding is at or above --fail-on;
//	0 (ExitOK)       otherwise.
//
// Usage and config errors (2) are decided before a report exists.
func (o *outputFlags) emit(env Env, rep *report.Report) int {
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	if rep.Errors == nil {
		rep.Errors = []finding.Error{}
	}
	w, err := report.New(o.format, report.Options{Color: o.useColor(env)})
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard: %v\n", err)
		return ExitUsage
	}
	if err := o.write(env, w, rep); err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard: %v\n", err)
		return ExitFailed
	}
	if o.format != "text" || o.output != "" {
		// Machine formats stay clean on stdout; the person at the terminal
		// still gets one line on stderr.
		fmt.Fprintf(env.Stderr, "mlflow-guard %s: %s\n", rep.Tool.Command, report.SummaryLine(rep))
		if report.Summarize(rep.Findings, rep.Errors, rep.Summary).Incomplete {
			fmt.Fprintf(env.Stderr, "mlflow-guard %s: INCOMPLETE: some input was not fully analyzed (see the errors in the report); exit 3\n", rep.Tool.Command)
		}
	}
	return o.exitCode(rep)
}

// exitCode applies the partial-result rule first: a report that is
// incomplete exits 3 even when it also holds failing findings, because a
// broken scan must never look like a finished one (rules.md: one code
// never means both; the findings are in the report either way).
func (o *outputFlags) exitCode(rep *report.Report) int {
	if report.Summarize(rep.Findings, rep.Errors, rep.Summary).Incomplete {
		return ExitFailed
	}
	level, never, err := report.FailOn(o.failOn)
	if err != nil {
		return ExitUsage
	}
	if !never && rep.Failing(level) > 0 {
		return ExitFindings
	}
	return ExitOK
}

func (o *outputFlags) write(env Env, w report.Writer, rep *report.Report) error {
	if o.output == "" || o.output == "-" {
		if err := w.Write(env.Stdout, rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	// Through a temp file in the same directory, never over a link, a
	// device or a directory.
	if err := safeio.WriteFile(o.output, func(f io.Writer) error { return w.Write(f, rep) }); err != nil {
		return fmt.Errorf("write report %s: %w", o.output, err)
	}
	return nil
}

// stringList is a repeatable string flag (--exclude a --exclude b); a
// comma also separates values.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// parseInterspersed lets flags follow positional arguments ("scan . --format
// json"), which the flag package alone stops at; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed a "--" if that is what stopped it.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// configBase is the scanned directory root relative to the directory of the
// config file at cfgPath, or "" when it is that directory, outside it, or
// not a directory (a file root's findings are named from the working
// directory).
func configBase(cfgPath, root string) string {
	cd, err1 := filepath.Abs(filepath.Dir(cfgPath))
	rd, err2 := filepath.Abs(root)
	if err1 != nil || err2 != nil {
		return ""
	}
	if info, err := os.Stat(rd); err != nil || !info.IsDir() {
		return ""
	}
	rel, err := filepath.Rel(cd, rd)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}
