package cli

import (
	"context"
	"fmt"
)

// runDigest is a placeholder until the digest command lands.
func runDigest(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard digest: not available in this build yet")
	return ExitUsage
}
