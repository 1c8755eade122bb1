// Package audit is the read-only posture check of a live MLflow server: the
// server's own configuration as seen from outside (authentication, default
// credentials, transport, headers, CORS/Host handling, GraphQL), and the data
// it holds (secrets in runs, artifact locations, unapproved production
// models, pickle-based models). Facts come from a Source: the REST API or,
// for very large servers, MLflow's SQL backend read directly.
package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// Options configure one audit.
type Options struct {
	Policy config.Policy
	Logger *slog.Logger
	// Client is the REST client; nil in database-only mode (then the server
	// checks and the MLmodel checks are skipped and reported as unchecked).
	Client *mlflowapi.Client
	// Source supplies the tracking and registry facts (REST or SQL).
	Source Source
	// Concurrency is how many experiments/models are read at once (default 4).
	Concurrency int
	// Deep downloads model artifacts and runs the model analyzer on them.
	Deep bool
	// DeepBudget caps the bytes downloaded in deep mode (all versions).
	DeepBudget int64
	// Progress, when set, receives a live progress line (a TTY).
	Progress io.Writer
	// Secrets is the detector (nil: secrets.New()).
	Secrets *secrets.Detector
	// ApprovalKeys are the gateway's approval public keys. With them, a
	// protected version needs a record they signed (tag
	// mlflow-guard.approval); without them, the older unsigned tags of
	// Policy.Approval are read, which anyone with EDIT can write.
	ApprovalKeys []ed25519.PublicKey
	// Now is the clock approvals are checked against (nil: time.Now).
	Now func() time.Time
}

// Stats counts what the audit looked at.
type Stats struct {
	Experiments   int64
	Runs          int64
	Values        int64 // params, tags, run names and dataset sources checked
	ModelVersions int64
	DeepBytes     int64
}

// Result is the outcome of one audit. Findings carry RuleID, Message and
// Path (a server resource); the caller runs them through triage.
type Result struct {
	Findings []finding.Finding
	Errors   []finding.Error
	// Incomplete is true when part of the server could not be read.
	Incomplete bool
	Stats      Stats
}

// Auditor runs the checks. It is built for one audit.
type Auditor struct {
	opts Options
	log  *slog.Logger
	det  *secrets.Detector
	mu   sync.Mutex
	res  Result
	// noClientOnce reports skipped MLmodel checks once.
	noClientOnce sync.Once
	// unreachable is set when the server probe got no HTTP answer: the
	// REST reads are then skipped (and reported) instead of each waiting
	// out its own timeouts.
	unreachable     atomic.Bool
	unreachableOnce sync.Once
	// newAnalyzer builds the analyzer --deep runs (tests swap it).
	newAnalyzer func(analyze.Options) analyze.Analyzer
	// production lists the Production versions of each model (under mu).
	production map[string][]string
	// unverifiedOnce notes once that signed records were seen but no key
	// was given to verify them.
	unverifiedOnce sync.Once
	// deleted holds the runs a source reported deleted (sync.Map of run ID).
	deleted sync.Map
	stats   struct {
		experiments, runs, values, versions, deepBytes atomic.Int64
	}
}

// New validates the options.
func New(opts Options) (*Auditor, error) {
	if opts.Source == nil && opts.Client == nil {
		return nil, fmt.Errorf("audit: need a tracking URI or a database URI")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.DeepBudget <= 0 {
		opts.DeepBudget = 1 << 30
	}
	a := &Auditor{opts: opts, log: opts.Logger, det: opts.Secrets,
		newAnalyzer: func(o analyze.Options) analyze.Analyzer { return model.New(o) }}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.det == nil {
		a.det = secrets.New()
	}
	return a, nil
}

// Run performs the audit. It never stops at the first failure: what could
// be read is judged, what could not is recorded as an error and the result
// is marked incomplete.
func (a *Auditor) Run(ctx context.Context) Result {
	if a.opts.Client != nil {
		a.serverChecks(ctx)
	} else {
		// Left out by the user's choice of mode: listed, not a failure.
		a.fail(finding.Error{Path: "server", Kind: KindExcluded,
			Message: "no --tracking-uri: server checks (MLG401, MLG404, MLG407, MLG408, MLG409) skipped"}, false)
	}
	_, rest := a.opts.Source.(*RESTSource)
	switch {
	case a.opts.Source == nil:
	case rest && a.unreachable.Load():
		a.fail(finding.Error{Path: "experiments", Kind: finding.ErrSkipped,
			Message: "server unreachable: experiments, runs and registered models not read"}, true)
	default:
		stop := a.startProgress()
		a.dataChecks(ctx)
		stop()
	}
	// Work loops stop quietly on a done context; say once that the audit
	// stopped early, and why.
	switch err := ctx.Err(); {
	case errors.Is(err, context.DeadlineExceeded):
		a.fail(finding.Error{Path: "audit", Kind: finding.ErrLimit,
			Message: "the audit deadline was reached: it stopped early and the rest of the server was not read (raise --deadline)"}, true)
	case err != nil:
		a.fail(finding.Error{Path: "audit", Kind: finding.ErrSkipped,
			Message: "the audit was interrupted: it stopped early and the rest of the server was not read"}, true)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.res
	r.Stats = Stats{
		Experiments: a.stats.experiments.Load(), Runs: a.stats.runs.Load(), Values: a.stats.values.Load(),
		ModelVersions: a.stats.versions.Load(), DeepBytes: a.stats.deepBytes.Load(),
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		if r.Findings[i].Path != r.Findings[j].Path {
			return r.Findings[i].Path < r.Findings[j].Path
		}
		return r.Findings[i].RuleID < r.Findings[j].RuleID
	})
	return r
}

// add records a finding. Path and message echo server-supplied names and
// values, so both pass through the secrets redactor: a secret the
// detectors know is never printed, whatever field carried it in.
func (a *Auditor) add(f finding.Finding) {
	f.Path = a.det.RedactAll(f.Path)
	f.Message = a.det.RedactAll(f.Message)
	a.mu.Lock()
	a.res.Findings = append(a.res.Findings, f)
	a.mu.Unlock()
}

// fail records an error; incomplete marks the findings as partial.
func (a *Auditor) fail(e finding.Error, incomplete bool) {
	e.Path = a.det.RedactAll(e.Path)
	e.Message = a.det.RedactAll(e.Message)
	lvl := slog.LevelInfo
	if incomplete {
		lvl = slog.LevelWarn
	}
	a.log.Log(context.Background(), lvl, "audit", "path", e.Path, "kind", e.Kind, "error", e.Message)
	a.mu.Lock()
	a.res.Errors = append(a.res.Errors, e)
	if incomplete {
		a.res.Incomplete = true
	}
	a.mu.Unlock()
}

// readFailed records a failure to read part of the server. A cap is a
// "limit", a resource no route reaches "skipped", any other failure (a
// request timeout included) "read"; each makes the result incomplete. The
// overall deadline is reported once by Run.
func (a *Auditor) readFailed(path string, err error) {
	kind := finding.ErrRead
	switch {
	case errors.Is(err, mlflowapi.ErrLimit):
		kind = finding.ErrLimit
	case errors.Is(err, errNotAudited):
		kind = finding.ErrSkipped
	}
	a.fail(finding.Error{Path: path, Kind: kind, Message: err.Error()}, true)
}

// KindExcluded is the error kind of a check the user's choice of mode
// left out (database mode without --tracking-uri): it is listed and does
// not make the result incomplete. Every other omission does.
const KindExcluded = finding.ErrExcluded

// errNotAudited marks a resource the auditor knows exists but could not
// reach by any route.
var errNotAudited = errors.New("not audited")
