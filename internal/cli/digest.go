package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// digestHelp is the text above digest's flags.
var digestHelp = Help{
	Usage: "mlflow-guard digest [-o FILE] DIR",
	Description: `Writes a SHA-256 manifest of every file under the model directory DIR.
Check it later with: mlflow-guard scan --verify FILE DIR`,
}

// runDigest writes a SHA-256 manifest of a model directory, to stdout or
// to -o FILE (a manifest written inside DIR does not list itself).
func runDigest(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("digest")
	out := fs.String("o", "", "write the manifest to `FILE` instead of stdout (a manifest inside DIR does not list itself)")
	rest, code, done := parseFlags(env, fs, digestHelp, args)
	if done {
		return code
	}
	switch {
	case len(rest) == 0:
		return usageError(env, fs, digestHelp, "missing DIR")
	case len(rest) > 1:
		return usageError(env, fs, digestHelp, "takes one DIR, got %d arguments", len(rest))
	}
	dir := rest[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(env.Stderr, "mlflow-guard digest: %s is not a directory\n", dir)
		return ExitUsage
	}
	sums, err := model.Digest(ctx, dir, *out)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard digest: %v\n", err)
		return ExitFailed
	}
	var w io.Writer = env.Stdout
	if *out != "" {
		// Through a temp file in the same directory; never over a link, a
		// device or a directory.
		if err := safeio.WriteFile(*out, func(f io.Writer) error { return model.WriteManifest(f, sums) }); err != nil {
			fmt.Fprintf(env.Stderr, "mlflow-guard digest: %v\n", err)
			return ExitFailed
		}
		fmt.Fprintf(env.Stderr, "mlflow-guard digest: %d files recorded in %s\n", len(sums), *out)
		return ExitOK
	}
	if err := model.WriteManifest(w, sums); err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard digest: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}
