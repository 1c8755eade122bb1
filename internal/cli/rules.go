package cli

import (
	"context"
	"fmt"
)

// runRules is a placeholder until the rules command lands.
func runRules(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard rules: not available in this build yet")
	return ExitUsage
}
