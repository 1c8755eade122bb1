package cli

import (
	"context"
	"fmt"
)

func runServe(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard serve: not built yet")
	return ExitFailed
}
