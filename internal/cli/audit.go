package cli

import (
	"context"
	"fmt"
)

// runAudit is a placeholder until the audit command lands.
func runAudit(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard audit: not available in this build yet")
	return ExitUsage
}
