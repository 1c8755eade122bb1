// Command mlflow-guard enforces the MLflow security rules: scan, audit, rules.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// a scan makes many short-lived syntax trees: collecting at 3x the
		// live heap instead of 2x costs about 15 MB and a fifth of the CPU
		debug.SetGCPercent(200)
	}
	// A closed pipe on stdout must be a write error the command reports
	// (exit 3), not a silent death by SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	// The first SIGINT or SIGTERM cancels the context: the command stops
	// its work and writes what it has, marked incomplete (exit 3). Once
	// that happened the handler is removed, so a second signal kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
