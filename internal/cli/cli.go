// Package cli implements the mlflow-guard commands, flags and exit codes.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
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
		{"pull", "download an approved model version, verified and scanned, for deployment", runPull},
		{"serve", "authenticating, authorizing gateway in front of an MLflow server", runServe},
		{"users", "manage gateway users (create, list, disable, passwd)", runAdmin("users", usersCommands())},
		{"tokens", "manage API tokens (create, list, revoke)", runAdmin("tokens", tokensCommands())},
		{"groups", "manage groups (create, add, remove, list)", runAdmin("groups", groupsCommands())},
		{"grants", "manage permissions (add, remove, list)", runAdmin("grants", grantsCommands())},
		{"auditlog", "check or export the gateway audit log (verify, export)", runAdmin("auditlog", auditlogCommands())},
		{"approvals", "four-eyes approvals through the gateway (request, approve, reject, list)", runGroup("approvals", approvalsDesc, approvalsCommands())},
		{"keys", "the gateway's approval signing key (public, rotate)", runGroup("keys", keysDesc, keysCommands())},
		{"version", "print the version", runVersion},
	}
}

// Run is the whole program; main only calls it.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "mlflow-guard: missing command")
		fmt.Fprintln(env.Stderr)
		writeMainHelp(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		if len(args) > 1 {
			return mainUsageError(env, "unexpected argument %q after %s", args[1], args[0])
		}
		writeMainHelp(env.Stdout)
		return ExitOK
	case "-V", "--version", "-version":
		return runVersion(ctx, env, args[1:])
	case "help":
		return runHelp(ctx, env, args[1:])
	}
	if c, ok := lookupCommand(args[0]); ok {
		return c.run(ctx, env, args[1:])
	}
	return mainUsageError(env, "unknown command %q", args[0])
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func mainUsageError(env Env, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "mlflow-guard: %s\n\n", fmt.Sprintf(format, a...))
	writeMainHelp(env.Stderr)
	return ExitUsage
}

// mainFlags are the flags that stand in for a command.
func mainFlags() *flag.FlagSet {
	fs := newFlagSet("mlflow-guard")
	var version bool
	fs.BoolVar(&version, "V", false, "print the version (same as the version command)")
	fs.BoolVar(&version, "version", false, "print the version (same as the version command)")
	return fs
}

func writeMainHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString("Commands:\n")
	width := len("help")
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "help", "print the help of a command")
	b.WriteString("\nRun 'mlflow-guard help COMMAND' (or 'mlflow-guard COMMAND -h') for a command's flags.")
	WriteHelp(w, mainFlags(), Help{Usage: "mlflow-guard COMMAND [flags] [arguments]", Description: b.String()})
}

// runHelp prints the help of the command named, on stdout.
func runHelp(ctx context.Context, env Env, args []string) int {
	switch len(args) {
	case 0:
		writeMainHelp(env.Stdout)
		return ExitOK
	case 1:
	default:
		return mainUsageError(env, "help takes one command, got %d arguments", len(args))
	}
	if args[0] == "help" {
		writeMainHelp(env.Stdout)
		return ExitOK
	}
	c, ok := lookupCommand(args[0])
	if !ok {
		return mainUsageError(env, "help: unknown command %q", args[0])
	}
	return c.run(ctx, env, []string{"-h"})
}

var versionHelp = Help{Usage: "mlflow-guard version", Description: "Prints the version. -V and --version do the same."}

func runVersion(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("version")
	rest, code, done := parseFlags(env, fs, versionHelp, args)
	if done {
		return code
	}
	if len(rest) > 0 {
		return usageError(env, fs, versionHelp, "unexpected argument %q", rest[0])
	}
	fmt.Fprintln(env.Stdout, "mlflow-guard", Version)
	return ExitOK
}
