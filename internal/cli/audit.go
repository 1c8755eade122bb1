package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/audit"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/progress"
	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
	"github.com/mlflow-guard/mlflow-guard/internal/triage"
)

type auditFlags struct {
	out         outputFlags
	log         logFlags
	trackingURI string
	databaseURI string
	deep        bool
	deepBudget  string
	concurrency int
	timeout     time.Duration
	deadline    time.Duration
	pageSize    int
	publicKey   string
}

func (f *auditFlags) flagSet(env Env) *flag.FlagSet {
	fs := newFlagSet("audit")
	f.out.register(fs)
	// audit takes no path: the config is found from the working directory.
	fs.Lookup("config").Usage = "config `FILE` (default: .mlflow-guard.yaml or .yml in the working directory or, inside a git work tree, the nearest parent up to its top)"
	f.log.register(fs)
	fs.StringVar(&f.trackingURI, "tracking-uri", "", "MLflow server `URL` (default $MLFLOW_TRACKING_URI); credentials come from MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN")
	fs.StringVar(&f.databaseURI, "database-uri", "", "read runs and the registry straight from MLflow's SQL backend, read-only (`URI`: sqlite:///path or postgresql://...)")
	fs.BoolVar(&f.deep, "deep", false, "also download model artifacts and scan them with the model analyzer and, for credentials in text files (MLG204), the secrets detectors")
	fs.StringVar(&f.deepBudget, "deep-budget", "1GiB", "how much --deep may download in all, a `SIZE` such as 500MB or 2GiB")
	fs.IntVar(&f.concurrency, "concurrency", 4, "experiments and models read at once")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of one HTTP request, also the wait for response headers; the connect timeout is 10s (a search page of a big server can be slow)")
	fs.DurationVar(&f.deadline, "deadline", 10*time.Minute, "the whole audit stops by this time; what is left unread makes it incomplete (exit 3)")
	fs.IntVar(&f.pageSize, "page-size", 1000, "max_results per search page")
	fs.StringVar(&f.publicKey, "public-key", "", "verify signed approval records with the gateway's approval key(s) in this PEM `FILE` (default: approval.public_key in the config); without a key the unsigned approval tags are read")
	return fs
}

// auditHelp is the text above audit's flags.
var auditHelp = Help{
	Usage: "mlflow-guard audit [--tracking-uri URL] [--database-uri URI] [--deep] [flags]",
	Description: `Read-only security audit of a live MLflow server. The server is given with
--tracking-uri or MLFLOW_TRACKING_URI; audit takes no path arguments.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config
error, 3 the audit is incomplete (part of the server could not be read).`,
}

