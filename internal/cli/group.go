package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// subcommand is one "GROUP VERB" of a command group.
type subcommand struct {
	verb, usage, desc string
	min, max          int // positional argument count
	// flags registers the verb's flags and returns what runs it on the
	// positional arguments once they are parsed and counted.
	flags func(fs *flag.FlagSet) func(ctx context.Context, env Env, args []string) int
}

// commandGroup is a "GROUP VERB ARGS..." command: approvals and keys, and
// (through runAdmin) the store admin groups.
type commandGroup struct {
	name, desc string
	// helpFlags are shown in the group's own help besides -h.
	helpFlags func(fs *flag.FlagSet)
	// usageSuffix ends each verb's usage line (not the group's list).
	usageSuffix string
	cmds        []subcommand
}

// runGroup dispatches "GROUP VERB ARGS..." for a group whose verbs need no
// store (approvals, keys).
func runGroup(group, desc string, cmds []subcommand) func(ctx context.Context, env Env, args []string) int {
	return commandGroup{name: group, desc: desc, cmds: cmds}.run
}

func (g commandGroup) help(w io.Writer) {
	fs := newFlagSet(g.name)
	if g.helpFlags != nil {
		g.helpFlags(fs)
	}
	var b strings.Builder
	if g.desc != "" {
		b.WriteString(g.desc + "\n\n")
	}
	b.WriteString("Subcommands:\n")
	for _, c := range g.cmds {
		fmt.Fprintf(&b, "  mlflow-guard %s %s %s\n", g.name, c.verb, c.usage)
	}
	fmt.Fprintf(&b, "\nRun 'mlflow-guard %s SUBCOMMAND -h' for a subcommand's flags.", g.name)
	WriteHelp(w, fs, Help{Usage: "mlflow-guard " + g.name + " SUBCOMMAND [flags] [ARGS]", Description: b.String()})
}

func (g commandGroup) run(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "mlflow-guard %s: missing subcommand\n\n", g.name)
		g.help(env.Stderr)
		return ExitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		g.help(env.Stdout)
		return ExitOK
	}
	for _, c := range g.cmds {
		if c.verb != args[0] {
			continue
		}
		fs := newFlagSet(g.name + " " + c.verb)
		run := c.flags(fs)
		h := Help{Usage: fmt.Sprintf("mlflow-guard %s %s %s%s", g.name, c.verb, c.usage, g.usageSuffix), Description: c.desc}
		pos, code, done := parseFlags(env, fs, h, args[1:])
		if done {
			return code
		}
		if len(pos) < c.min || len(pos) > c.max {
			return usageError(env, fs, h, "takes %d to %d arguments, got %d", c.min, c.max, len(pos))
		}
		return run(ctx, env, pos)
	}
	fmt.Fprintf(env.Stderr, "mlflow-guard %s: unknown subcommand %q\n\n", g.name, args[0])
	g.help(env.Stderr)
	return ExitUsage
}
