package deploy

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// neutralizeCIExprs rewrites each single-line CI template expression
// ("${{ inputs.host }}" in GitHub Actions and Azure Pipelines) into a shell
// parameter expansion of the same length ("${_____________}"), so the shell
// parser reads an unknown value where the CI runner substitutes one, and
// every position in the line stays where it was. "${{" is not valid shell,
// so no real shell text changes meaning.
func neutralizeCIExprs(src string) string {
	if !strings.Contains(src, "${{") {
		return src
	}
	b := []byte(src)
	for i := 0; i+3 <= len(b); i++ {
		if b[i] != '$' || b[i+1] != '{' || b[i+2] != '{' {
			continue
		}
		end := strings.Index(string(b[i:]), "}}")
		if end < 0 {
			break
		}
		end += i + 2 // one past the closing braces
		if strings.ContainsAny(string(b[i:end]), "\n\r") {
			i += 2
			continue
		}
		b[i+1] = '{'
		for k := i + 2; k < end-1; k++ {
			b[k] = '_'
		}
		b[end-1] = '}'
		i = end - 1
	}
	return string(b)
}

// nonPOSIXShell reports a CI step whose "shell:" runs its script with an
// interpreter other than a POSIX shell (python, pwsh, cmd, node).
func nonPOSIXShell(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	f := strings.Fields(n.Value)
	if len(f) == 0 {
		return false
	}
	switch path.Base(f[0]) {
	case "bash", "sh", "dash", "zsh", "ash", "ksh":
		return false
	}
	return true
}

// dotenvMultiline joins a quoted .env value that continues on the next
// lines (docker compose and python-dotenv accept them). It returns the index
// of the closing line and the whole quoted value; ok is false when the value
// closes on its own line or never closes (then it is judged as written).
func dotenvMultiline(value string, lines []string, i int) (end int, joined string, ok bool) {
	if value == "" || value[0] != '"' && value[0] != '\'' {
		return 0, "", false
	}
	q := value[0]
	if closes(value[1:], q) {
		return 0, "", false
	}
	var b strings.Builder
	b.WriteString(value)
	for k := i + 1; k < len(lines) && k < i+maxDotenvValueLines; k++ {
		l := strings.TrimRight(lines[k], "\r")
		b.WriteByte('\n')
		b.WriteString(l)
		if closes(l, q) {
			return k, strings.TrimSpace(b.String()), true
		}
	}
	return 0, "", false
}

// maxDotenvValueLines bounds how far a multi-line value is followed.
const maxDotenvValueLines = 1000

// closes reports whether s holds the closing quote q (a '"' may be escaped).
func closes(s string, q byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && q == '"' {
			i++
			continue
		}
		if s[i] == q {
			return true
		}
	}
	return false
}
