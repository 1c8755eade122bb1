package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// rulesHelp is the text above rules' flags.
var rulesHelp = Help{
	Usage: "mlflow-guard rules [--format text|markdown|json] [RULE...]",
	Description: `Without RULE, prints the catalog as a table. With RULE (an ID such as MLG102
or a name such as unsafe-deserialization), prints each rule in full: why it
matters, what is reported, the fix, do and don't examples and how to
suppress it.`,
}

// runRules prints the catalog, or the rules named as arguments (IDs or
// names), as text, markdown or json.
func runRules(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("rules")
	format := fs.String("format", "text", "output `FORMAT`: "+strings.Join(report.CatalogFormats, ", "))
	names, code, done := parseFlags(env, fs, rulesHelp, args)
	if done {
		return code
	}
	ix := rules.NewIndex()
	rs := ix.All()
	if len(names) > 0 {
		rs = nil
		for _, n := range names {
			r, ok := ix.Lookup(n)
			if !ok {
				return usageError(env, fs, rulesHelp, "unknown rule %q (see mlflow-guard rules)", n)
			}
			rs = append(rs, r)
		}
	}
	write := report.WriteCatalog
	if len(names) > 0 {
		write = report.WriteRules
	}
	if err := write(env.Stdout, *format, rs); err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard rules: %v\n", err)
		if strings.Contains(err.Error(), "unknown catalog format") {
			return ExitUsage
		}
		return ExitFailed
	}
	return ExitOK
}
