// Package cli implements the mlflow-guard commands, flags and exit codes.
package cli

import (
	"context"
	"fmt"
	"io"
)

// Exit codes of scan and audit (rules.md).
const (
	ExitOK       = 0 // nothing at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // usage or config error
	ExitFailed   = 3 // the scan itself failed
)

// Run is the whole program; main only calls it.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: mlflow-guard <scan|audit|rules|digest|version> [flags]")
		return ExitUsage
	}
	fmt.Fprintf(stderr, "mlflow-guard: unknown command %q\n", args[0])
	return ExitUsage
}
