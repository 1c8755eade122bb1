package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// runDigest writes a SHA-256 manifest of a model directory, to stdout or
// to -o FILE (a manifest written inside DIR does not list itself).
func runDigest(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	out := fs.String("o", "", "write the manifest to `FILE` instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: mlflow-guard digest [-o FILE] DIR")
		fmt.Fprintln(env.Stderr, "Check it later with: mlflow-guard scan --verify FILE DIR")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		return ExitUsage
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
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
