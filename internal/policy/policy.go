// Package policy judges one MLflow request before the gateway forwards it:
// secrets in tracking data (MLG201, MLG203), artifact paths, sources and
// locations (MLG205, MLG301, MLG304), SSRF targets, custom CEL rules, and
// signed artifact links (MLG305). It reads the exact bytes the gateway will
// forward, the way MLflow's server reads them, and answers allow, deny or
// rewrite (new body bytes to forward instead).
package policy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// Action is what the gateway does with the request.
type Action int

const (
	Allow Action = iota
	Deny
	// Rewrite forwards Decision.Body instead of the original body.
	Rewrite
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	case Rewrite:
		return "rewrite"
	}
	return "unknown"
}

// Decision is the answer for one request. Reason and Findings never carry a
// secret value: only keys (redacted if a key itself looks secret) and
// detector names.
type Decision struct {
	Action Action
	Rule   string // MLGnnn for Deny
	Reason string
	Body   []byte // the bytes to forward, for Rewrite
	// Findings lists everything noticed, including log-only and redacted
	// ones, for the audit log.
	Findings []Finding
}

// Finding is one policy observation, safe to log.
type Finding struct {
	Rule     string
	Field    string // "param", "tag", "run_name", ...
	Key      string // redacted if the key itself holds a secret
	Detector string // secret kind, or the check that fired
	Mode     Mode
}

// Principal is the authenticated caller.
type Principal struct {
	Name   string
	Groups []string
	Admin  bool
}

// Request is what the gateway is about to forward. Path is the URL path as
// received (still percent-encoded: RawPath if set, else Path).
type Request struct {
	Method      string
	Path        string
	RawQuery    string
	ContentType string
	Body        []byte
	Principal   Principal
	// Resource is what the gateway's route table resolved (kind, id, ...),
	// for custom policies; optional.
	Resource Resource
	// Parsed is Body as the gateway already read it (NewParsed); optional.
	// It is used only when it describes Body's exact bytes.
	Parsed *Parsed
}

// Resource is the MLflow object a request acts on.
type Resource struct {
	Kind         string
	ID           string
	Name         string
	ExperimentID string
	ModelName    string
}

// Engine holds the compiled policies. It is immutable after New and safe
// for concurrent use.
type Engine struct {
	cfg      Config
	det      *secrets.Detector
	resolver Resolver
	cel      []*celRule
	roots    []root
	log      *slog.Logger
}

// Option adjusts an Engine.
type Option func(*Engine)

// WithResolver replaces the DNS resolver (tests; production uses net.Resolver).
func WithResolver(r Resolver) Option { return func(e *Engine) { e.resolver = r } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithDetector shares a secrets detector (default: secrets.New()).
func WithDetector(d *secrets.Detector) Option { return func(e *Engine) { e.det = d } }

// New validates cfg (every problem at once) and compiles the policies.
func New(cfg Config, opts ...Option) (*Engine, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(e)
	}
	if e.det == nil {
		e.det = secrets.New()
	}
	if e.resolver == nil {
		e.resolver = netResolver{}
	}
	var err error
	if e.roots, err = parseRoots(cfg.Locations.AllowedRoots); err != nil {
		return nil, err
	}
	if e.cel, err = compileCEL(cfg.Custom); err != nil {
		return nil, err
	}
	return e, nil
}

func deny(rule, format string, args ...any) Decision {
	return Decision{Action: Deny, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// Decide judges one request. Anything it cannot read the way MLflow reads
// it is denied.
func (e *Engine) Decide(ctx context.Context, r *Request) Decision {
	path := r.Path
	if r.Method == "" || !strings.HasPrefix(path, "/") {
		return deny(RuleMalformed, "request without method or absolute path")
	}
	// The artifact routes carry a path in the URL itself.
	if d, ok := e.checkURLPath(r); ok {
		return e.withCustom(ctx, r, d)
	}
	rt, ok := matchRoute(r.Method, path)
	if !ok {
		return e.withCustom(ctx, r, Decision{Action: Allow})
	}
	var msg *message
	var err error
	if rt.queryOnly {
		// Non-proto Flask views read request.args whatever the method.
		msg, err = readQuery(r.RawQuery)
	} else {
		pre := r.Parsed
		if e.cfg.Secrets.Mode == ModeRedact {
			pre = nil // a redaction edits the tree: never the gateway's
		}
		msg, err = readMessage(r.Method, r.RawQuery, r.ContentType, r.Body, pre)
	}
	if err != nil {
		return deny(RuleMalformed, "%s %s: %v", r.Method, rt.name, err)
	}
	d := e.judge(ctx, rt, msg)
	return e.withCustom(ctx, r, d)
}

// withCustom runs the CEL rules after the built-in ones; a built-in denial
// stands.
func (e *Engine) withCustom(ctx context.Context, r *Request, d Decision) Decision {
	if d.Action == Deny || len(e.cel) == 0 {
		return d
	}
	if cd, denied := e.evalCEL(ctx, r); denied {
		cd.Findings = d.Findings
		return cd
	}
	return d
}

// RuleMalformed is the rule id for a request the policies could not read
// the way MLflow reads it (the gateway's parser-ambiguity denial).
const RuleMalformed = "MLG401"
