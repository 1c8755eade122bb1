package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/pull"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// pullHelp is the text above pull's flags.
var pullHelp = Help{
	Usage: "mlflow-guard pull MODEL_URI --to DIR [--public-key FILE] [flags]",
	Description: `Downloads a registered model version for deployment, only if it was
approved through the mlflow-guard gateway: a record signed with the
gateway's key, for this version, bound to the digest of its files. The
files are checked against the approved manifest and scanned, written
without executable bits, and renamed into DIR only when every check passed.
MODEL_URI is models:/NAME/VERSION or models:/NAME@ALIAS. DIR must not exist
(its parent must) or be an empty directory. The server and credentials come
from MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME/PASSWORD or
MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_INSECURE_TLS and
MLFLOW_TRACKING_SERVER_CERT_PATH.

Exit codes: 0 pulled, 1 refused (the rule and the reason are printed; DIR is
unchanged), 2 usage, configuration or credentials problem, 3 the pull
failed (network, server, a size cap); DIR is unchanged.`,
}

type pullFlags struct {
	log           logFlags
	to            string
	publicKey     string
	trackingURI   string
	allowUnpinned bool
	maxBytes      string
	maxFiles      int
	failOn        string
	workers       int
	timeout       time.Duration
}

func (f *pullFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet("pull")
	f.log.register(fs)
	fs.StringVar(&f.to, "to", "", "install the model into `DIR` (new, or an empty directory)")
	fs.StringVar(&f.publicKey, "public-key", "", "trust only the approval key(s) in this PEM `FILE` (default: fetch the gateway's key from the server and print its fingerprint)")
	fs.StringVar(&f.trackingURI, "tracking-uri", "", "MLflow server or mlflow-guard gateway `URL` (default $MLFLOW_TRACKING_URI)")
	fs.BoolVar(&f.allowUnpinned, "allow-unpinned", false, "also accept models:/NAME/latest and stage URIs (models:/NAME/Production); the version they resolve to must still be approved")
	fs.StringVar(&f.maxBytes, "max-bytes", "64GiB", "refuse to download more than this `SIZE` in all")
	fs.IntVar(&f.maxFiles, "max-files", 100000, "refuse a version with more artifact entries than this")
	fs.StringVar(&f.failOn, "fail-on", "strict", "lowest scan finding `LEVEL` that refuses the model (strict or warning; MLG107 and MLG111 always refuse)")
	fs.IntVar(&f.workers, "workers", 4, "parallel file downloads")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "timeout of one HTTP request, a whole file download included")
	return fs
}

