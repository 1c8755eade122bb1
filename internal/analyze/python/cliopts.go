package python

import (
	"regexp"
	"strings"
)

// vars(args) logs every command-line option at once. That is a dump of
// secrets (MLG202) only when some option is one: an argparse add_argument,
// click.option or typer.Option whose name, dest or help names a secret.

// optionCallRe finds option declarations. The raw file is searched, not the
// tree: the slicer drops definitions such as create_args() that hold no sink.
var optionCallRe = regexp.MustCompile(`(?:add_argument|\.option|\.Option|\.argument|\.Argument)\s*\(`)

// quotedRe is a short string literal inside a declaration.
var quotedRe = regexp.MustCompile(`"([^"\n]{0,200})"|'([^'\n]{0,200})'`)

// maxOptionDecl bounds how much text after "add_argument(" is read.
const maxOptionDecl = 600

// cliSecretOption reports whether the file declares a command-line option
// that looks secret. Files that declare no options at all (args built
// elsewhere) are assumed to, so the dump is still reported.
func (f *fileCtx) cliSecretOption(src []byte) bool {
	locs := optionCallRe.FindAllIndex(src, -1)
	if len(locs) == 0 {
		return true
	}
	for _, l := range locs {
		end := min(len(src), l[1]+maxOptionDecl)
		decl := src[l[1]:end]
		if i := closingParen(decl); i >= 0 {
			decl = decl[:i]
		}
		for _, m := range quotedRe.FindAllSubmatch(decl, -1) {
			s := string(m[1]) + string(m[2])
			if f.sec.SensitiveKey(strings.TrimLeft(s, "-")) {
				return true
			}
			for _, w := range strings.FieldsFunc(s, func(r rune) bool {
				return r == ' ' || r == '-' || r == ',' || r == '.' || r == '(' || r == ')' || r == ':'
			}) {
				if f.sec.SensitiveKey(w) {
					return true
				}
			}
		}
	}
	return false
}

// closingParen is the index of the ")" closing a call whose "(" came just
// before b, or -1 (quotes are skipped roughly; the window is bounded anyway).
func closingParen(b []byte) int {
	depth := 0
	var q byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// parsedArgsNames are what code calls parse_args() results when they reach
// a function as a parameter (main(args)).
var parsedArgsNames = map[string]bool{"args": true, "opts": true, "options": true, "parsed_args": true, "cli_args": true}

func parsedArgsName(from []string) bool {
	return len(from) == 1 && parsedArgsNames[from[0]]
}
