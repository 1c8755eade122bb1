package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShellNesting: the pre-scan sees nesting through quotes, heredocs,
// case patterns and arithmetic, the ways a script could hide it.
func TestShellNesting(t *testing.T) {
	d := maxShellDepth + 1
	deep := map[string]string{
		"subst":             strings.Repeat("$(", d) + strings.Repeat(")", d),
		"quoted subst":      strings.Repeat(`"$(`, d) + strings.Repeat(`)"`, d),
		"backticks in dq":   strings.Repeat("\"`echo $(", d/2+1),
		"params":            strings.Repeat("${A:-", d),
		"case patterns":     strings.Repeat("$(case x in a) ", d),
		"closers in quotes": strings.Repeat(`$( ")" `, d),
		"closers escaped":   strings.Repeat(`$( \) `, d),
		"closers commented": strings.Repeat("$( # )\n", d),
		"after a heredoc":   "cat <<'EOF'\n'\nEOF\n" + strings.Repeat("{ ", d),
		"in a heredoc":      "cat <<EOF\n" + strings.Repeat("$(", d) + "\nEOF\n",
		"after a shift":     "echo $((1<<2))\n" + strings.Repeat("( ", d),
		"if blocks":         strings.Repeat("if true; then ", d),
		"while loops":       strings.Repeat("while true; do ", d),
		"arith parens":      "echo $((" + strings.Repeat("(", d),
	}
	for name, src := range deep {
		if shellNesting(src) == 0 {
			t.Errorf("%s: nesting not seen", name)
		}
	}
	shallow := map[string]string{
		"quoted parens":  strings.Repeat(`echo "((((" '{{{{' \( ;`, 100),
		"quoted heredoc": "cat <<'EOF'\n" + strings.Repeat("$(", d) + "\nEOF\n",
		"case":           strings.Repeat("case $x in a) echo ;; (b) echo ;; esac\n", 300),
		"words":          strings.Repeat("echo if for while case\n", 300),
	}
	for name, src := range shallow {
		if l := shellNesting(src); l != 0 {
			t.Errorf("%s: limit reported at line %d", name, l)
		}
	}
	// every shell fixture passes
	files, _ := filepath.Glob("testdata/src/*/*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil || detect(p, b) != kShell {
			continue
		}
		if l := shellNesting(string(b)); l != 0 {
			t.Errorf("%s: limit reported at line %d", p, l)
		}
	}
}
