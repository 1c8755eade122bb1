package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Help is what a command's -h prints above its flags: one usage line and
// a description (free text, may hold several lines).
type Help struct {
	Usage       string // "mlflow-guard scan [flags] [PATH...]"
	Description string
}

// newFlagSet returns a flag set for a command whose help and errors are
// printed by parseFlags, not by the flag package.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments (flags may follow positionals).
// When it returns done, the command must return code at once:
//   - -h/--help: the help on stdout, ExitOK;
//   - a bad flag: the problem and the help on stderr, ExitUsage.
//
// Commands that take a fixed number of positionals call argsError next.
func parseFlags(env Env, fs *flag.FlagSet, h Help, args []string) (pos []string, code int, done bool) {
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		WriteHelp(env.Stdout, fs, h)
		return nil, ExitOK, true
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "mlflow-guard %s: %v\n\n", fs.Name(), err)
		WriteHelp(env.Stderr, fs, h)
		return nil, ExitUsage, true
	}
	return pos, ExitOK, false
}

// usageError prints a problem with the command line and then the help, on
// stderr, and returns ExitUsage.
func usageError(env Env, fs *flag.FlagSet, h Help, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "mlflow-guard %s: %s\n\n", fs.Name(), fmt.Sprintf(format, a...))
	WriteHelp(env.Stderr, fs, h)
	return ExitUsage
}

// helpWidth is where descriptions are wrapped; helpColumn is where they
// start when the flag name is short enough.
const (
	helpWidth  = 80
	helpColumn = 26
)

// WriteHelp renders a command's help: the usage line, the description and
// every flag once under "Flags:". Flags that share one variable (-q and
// --quiet) are one entry; one-letter names get "-", longer names "--".
func WriteHelp(w io.Writer, fs *flag.FlagSet, h Help) {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n", h.Usage)
	if d := strings.TrimSpace(h.Description); d != "" {
		fmt.Fprintf(&b, "\n%s\n", d)
	}
	entries := helpEntries(fs)
	b.WriteString("\nFlags:\n")
	for _, e := range entries {
		left := "  " + e.names
		if len(left) >= helpColumn-1 {
			b.WriteString(left + "\n")
			left = ""
		}
		pad := strings.Repeat(" ", helpColumn-len(left))
		for i, line := range wrap(e.usage, helpWidth-helpColumn) {
			if i == 0 {
				b.WriteString(left + pad + line + "\n")
			} else {
				b.WriteString(strings.Repeat(" ", helpColumn) + line + "\n")
			}
		}
	}
	// -h is handled by the flag package itself, so it is listed here.
	fmt.Fprintf(&b, "  %-*s%s\n", helpColumn-2, "-h, --help", "print this help")
	io.WriteString(w, b.String())
}

type helpEntry struct{ names, usage string }

// helpEntries groups the flags by the variable they set, in the order of
// their first name, and renders each group's names and usage.
func helpEntries(fs *flag.FlagSet) []helpEntry {
	type group struct {
		flags []*flag.Flag
	}
	var groups []*group
	byValue := map[any]*group{}
	fs.VisitAll(func(f *flag.Flag) {
		key := valueKey(f.Value)
		if g, ok := byValue[key]; ok && key != nil {
			g.flags = append(g.flags, f)
			return
		}
		g := &group{flags: []*flag.Flag{f}}
		groups = append(groups, g)
		if key != nil {
			byValue[key] = g
		}
	})
	out := make([]helpEntry, 0, len(groups))
	for _, g := range groups {
		// Short names first: "-q, --quiet".
		fl := g.flags
		for i := 1; i < len(fl); i++ {
			for j := i; j > 0 && len(fl[j].Name) < len(fl[j-1].Name); j-- {
				fl[j], fl[j-1] = fl[j-1], fl[j]
			}
		}
		placeholder, usage := flag.UnquoteUsage(fl[0])
		placeholder = helpPlaceholder(fl[0], placeholder)
		names := make([]string, len(fl))
		for i, f := range fl {
			names[i] = dashes(f.Name) + f.Name
		}
		n := strings.Join(names, ", ")
		if placeholder != "" {
			n += " " + placeholder
		}
		if d := fl[0].DefValue; showDefault(fl[0], d) && !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		out = append(out, helpEntry{names: n, usage: usage})
	}
	return out
}

// valueKey identifies the variable behind a flag.Value: two flags defined
// on the same variable hold pointers to the same address.
func valueKey(v flag.Value) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil
	}
	return rv.Pointer()
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-"
	}
	return "--"
}

// helpPlaceholder turns the flag package's type names into upper-case
// placeholders; bool flags take none.
func helpPlaceholder(f *flag.Flag, name string) string {
	if isBool(f) {
		return ""
	}
	switch name {
	case "", "value", "string":
		return "VALUE"
	case "int", "uint", "int64", "uint64":
		return "N"
	case "duration":
		return "DURATION"
	}
	return strings.ToUpper(name)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// showDefault: zero values and empty strings say nothing.
func showDefault(f *flag.Flag, d string) bool {
	switch d {
	case "", "0", "false", "0s", "[]":
		return false
	}
	return !isBool(f) || d != "false"
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}
