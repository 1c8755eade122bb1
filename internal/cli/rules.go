package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// runRules prints the catalog, or the rules named as arguments (IDs or
// names), as text, markdown or json.
func runRules(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	format := fs.String("format", "text", "output format: "+strings.Join(report.CatalogFormats, ", "))
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: mlflow-guard rules [--format text|markdown|json] [RULE...]")
		fs.PrintDefaults()
	}
	names, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		return ExitUsage
	}
	ix := rules.NewIndex()
	rs := ix.All()
	if len(names) > 0 {
		rs = nil
		for _, n := range names {
			r, ok := ix.Lookup(n)
			if !ok {
				fmt.Fprintf(env.Stderr, "mlflow-guard rules: unknown rule %q\n", n)
				return ExitUsage
			}
			rs = append(rs, r)
		}
	}
	if err := report.WriteCatalog(env.Stdout, *format, rs); err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard rules: %v\n", err)
		if strings.Contains(err.Error(), "unknown catalog format") {
			return ExitUsage
		}
		return ExitFailed
	}
	return ExitOK
}
