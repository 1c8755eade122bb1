// Command mlflow-guard enforces the MLflow security rules: scan, audit, rules.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