func runPull(ctx context.Context, env Env, args []string) int {
	var f pullFlags
	fs := f.flagSet()
	rest, exit, done := parseFlags(env, fs, pullHelp, args)
	if done {
		return exit
	}
	switch {
	case len(rest) == 0:
		return usageError(env, fs, pullHelp, "missing MODEL_URI")
	case len(rest) > 1:
		return usageError(env, fs, pullHelp, "takes one MODEL_URI, got %d arguments", len(rest))
	case f.to == "":
		return usageError(env, fs, pullHelp, "missing --to DIR")
	}
	say := func(format string, a ...any) { fmt.Fprintf(env.Stderr, "mlflow-guard pull: "+format+"\n", a...) }
	usage := func(format string, a ...any) int { say(format, a...); return ExitUsage }
	maxBytes, err := config.ParseSize(f.maxBytes)
	if err != nil || maxBytes <= 0 {
		return usage("--max-bytes %q: want a positive size such as 20GiB", f.maxBytes)
	}
	failOn, err := finding.ParseLevel(f.failOn)
	if err != nil || failOn == finding.Advisory {
		return usage("--fail-on %q: want strict or warning", f.failOn)
	}
	if f.maxFiles <= 0 || f.workers <= 0 || f.workers > 64 || f.timeout <= 0 {
		return usage("--max-files must be positive, --workers 1-64, --timeout a positive duration")
	}
	if f.trackingURI == "" {
		f.trackingURI = env.Getenv("MLFLOW_TRACKING_URI")
	}
	if f.trackingURI == "" {
		return usage("need --tracking-uri or MLFLOW_TRACKING_URI")
	}
	log := f.log.logger(env.Stderr)
	c, err := mlflowapi.New(f.trackingURI, mlflowapi.Options{
		Credentials: mlflowapi.CredentialsFromEnv(env.Getenv),
		Timeout:     f.timeout, Logger: log,
	})
	if err != nil {
		return usage("%v", err)
	}
	var keys []ed25519.PublicKey
	if f.publicKey != "" {
		pemBytes, err := safeio.ReadFile(f.publicKey, 1<<20)
		if err != nil {
			return usage("--public-key: %v", err)
		}
		if keys, err = approval.ParsePublicKeys(pemBytes); err != nil {
			return usage("--public-key %s: %v", f.publicKey, err)
		}
	} else {
		var code int
		if keys, code = fetchKey(ctx, env, c); code != ExitOK {
			return code
		}
	}
	res, err := pull.Pull(ctx, pull.Options{
		Client: c, URI: rest[0], Dest: f.to, Keys: keys, AllowUnpinned: f.allowUnpinned,
		MaxBytes: maxBytes, MaxFiles: f.maxFiles, FailOn: failOn, Workers: f.workers, Logger: log,
	})
	// Server-supplied text (names, messages) is redacted before printing.
	det := secrets.New()
	var rf *pull.Refusal
	switch {
	case errors.As(err, &rf):
		say("REFUSED %s: %s is not installed; %s is unchanged", rf.RuleID, rest[0], f.to)
		fmt.Fprintf(env.Stderr, "  %s\n", det.RedactAll(rf.Error()))
		for _, m := range rf.More {
			fmt.Fprintf(env.Stderr, "  %s\n", det.RedactAll(m))
		}
		return ExitFindings
	case errors.Is(err, pull.ErrUsage), errors.Is(err, pull.ErrAuth):
		return usage("%s (%s is unchanged)", det.RedactAll(strings.TrimPrefix(err.Error(), "usage: ")), f.to)
	case err != nil:
		say("FAILED: %s (%s is unchanged)", det.RedactAll(err.Error()), f.to)
		return ExitFailed
	}
	for _, w := range res.Warnings {
		say("warning %s %s: %s", w.RuleID, w.Path, det.RedactAll(w.Message))
	}
	if _, err := fmt.Fprintln(env.Stdout, det.RedactAll(res.Describe())); err != nil {
		return ExitFailed
	}
	return ExitOK
}

// keyPath is where the gateway publishes its approval public key.
const keyPath = "/.well-known/mlflow-guard/approval-key.pem"

// fetchKey reads the gateway's published key and prints its fingerprint,
// so the operator can compare it with the one the gateway's admin gave
// out (or pin it with --public-key next time).
func fetchKey(ctx context.Context, env Env, c *mlflowapi.Client) ([]ed25519.PublicKey, int) {
	url := c.URL(keyPath, nil)
	resp, err := c.Raw(ctx, http.MethodGet, keyPath, nil, nil, nil, false)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard pull: fetching the approval key from %s: %v\n", url, err)
		return nil, ExitFailed
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard pull: fetching the approval key from %s: %v\n", url, err)
		return nil, ExitFailed
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "mlflow-guard pull: no approval key at %s (HTTP %d): is the server an mlflow-guard gateway? Pass the gateway's key with --public-key FILE\n", url, resp.StatusCode)
		return nil, ExitUsage
	}
	keys, err := approval.ParsePublicKeys(body)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard pull: the approval key at %s: %v\n", url, err)
		return nil, ExitUsage
	}
	for _, k := range keys {
		fmt.Fprintf(env.Stderr, "mlflow-guard pull: trusting approval key %s fetched from %s (pin it with --public-key FILE)\n", approval.Fingerprint(k), url)
	}
	return keys, ExitOK
}
