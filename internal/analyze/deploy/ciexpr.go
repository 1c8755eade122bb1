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