func runAudit(ctx context.Context, env Env, args []string) int {
	var f auditFlags
	fs := f.flagSet(env)
	rest, exit, done := parseFlags(env, fs, auditHelp, args)
	if done {
		return exit
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "mlflow-guard audit: "+format+"\n", a...)
		return ExitUsage
	}
	if len(rest) > 0 {
		return usageError(env, fs, auditHelp, "unexpected argument %q (the server is given with --tracking-uri)", rest[0])
	}
	if err := f.out.validate(); err != nil {
		return usage("%v", err)
	}
	if f.trackingURI == "" {
		f.trackingURI = env.Getenv("MLFLOW_TRACKING_URI")
	}
	if f.trackingURI == "" && f.databaseURI == "" {
		return usage("need --tracking-uri (or MLFLOW_TRACKING_URI) or --database-uri")
	}
	if f.concurrency <= 0 || f.pageSize <= 0 {
		return usage("--concurrency and --page-size must be positive")
	}
	if f.timeout <= 0 || f.deadline <= 0 {
		return usage("--timeout and --deadline must be positive durations (e.g. 30s, 10m)")
	}
	budget, err := config.ParseSize(f.deepBudget)
	if err != nil {
		return usage("--deep-budget: %v", err)
	}
	if f.deep && f.trackingURI == "" {
		return usage("--deep downloads through the server: it needs --tracking-uri")
	}
	cfg, err := f.out.loadConfig(".")
	if err != nil {
		return usage("%v", err)
	}
	baseline, err := f.out.loadBaseline()
	if err != nil {
		return usage("%v", err)
	}
	keys, err := auditKeys(f.publicKey, cfg)
	if err != nil {
		return usage("%v", err)
	}
	log := f.log.logger(env.Stderr)
	det := secrets.New()
	// Every network wait below is bounded by this one deadline as well as
	// by the per-request timeouts.
	ctx, cancel := context.WithTimeout(ctx, f.deadline)
	defer cancel()

	opts := audit.Options{Policy: cfg.Policy, Logger: log, Concurrency: f.concurrency,
		Deep: f.deep, DeepBudget: budget, Secrets: det, ApprovalKeys: keys}
	root := f.trackingURI
	if f.trackingURI != "" {
		c, err := mlflowapi.New(f.trackingURI, mlflowapi.Options{
			Credentials: mlflowapi.CredentialsFromEnv(env.Getenv),
			Timeout:     f.timeout, PageSize: f.pageSize, Logger: log,
		})
		if err != nil {
			return usage("%v", err)
		}
		opts.Client = c
		opts.Source = &audit.RESTSource{C: c, Concurrency: f.concurrency}
	}
	if f.databaseURI != "" {
		src, err := audit.OpenDatabase(ctx, f.databaseURI)
		if errors.Is(err, audit.ErrDatabaseURI) {
			return usage("%v", err)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "mlflow-guard audit: %v\n", err)
			return ExitFailed
		}
		defer src.Close()
		opts.Source = src
		if root == "" {
			root = "database"
		}
	}
	if progress.Wanted(env.Stderr, f.log.quiet, env.Getenv) {
		opts.Progress = env.Stderr
	}
	a, err := audit.New(opts)
	if err != nil {
		return usage("%v", err)
	}
	start := time.Now()
	res := a.Run(ctx)
	st := res.Stats
	log.Info("audit done", "source", opts.Source.Name(), "experiments", st.Experiments, "runs", st.Runs,
		"values", st.Values, "model_versions", st.ModelVersions, "elapsed", time.Since(start))

	ix := rules.NewIndex()
	fds, terrs := triage.Apply(res.Findings, ix, cfg, baseline, time.Now())
	errs := append(res.Errors, terrs...)
	sum := triage.Summarize(fds, errs, 0)
	sum.Incomplete = sum.Incomplete || res.Incomplete
	rep := &report.Report{
		Tool:     report.Tool{Name: "mlflow-guard", Version: Version, Command: "audit"},
		Findings: fds,
		Errors:   errs,
		Summary:  sum,
		Rules:    ix.All(),
		Root:     root,
	}
	code := f.out.emit(env, rep)
	if sum.Incomplete {
		var first []string
		for _, e := range errs {
			if triage.IncompleteKind(e.Kind) && len(first) < 3 {
				first = append(first, e.String())
			}
		}
		fmt.Fprintf(env.Stderr, "mlflow-guard audit: INCOMPLETE: part of the server could not be read; the findings above are partial:\n  %s\n", strings.Join(first, "\n  "))
	}
	return code
}

// auditKeys reads the approval key ring from --public-key or, failing
// that, from approval.public_key in the config (relative to the config
// file). No key means the unsigned tag scheme.
func auditKeys(flagPath string, cfg *config.Config) ([]ed25519.PublicKey, error) {
	p, what := flagPath, "--public-key"
	if p == "" && cfg.Policy.Approval.PublicKey != "" {
		p, what = cfg.Policy.Approval.PublicKey, "approval.public_key in "+cfg.Path
		if !filepath.IsAbs(p) && cfg.Path != "" {
			p = filepath.Join(filepath.Dir(cfg.Path), p)
		}
	}
	if p == "" {
		return nil, nil
	}
	b, err := safeio.ReadFile(p, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	keys, err := approval.ParsePublicKeys(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, p, err)
	}
	return keys, nil
}
