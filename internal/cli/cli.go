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

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "0.1.0-dev"

// Env is what a command gets from the process: streams and arguments.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads environment variables (os.Getenv in main, a map in tests).
	Getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) int
}

func commands() []command {
	return []command{
		{"scan", "scan Python code, deployment config and model files", runScan},
		{"audit", "read-only security audit of a live MLflow server", runAudit},
		{"rules", "print the rule catalog", runRules},
		{"digest", "write a SHA-256 manifest of a model directory", runDigest},
		{"serve", "authenticating, authorizing gateway in front of an MLflow server", runServe},
		{"users", "manage gateway users (create, list, disable, passwd)", runAdmin("users", usersCommands())},
		{"tokens", "manage API tokens (create, list, revoke)", runAdmin("tokens", tokensCommands())},
		{"groups", "manage groups (create, add, remove, list)", runAdmin("groups", groupsCommands())},
		{"grants", "manage permissions (add, remove, list)", runAdmin("grants", grantsCommands())},
		{"auditlog", "check or export the gateway audit log (verify, export)", runAdmin("auditlog", auditlogCommands())},
		{"version", "print the version", runVersion},
	}
}

// Run is the whole program; main only calls it.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "mlflow-guard: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mlflow-guard <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mlflow-guard <command> -h' for a command's flags.")
}

func runVersion(ctx context.Context, env Env, args []string) int {
	fmt.Fprintln(env.Stdout, "mlflow-guard", Version)
	return ExitOK
}
