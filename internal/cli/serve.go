package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/gateway"
	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// serveHelp is the text above serve's flags.
var serveHelp = Help{
	Usage:       "mlflow-guard serve --upstream URL --listen HOST:PORT (--data-dir DIR | --database-url URL) [flags]",
	Description: "Runs the authenticating, authorizing, auditing gateway in front of an unmodified MLflow server.",
}

// runServe starts the gateway in front of an MLflow server.
func runServe(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("serve")
	var sf storeFlags
	sf.register(fs)
	upstream := fs.String("upstream", "", "URL of the MLflow server (on loopback or a private network, without its auth app)")
	listen := fs.String("listen", "127.0.0.1:8443", "HOST:PORT to listen on; plain HTTP only on loopback")
	metrics := fs.String("metrics-listen", "", "HOST:PORT for Prometheus /metrics (separate listener; off when empty)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM), reloaded when it changes")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	var hosts, origins, proxies listFlag
	fs.Var(&hosts, "allowed-host", "Host header name accepted (repeatable; default: loopback names and the --listen host)")
	fs.Var(&origins, "cors-origin", "origin allowed to call cross-origin (repeatable; default none)")
	fs.Var(&proxies, "trusted-proxy", "CIDR or IP of a proxy whose X-Forwarded-For is believed (repeatable)")
	maxAPI := fs.Int64("max-api-body", 16<<20, "largest JSON API request body in bytes")
	maxArt := fs.Int64("max-artifact-body", 0, "largest artifact upload in bytes (0: no limit)")
	rate := fs.Float64("rate", 200, "requests per second allowed per identity and per client IP")
	burst := fs.Int("burst", 400, "burst size of the rate limit")
	policyFile := fs.String("policy", "", "YAML `FILE` of request policies (docs/policies.md); default: every policy on, secrets denied")
	noPolicy := fs.Bool("no-policy", false, "turn the request policies off (secrets, artifact paths and locations, SSRF, custom rules, upload scanning, the registration gate); authentication, authorization, approvals and the audit log stay on")
	sqliteSync := fs.String("sqlite-sync", "normal", "SQLite commit durability: normal (survives a gateway crash; the last commits may roll back on power loss) or full (fsync every commit)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	oidcFlags := registerOIDCFlags(fs)
	signingKey := fs.String("signing-key", "", "approval signing key `FILE` (PEM PKCS#8 Ed25519); default: DIR/approval-key.pem, generated on first start")
	keyRing := fs.String("signing-key-ring", "", "`FILE` of retired approval public keys (PEM) still published for verifiers; default: DIR/approval-keyring.pem when present")
	approvalTTL := fs.Duration("approval-ttl", 24*time.Hour, "how long an approval stays usable for its promotion")
	cfgFile := fs.String("config", "", ".mlflow-guard.yaml `FILE` whose protected_stages and protected_aliases need approvals (default: Production, Staging; prod*, production, champion)")
	pos, code, done := parseFlags(env, fs, serveHelp, args)
	if done {
		return code
	}
	var problems []string
	if len(pos) > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", pos))
	}
	up, err := url.Parse(*upstream)
	if *upstream == "" || err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		problems = append(problems, "--upstream must be an http:// or https:// URL")
	}
	cfg := gateway.Config{Upstream: up, CORSOrigins: origins, TLS: *cert != "" || *key != "",
		MaxAPIBody: *maxAPI, MaxArtifact: *maxArt, RatePerSecond: *rate, RateBurst: *burst}
	for _, p := range proxies {
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--trusted-proxy %q: %v", p, err))
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	cfg.AllowedHosts = append(cfg.AllowedHosts, hosts...)
	if len(hosts) == 0 {
		cfg.AllowedHosts = []string{"localhost", "127.0.0.1", "::1"}
		if h, _, err := net.SplitHostPort(*listen); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			cfg.AllowedHosts = append(cfg.AllowedHosts, h)
		}
	}
	for _, o := range origins {
		if o == "*" || !strings.Contains(o, "://") {
			problems = append(problems, fmt.Sprintf("--cors-origin %q: give a full origin like https://ui.example.com ('*' is refused, MLG408)", o))
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, "--log-level: "+err.Error())
	}
	if *noPolicy && *policyFile != "" {
		problems = append(problems, "--no-policy and --policy together: choose one")
	}
	if *sqliteSync != "normal" && *sqliteSync != "full" {
		problems = append(problems, fmt.Sprintf("--sqlite-sync %q: give normal or full", *sqliteSync))
	}
	var pcfg policy.Config
	if *policyFile != "" {
		data, err := os.ReadFile(*policyFile)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--policy: %v", err))
		} else if pcfg, err = policy.ParseConfig(data, *policyFile); err != nil {
			// ParseConfig joins every problem; report each on its own line.
			for i, line := range strings.Split(err.Error(), "\n") {
				if line = strings.TrimSpace(line); i > 0 && line != "" {
					line = *policyFile + ": " + line
				}
				if line != "" {
					problems = append(problems, "--policy "+line)
				}
			}
		}
	}
	if oc, p := oidcFlags.config(env); len(p) > 0 {
		problems = append(problems, p...)
	} else {
		cfg.OIDC = oc
	}
	if *approvalTTL <= 0 {
		problems = append(problems, "--approval-ttl must be positive")
	}
	if *signingKey == "" && sf.dataDir == "" {
		problems = append(problems, "--signing-key FILE is required with --database-url: every replica must sign approvals with one key")
	}
	cfg.Approvals.TTL = *approvalTTL
	if *cfgFile != "" {
		c, err := config.Load(*cfgFile)
		if err != nil {
			problems = append(problems, "--config: "+err.Error())
		} else {
			cfg.Approvals.Protect = c.Policy
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(env.Stderr, "mlflow-guard serve:", p)
		}
		return ExitUsage
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	if *noPolicy {
		cfg.NoPolicy = true
	} else {
		eng, err := policy.New(pcfg, policy.WithLogger(log))
		if err != nil {
			fmt.Fprintln(env.Stderr, "mlflow-guard serve: --policy:", err)
			return ExitUsage
		}
		cfg.Policy = eng
		cfg.SignedURLTTL = pcfg.SignedURLs.TTL
	}
	if cfg.Approvals.Keys, err = gateway.LoadSigningKeys(*signingKey, *keyRing, sf.dataDir, log); err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard serve:", err)
		return ExitUsage
	}
	sf.syncFull = *sqliteSync == "full"
	st, err := sf.open(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard serve:", err)
		return ExitUsage
	}
	defer st.Close()
	g, err := gateway.New(cfg, st, log)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard serve:", err)
		return ExitUsage
	}
	sctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := g.Serve(sctx, gateway.ServerOptions{Listen: *listen, MetricsListen: *metrics, CertFile: *cert, KeyFile: *key}); err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard serve:", err)
		return ExitFailed
	}
	return ExitOK
}
