package python

import "strings"

// vars(args) logs every command-line option at once. That is a dump of
// secrets (MLG202) only when some option is one: an argparse add_argument,
// click.option or typer.Option whose name, dest or help names a secret.

// optionCallSuffixes end the callee text of option declarations.
var optionCallSuffixes = []string{"add_argument", ".option", ".Option", ".argument", ".Argument"}

// cliSecretOption reports whether the file declares a command-line option
// that looks secret. Files that declare no options at all (args built
// elsewhere) are assumed to, so the dump is still reported.
func (f *fileCtx) cliSecretOption(root *node) bool {
	tx := f.s.text
	declared, secret := false, false
	walk(root, func(n *node) bool {
		if secret {
			return false
		}
		if n.kind != "call" {
			return true
		}
		fn := tx(n.child("function"))
		hit := false
		for _, s := range optionCallSuffixes {
			if strings.HasSuffix(fn, s) || fn == strings.TrimPrefix(s, ".") {
				hit = true
				break
			}
		}
		if !hit {
			return true
		}
		declared = true
		walk(n.child("arguments"), func(a *node) bool {
			if a.kind != "string_content" {
				return true
			}
			for _, w := range strings.FieldsFunc(tx(a), func(r rune) bool {
				return r == ' ' || r == '-' || r == ',' || r == '.' || r == '(' || r == ')' || r == ':'
			}) {
				if f.sec.SensitiveKey(w) {
					secret = true
				}
			}
			if f.sec.SensitiveKey(strings.TrimLeft(tx(a), "-")) {
				secret = true
			}
			return !secret
		})
		return true
	})
	return secret || !declared
}

// parsedArgsNames are what code calls parse_args() results when they reach
// a function as a parameter (main(args)).
var parsedArgsNames = map[string]bool{"args": true, "opts": true, "options": true, "parsed_args": true, "cli_args": true}

func parsedArgsName(from []string) bool {
	return len(from) == 1 && parsedArgsNames[from[0]]
}
