package cli

import (
	"context"
	"fmt"
)

// runScan is a placeholder until the scan command lands.
func runScan(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard scan: not available in this build yet")
	return ExitUsage
}
